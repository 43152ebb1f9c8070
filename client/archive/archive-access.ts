/**
 * The ArchiveReader's access to AWS: clients, the archive's metadata, the topics-table lookup and
 * reads of segment objects. Loaded by the reader on first use (a dynamic import), so importing
 * the SDK does not load the AWS SDK for applications that never replay. Loopback credentials are
 * handled as broker/cluster/aws-config.ts does (the SDK cannot import the broker).
 */
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { createS3Client } from '../../archive/archive-objects.js';
import type { ArchiveHead, RemoteSegment } from '../../archive/remote-segment.js';
import {
  type ArchiveEndpoints,
  archiveTableName,
  resolveEndpoints,
  topicsTableName,
} from './archive-settings.js';
import { NoSuchObjectError } from './errors.js';

/** What the reader needs from AWS. */
export interface ArchiveBackend {
  /** The topic as the topics table has it now (see readCurrentTopic). */
  currentTopic(topic: string): Promise<CurrentTopic | null | 'unavailable'>;
  head(topicId: string, partition: number): Promise<ArchiveHead | null>;
  /** Every partition's head (a scan of the archive table). */
  heads(): Promise<ArchiveHead[]>;
  segments(topicId: string, partition: number, fromOffset: number): Promise<RemoteSegment[]>;
  /** Bytes [start, end) of an object, or all of it without `range`. */
  get(key: string, range?: { start: number; end: number }, signal?: AbortSignal): Promise<Buffer>;
  /** Destroys the clients the backend created. */
  destroy(): void;
}

export interface BackendSettings extends ArchiveEndpoints {
  tablePrefix: string;
  bucket: string;
  s3Client?: S3Client;
  dynamoDbClient?: DynamoDBDocumentClient;
}

export function openBackend(settings: BackendSettings): ArchiveBackend {
  const endpoints = resolveEndpoints(settings);
  const s3 =
    settings.s3Client ?? createS3Client({ region: endpoints.region, endpoint: endpoints.s3Endpoint });
  const dynamo = settings.dynamoDbClient ?? createDynamoClient(endpoints.region, endpoints.dynamoDbEndpoint);
  const metadata = new ArchiveMetadataStore(dynamo, archiveTableName(settings.tablePrefix));
  return {
    currentTopic: (topic) => readCurrentTopic(dynamo, settings.tablePrefix, topic),
    head: (topicId, partition) => metadata.head(topicId, partition),
    heads: () => metadata.heads(),
    segments: (topicId, partition, fromOffset) => metadata.segments(topicId, partition, fromOffset),
    get: (key, range, signal) => getObject(s3, settings.bucket, key, range, signal),
    destroy: () => {
      if (!settings.s3Client) s3.destroy();
      if (!settings.dynamoDbClient) dynamo.destroy();
    },
  };
}

function isLoopback(endpoint: string | undefined): boolean {
  return endpoint !== undefined && /^https?:\/\/(127\.|localhost|\[::1\])/.test(endpoint);
}

/**
 * A DynamoDB document client. On a loopback endpoint without credentials in the environment it
 * uses dummy ones (DynamoDB Local accepts any); elsewhere the SDK's default provider chain.
 */
export function createDynamoClient(region: string, endpoint: string | undefined): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(isLoopback(endpoint) && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 5,
    requestHandler: { requestTimeout: 10_000, connectionTimeout: 2_000 },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export interface CurrentTopic {
  topicId: string;
  partitionCount: number;
}

/**
 * The topic as the topics table has it now, null if it has no such topic, or 'unavailable' when
 * the table cannot be read (missing, or the caller may read only the archive): the reader then
 * works from the archive alone.
 */
export async function readCurrentTopic(
  client: DynamoDBDocumentClient,
  prefix: string,
  topic: string,
): Promise<CurrentTopic | null | 'unavailable'> {
  try {
    const { Item } = await client.send(
      new GetCommand({
        TableName: topicsTableName(prefix),
        Key: { pk: topic, sk: 'topic' },
        ConsistentRead: true,
      }),
    );
    if (!Item) return null;
    return { topicId: String(Item.topicId), partitionCount: Number(Item.partitionCount) };
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'ResourceNotFoundException' || name === 'AccessDeniedException') return 'unavailable';
    throw error;
  }
}

/**
 * Bytes [start, end) of an object (fewer if it is shorter), or all of it without `range`;
 * abortable.
 */
export async function getObject(
  s3: S3Client,
  bucket: string,
  key: string,
  range?: { start: number; end: number },
  signal?: AbortSignal,
): Promise<Buffer> {
  if (range && range.end <= range.start) return Buffer.alloc(0);
  try {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        // Explicit ranges only: s3rver gets suffix ranges (bytes=-N) wrong.
        ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (!response.Body) return Buffer.alloc(0);
    const body: unknown = response.Body;
    if (range && body instanceof Readable) return await readInto(body, range.end - range.start);
    const bytes = await response.Body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') throw new NoSuchObjectError(key, { cause: error });
    // The range starts at or past the object's end: the object is shorter than asked for.
    if (name === 'InvalidRange') return Buffer.alloc(0);
    throw error;
  }
}

/**
 * Reads a Node response stream of a known maximum length straight into one buffer. The SDK's
 * collector keeps every chunk, then concatenates them into a new zero-filled array; in the replay
 * benchmark that took about a third of the reader's CPU time.
 */
async function readInto(body: Readable, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let filled = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    if (filled + bytes.length > length) {
      body.destroy();
      throw new RangeError(`response longer than the ${length} bytes asked for`);
    }
    bytes.copy(out, filled);
    filled += bytes.length;
  }
  return out.subarray(0, filled);
}
