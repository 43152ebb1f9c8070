/**
 * ArchiveReader: replays a topic straight from the S3 archive, with no broker involved (DESIGN.md,
 * "Tiering and the archive": bulk replay).
 *
 *   const reader = new ArchiveReader({ tablePrefix: 'spool', bucket: 'spool-archive', valueDeserializer: json() });
 *   for await (const batch of reader.replay({ topic: 'orders', from: { timestamp: Date.parse('2026-01-01') } }))
 *     for (const record of batch.records) handle(record); // in offset order within batch.partition
 *   reader.close();
 *
 * What is read: only segments committed in the archive's DynamoDB table (the rows say which
 * objects hold which offsets; the bucket is never listed), and only offsets at or above each
 * partition's log start offset. The archive's end (head.nextOffset) is read once, when the replay
 * is planned; segments committed later are not part of it. Records newer than the archive (still
 * only on the brokers) are not replayed: read those with a Consumer from where the replay ended.
 *
 * Bounds (see record-window.ts): `from` is inclusive and `to` exclusive, per partition, offsets or
 * timestamps, either independently. Without `from` the replay starts at the log start offset;
 * without `to` it ends at the archive's end.
 *
 * Which topic: a name may have been deleted and re-created, leaving archives under several topic
 * ids. The reader takes the id the topics table has for the name now; if that table has no such
 * topic (or cannot be read), the only id the archive has for the name, and an
 * AmbiguousArchiveTopicError if it has several. `topicId` picks one explicitly. A topic that
 * exists but has nothing archived yet replays nothing.
 *
 * Parallelism: segments are downloaded as ranged GETs of `partBytes`, `concurrency` at a time
 * across all partitions and segments, with at most `maxBufferedBytes` downloaded ahead of the
 * consumer. Each batch handed out holds records of one partition, and a partition's batches come
 * in offset order; batches of different partitions interleave. Every batch's CRC-32C is verified.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArchiveHead, RemoteSegment } from '../../archive/remote-segment.js';
import { ConfigError } from '../errors.js';
import { buffer, type Deserializer } from '../serializers.js';
import type { ArchiveBackend } from './archive-access.js';
import {
  ArchiveReplay,
  type PlannedPartition,
  type PlannedReplay,
  type ReplayProgress,
} from './archive-replay.js';
import type { ArchiveEndpoints } from './archive-settings.js';
import { AmbiguousArchiveTopicError, ArchiveTopicNotFoundError, NoSuchObjectError } from './errors.js';
import {
  indexesWanted,
  narrowRead,
  type ReplayBounds,
  type SegmentRead,
  selectSegments,
  windowBounds,
} from './replay-plan.js';

export interface ArchiveReaderOptions<K, V> extends ArchiveEndpoints {
  /** Prefix of the DynamoDB tables (`<prefix>-archive`, `<prefix>-topics`), as the brokers'. */
  tablePrefix: string;
  /** The archive's S3 bucket. */
  bucket: string;
  /** Default: Buffers as stored (views into downloaded parts; copy what you keep for long). */
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
  /** Ranged GETs in flight at once, across partitions and segments. Default 8. */
  concurrency?: number;
  /** Bytes per ranged GET. Default 8 MiB. */
  partBytes?: number;
  /** Bytes downloaded ahead of the consumer at most. Default 2 × concurrency × partBytes. */
  maxBufferedBytes?: number;
  /** Records per handed-out batch at most. Default 10 000. */
  maxBatchRecords?: number;
  /** Clients to use instead of creating them (they are then not destroyed by close()). */
  s3Client?: S3Client;
  dynamoDbClient?: DynamoDBDocumentClient;
}

export interface ReplayRequest extends ReplayBounds {
  topic: string;
  /** The topic incarnation to read; default: see the class comment. */
  topicId?: string;
  /** Only these partitions (a list, or an inclusive range). Default: every archived partition. */
  partitions?: readonly number[] | { first: number; last: number };
  /** Called after every downloaded part is processed. */
  onProgress?: (progress: ReplayProgress) => void;
}

const MIB = 1024 * 1024;

export class ArchiveReader<K = Buffer, V = Buffer> {
  /** Opened on first use: loading the AWS SDK waits until something is replayed. */
  private backend: Promise<ArchiveBackend> | undefined;
  private closed = false;
  private readonly concurrency: number;
  private readonly partBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly maxBatchRecords: number;

  constructor(private readonly options: ArchiveReaderOptions<K, V>) {
    this.concurrency = positive(options.concurrency ?? 8, 'concurrency');
    this.partBytes = positive(options.partBytes ?? 8 * MIB, 'partBytes');
    this.maxBufferedBytes = positive(
      options.maxBufferedBytes ?? 2 * this.concurrency * this.partBytes,
      'maxBufferedBytes',
    );
    this.maxBatchRecords = positive(options.maxBatchRecords ?? 10_000, 'maxBatchRecords');
  }

  /** A replay of `request.topic`: iterate it (once) for batches; `progress()` at any time. */
  replay(request: ReplayRequest): ArchiveReplay<K, V> {
    validate(request);
    return new ArchiveReplay<K, V>({
      plan: () => this.plan(request),
      fetch: async (key, start, end, signal) => (await this.open()).get(key, { start, end }, signal),
      keyDeserializer: this.options.keyDeserializer ?? (buffer as unknown as Deserializer<K>),
      valueDeserializer: this.options.valueDeserializer ?? (buffer as unknown as Deserializer<V>),
      concurrency: this.concurrency,
      partBytes: this.partBytes,
      maxBufferedBytes: this.maxBufferedBytes,
      maxBatchRecords: this.maxBatchRecords,
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
  }

  /** Destroys the AWS clients the reader created (once its replays are done). */
  close(): void {
    this.closed = true;
    void this.backend?.then((backend) => backend.destroy());
  }

  private open(): Promise<ArchiveBackend> {
    if (this.closed) return Promise.reject(new ConfigError('the ArchiveReader is closed'));
    this.backend ??= import('./archive-access.js').then((access) => access.openBackend(this.options));
    return this.backend;
  }

  private async plan(request: ReplayRequest): Promise<PlannedReplay> {
    const { topicId, heads } = await this.resolveHeads(request);
    const wanted = partitionFilter(request.partitions);
    const selected = heads.filter((h) => wanted(h.partition)).sort((a, b) => a.partition - b.partition);
    const partitions = await mapLimit(selected, this.concurrency, (head) =>
      this.planPartition(head, request),
    );
    return { topic: request.topic, topicId, partitions };
  }

  /** The archive heads of the topic incarnation to read. */
  private async resolveHeads(request: ReplayRequest): Promise<{ topicId: string; heads: ArchiveHead[] }> {
    const backend = await this.open();
    const current = await backend.currentTopic(request.topic);
    const currentId = current !== null && current !== 'unavailable' ? current : undefined;
    if (currentId && (request.topicId === undefined || request.topicId === currentId.topicId)) {
      // The topic exists: read its partitions' heads directly instead of scanning the table.
      const partitions = Array.from({ length: currentId.partitionCount }, (_, p) => p).filter(
        partitionFilter(request.partitions),
      );
      const heads = await mapLimit(partitions, this.concurrency, (p) => backend.head(currentId.topicId, p));
      return { topicId: currentId.topicId, heads: heads.filter((h): h is ArchiveHead => h !== null) };
    }
    // A deleted topic, an older incarnation, or no access to the topics table: scan the heads.
    const named = (await backend.heads()).filter((h) =>
      request.topicId === undefined ? h.topic === request.topic : h.topicId === request.topicId,
    );
    const ids = [...new Set(named.map((h) => h.topicId))].sort();
    if (ids.length === 0) throw new ArchiveTopicNotFoundError(request.topic, request.topicId);
    if (ids.length > 1) throw new AmbiguousArchiveTopicError(request.topic, ids);
    return { topicId: ids[0]!, heads: named };
  }

  private async planPartition(head: ArchiveHead, request: ReplayRequest): Promise<PlannedPartition> {
    const window = windowBounds(head, request);
    const segments: RemoteSegment[] =
      window.startOffset < window.endOffset
        ? await (await this.open()).segments(head.topicId, head.partition, window.startOffset)
        : [];
    const reads = await Promise.all(
      selectSegments(segments, window).map(async (read, i, all) => {
        // Only the first and last reads can start or end inside their segment (the overlap of a
        // leader change aside, which is rare and costs one extra segment read at most).
        if (i !== 0 && i !== all.length - 1) return read;
        const wanted = indexesWanted(read, window);
        if (!wanted.index) return read;
        const [index, timeindex] = await Promise.all([
          this.indexObject(read, 'index'),
          wanted.timeindex ? this.indexObject(read, 'timeindex') : undefined,
        ]);
        return narrowRead(read, window, { ...(index ? { index } : {}), ...(timeindex ? { timeindex } : {}) });
      }),
    );
    return { partition: head.partition, logStartOffset: head.logStartOffset, window, reads };
  }

  /** An index object, or undefined when it is missing (indexes only narrow reads). */
  private async indexObject(read: SegmentRead, kind: 'index' | 'timeindex'): Promise<Buffer | undefined> {
    const key = read.segment.keys[kind];
    try {
      // Small by construction (an entry per indexIntervalBytes of log): read whole.
      return await (await this.open()).get(key);
    } catch (error) {
      if (error instanceof NoSuchObjectError) return undefined;
      throw error;
    }
  }
}

function positive(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${option} must be a positive integer`, option);
  return value;
}

function validate(request: ReplayRequest): void {
  if (!request.topic) throw new ConfigError('a replay needs a topic', 'topic');
  for (const [name, bound] of [
    ['from', request.from],
    ['to', request.to],
  ] as const) {
    if (bound === undefined) continue;
    const value = 'offset' in bound ? bound.offset : bound.timestamp;
    if (!Number.isSafeInteger(value) || ('offset' in bound && value < 0))
      throw new ConfigError(`${name} must be a non-negative offset or a timestamp in ms`, name);
  }
  const { from, to } = request;
  if (from && to && 'timestamp' in from && 'timestamp' in to && from.timestamp >= to.timestamp)
    throw new ConfigError('from.timestamp must be before to.timestamp', 'to');
  const partitions = request.partitions;
  if (partitions && !Array.isArray(partitions)) {
    const range = partitions as { first: number; last: number };
    if (!(Number.isInteger(range.first) && range.first >= 0 && range.last >= range.first))
      throw new ConfigError('partitions must be a range with 0 <= first <= last', 'partitions');
  }
}

function partitionFilter(partitions: ReplayRequest['partitions']): (partition: number) => boolean {
  if (partitions === undefined) return () => true;
  if (Array.isArray(partitions)) {
    const set = new Set(partitions);
    return (p) => set.has(p);
  }
  const { first, last } = partitions as { first: number; last: number };
  return (p) => p >= first && p <= last;
}

/** `fn` over `items`, at most `limit` at a time, results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
