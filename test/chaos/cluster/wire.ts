/**
 * Raw-protocol helpers for the cluster fault tests and the failover benchmark: metadata lookups,
 * single produce requests and whole-partition reads over Spool's own codec, each on a fresh
 * connection with a hard deadline, so a paused (SIGSTOP) or killed broker can never hang a caller.
 */
import { ErrorCode, errorInfo } from '../../../protocol/error-codes.js';
import { API_REGISTRY } from '../../../protocol/messages/index.js';
import {
  createRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
} from '../../../protocol/record-batch/index.js';
import { RawClient } from '../../helpers/raw-client.js';

export const PRODUCE = API_REGISTRY.get(0)!;
export const FETCH = API_REGISTRY.get(1)!;
export const METADATA = API_REGISTRY.get(3)!;

export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function errorName(code: number): string {
  try {
    return errorInfo(code).name;
  } catch {
    return `error ${code}`;
  }
}

/** Rejects with DeadlineError after `ms`, or ConnectionClosedError if `client` closes first. */
export function guarded<T>(client: RawClient, work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    client.closed.then(() => {
      throw new ConnectionClosedError(`${what}: connection closed`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Connects to a broker on loopback, failing after `ms`. */
export async function connectWithin(port: number, ms: number): Promise<RawClient> {
  let timer: NodeJS.Timeout | undefined;
  const connecting = RawClient.connect(port);
  return Promise.race([
    connecting,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void connecting.then(
          (late) => late.close(),
          () => undefined,
        );
        reject(new DeadlineError(`connect to ${port}: timed out`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Connects (with a deadline), runs `fn`, and always closes the connection. */
export async function withConnection<T>(
  port: number,
  fn: (client: RawClient) => Promise<T>,
  ms = 5000,
): Promise<T> {
  const client = await connectWithin(port, ms);
  try {
    return await guarded(client, fn(client), ms, `request to port ${port}`);
  } finally {
    client.close();
  }
}

export interface PartitionView {
  partition: number;
  errorCode: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface MetadataView {
  /** The broker that answered. */
  from: number;
  controllerId: number;
  brokers: { nodeId: number; port: number }[];
  partitions: PartitionView[];
}

interface MetadataBody {
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number }[];
  topics: {
    errorCode: number;
    name: string;
    partitions: {
      errorCode: number;
      partitionIndex: number;
      leaderId: number;
      leaderEpoch: number;
      replicaNodes: number[];
      isrNodes: number[];
    }[];
  }[];
}

/** Metadata for `topic` as broker `nodeId` (on `port`) sees it. */
export async function metadataFrom(
  nodeId: number,
  port: number,
  topic: string,
  ms = 3000,
): Promise<MetadataView> {
  const body = (await withConnection(
    port,
    (c) => c.request(METADATA, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false }),
    ms,
  )) as unknown as MetadataBody;
  const t = body.topics.find((x) => x.name === topic);
  return {
    from: nodeId,
    controllerId: body.controllerId,
    brokers: body.brokers.map((b) => ({ nodeId: b.nodeId, port: b.port })),
    partitions: (t?.partitions ?? [])
      .map((p) => ({
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: [...p.replicaNodes],
        isr: [...p.isrNodes].sort((a, b) => a - b),
      }))
      .sort((a, b) => a.partition - b.partition),
  };
}

/** Metadata from the first of `brokers` that answers (in the order given). */
export async function metadataFromAny(
  brokers: readonly { nodeId: number; port: number }[],
  topic: string,
  ms = 2000,
): Promise<MetadataView> {
  const errors: string[] = [];
  for (const b of brokers) {
    try {
      return await metadataFrom(b.nodeId, b.port, topic, ms);
    } catch (error) {
      errors.push(`${b.nodeId}: ${(error as Error).message}`);
    }
  }
  throw new Error(`no broker answered Metadata (${errors.join('; ')})`);
}

export interface ProduceOutcome {
  errorCode: number;
  baseOffset: number;
}

/** An uncompressed, non-idempotent batch of the given values. */
export function valuesBatch(values: readonly string[]): Buffer {
  return encodeRecordBatch(
    createRecordBatch({ records: values.map((v) => ({ key: null, value: Buffer.from(v) })) }),
  );
}

/** Sends one Produce (v9) for a single partition; returns the correlation id. Pair with `readProduce`. */
export function sendProduce(
  client: RawClient,
  topic: string,
  partition: number,
  records: Buffer,
  options: { acks: number; timeoutMs: number },
): number {
  return client.send(PRODUCE, 9, {
    acks: options.acks,
    timeoutMs: options.timeoutMs,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
}

export function decodeProduce(frame: Buffer): ProduceOutcome & { correlationId: number } {
  const { correlationId, body } = RawClient.decode(PRODUCE, 9, frame);
  const p = (body as unknown as { responses: { partitionResponses: ProduceOutcome[] }[] }).responses[0]!
    .partitionResponses[0]!;
  return { correlationId, errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
}

/** Produces once on an open connection, with a deadline. */
export async function produceOnce(
  client: RawClient,
  topic: string,
  partition: number,
  records: Buffer,
  options: { acks: number; timeoutMs: number; deadlineMs: number },
): Promise<ProduceOutcome> {
  const frame = client.nextFrame();
  sendProduce(client, topic, partition, records, options);
  return decodeProduce(await guarded(client, frame, options.deadlineMs, 'produce'));
}

export interface FetchedRecord {
  offset: number;
  value: string;
  leaderEpoch: number;
}

/**
 * Reads `partition` from offset 0 up to its high watermark with plain Fetch requests (v11,
 * read-uncommitted) on broker `port`, which must lead it. Every batch is CRC-checked.
 */
export async function readPartition(
  port: number,
  topic: string,
  partition: number,
  ms = 30_000,
): Promise<{ highWatermark: number; records: FetchedRecord[] }> {
  return withConnection(
    port,
    async (c) => {
      const records: FetchedRecord[] = [];
      let offset = 0;
      let highWatermark = -1;
      for (;;) {
        const body = (await c.request(FETCH, 11, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 4 << 20,
          isolationLevel: 0,
          topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 4 << 20 }] }],
        })) as unknown as {
          errorCode: number;
          responses: {
            partitions: { errorCode: number; highWatermark: bigint | number; records: Buffer | null }[];
          }[];
        };
        const p = body.responses[0]?.partitions[0];
        if (!p)
          throw new Error(`fetch ${topic}-${partition}@${offset}: empty response (error ${body.errorCode})`);
        if (p.errorCode !== ErrorCode.NONE)
          throw new Error(`fetch ${topic}-${partition}@${offset}: ${errorName(p.errorCode)}`);
        highWatermark = Number(p.highWatermark);
        if (offset >= highWatermark) break;
        const batches = decodeRecordBatches(p.records ?? Buffer.alloc(0), { verifyCrc: true });
        if (batches.length === 0)
          throw new Error(
            `fetch ${topic}-${partition}@${offset}: no batch below the high watermark ${highWatermark}`,
          );
        for (const batch of batches) {
          for (const r of batch.records) {
            const o = batch.baseOffset + r.offsetDelta;
            if (o < offset || o >= highWatermark) continue;
            records.push({
              offset: o,
              value: r.value?.toString() ?? '',
              leaderEpoch: batch.partitionLeaderEpoch,
            });
          }
          offset = Math.max(offset, batch.baseOffset + batch.lastOffsetDelta + 1);
        }
      }
      return { highWatermark, records };
    },
    ms,
  );
}
