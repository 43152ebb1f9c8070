import type { RecordHeader } from '../../protocol/record-batch/index.js';
import { BufferFullError, ConfigError, type SpoolError } from '../errors.js';

/** What a successful send resolves to. `offset` is -1 with acks 0 (the broker does not answer). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  /** Set for a scheduled send (deliverAfterMs / deliverAt): the id to cancel it with. */
  scheduleId?: string;
}

/** A serialized record waiting in a batch. */
export interface PendingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  timestamp: number;
  resolve: (metadata: RecordMetadata) => void;
  reject: (error: SpoolError) => void;
}

/** Per-record overhead we charge against the batch size and the buffer, roughly Kafka's varints. */
const RECORD_OVERHEAD = 24;
/** The fixed RecordBatch v2 header. */
export const BATCH_OVERHEAD = 61;

/** The bytes a record is charged in batches and in the buffer. */
export function recordSize(
  key: Buffer | null,
  value: Buffer | null,
  headers: readonly RecordHeader[],
): number {
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
  for (const h of headers) size += 8 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return size;
}

/**
 * The records produced to one partition that travel in one RecordBatch. Under idempotence its
 * sequence number is fixed at first drain and its encoded bytes are kept, so a retry resends
 * exactly the same batch (same producer id, epoch and base sequence).
 */
export class ProducerBatch {
  readonly records: PendingRecord[] = [];
  sizeBytes = BATCH_OVERHEAD;
  /** Set by the sender at first drain (idempotent producers only); -1 until then. */
  baseSequence = -1;
  /** The encoded batch, cached after the first drain so retries are byte-identical. */
  encoded: Buffer | undefined;
  attempts = 0;
  /** Not eligible for sending before this time (retry backoff). */
  retryAt = 0;
  /** Closed to appends: full, drained once, or sealed by flush. */
  closed = false;
  private done = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
  ) {}

  get recordCount(): number {
    return this.records.length;
  }

  /** Resolves every record from the broker's base offset (offset -1 stays -1 for acks 0). */
  complete(baseOffset: number): void {
    if (this.done) return;
    this.done = true;
    this.records.forEach((r, i) => {
      r.resolve({
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
      });
    });
  }

  fail(error: SpoolError): void {
    if (this.done) return;
    this.done = true;
    for (const r of this.records) r.reject(error);
  }

  get isDone(): boolean {
    return this.done;
  }
}

export interface RecordAccumulatorOptions {
  /** Bytes per batch before it is sent regardless of linger. */
  batchSize: number;
  lingerMs: number;
  /** Total bytes of records held (queued or in flight) before send() blocks. */
  bufferMemory: number;
  /** How long send() waits for buffer space before failing with BufferFullError. */
  maxBlockMs: number;
  /**
   * Batches of one partition in flight at once. 1 keeps order by construction; more (only with
   * idempotence, whose sequence numbers let the broker reject out-of-order batches) pipelines.
   * Default 1.
   */
  maxInFlightPerPartition?: number;
  now?: () => number;
}

interface MemoryWaiter {
  bytes: number;
  startedAt: number;
  resolve: () => void;
  reject: (error: SpoolError) => void;
  timer: NodeJS.Timeout;
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Collects records into per-partition batches (Kafka's RecordAccumulator): a batch becomes
 * ready when it is full, when it has lingered `lingerMs`, when a later batch exists behind it,
 * or during a flush. Memory is bounded by `bufferMemory`: `reserve` waits (FIFO, so waiting
 * sends keep their order) until acknowledged batches `release` space, for at most `maxBlockMs`.
 *
 * In-flight accounting keeps per-partition order: at most `maxInFlightPerPartition` batches of a
 * partition are out, and a retried batch goes back in sequence order and is only offered again
 * once NOTHING of its partition is in flight, so retries are resent in their original order.
 */
export class RecordAccumulator {
  private readonly queues = new Map<string, ProducerBatch[]>();
  /** Batches in flight per partition. */
  private readonly inFlight = new Map<string, number>();
  private readonly waiters: MemoryWaiter[] = [];
  private used = 0;
  private flushes = 0;
  private readonly now: () => number;

  constructor(private readonly options: RecordAccumulatorOptions) {
    if (options.batchSize <= BATCH_OVERHEAD) throw new ConfigError('batchSize is too small', 'batchSize');
    if (options.bufferMemory < options.batchSize)
      throw new ConfigError('bufferMemory must be at least batchSize', 'bufferMemory');
    this.now = options.now ?? Date.now;
  }

  get bufferedBytes(): number {
    return this.used;
  }

  /** Waits until `bytes` fit in the buffer; rejects with BufferFullError after maxBlockMs. */
  reserve(bytes: number): Promise<void> {
    if (bytes > this.options.bufferMemory)
      return Promise.reject(new BufferFullError(bytes, this.options.bufferMemory, 0));
    if (this.waiters.length === 0 && this.used + bytes <= this.options.bufferMemory) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const startedAt = this.now();
      const waiter: MemoryWaiter = {
        bytes,
        startedAt,
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new BufferFullError(bytes, this.options.bufferMemory, this.now() - startedAt));
          // A big waiter leaving may let smaller ones behind it through.
          this.wakeWaiters();
        }, this.options.maxBlockMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Returns space (from completed or failed batches) and admits waiting sends in order. */
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (this.used + next.bytes > this.options.bufferMemory) return;
      this.waiters.shift();
      clearTimeout(next.timer);
      this.used += next.bytes;
      next.resolve();
    }
  }

  /**
   * Appends a record (whose bytes were reserved) to the partition's open batch, or a new one.
   * `batchFull` (the batch is closed to further appends) tells the caller to notify a sticky
   * partitioner, so the next keyless record moves on to another partition.
   */
  append(topic: string, partition: number, record: PendingRecord, bytes: number): { batchFull: boolean } {
    const key = partitionKey(topic, partition);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = [];
      this.queues.set(key, queue);
    }
    let last = queue.at(-1);
    if (!last || last.closed || (last.recordCount > 0 && last.sizeBytes + bytes > this.options.batchSize)) {
      if (last) last.closed = true;
      last = new ProducerBatch(topic, partition, this.now());
      queue.push(last);
    }
    last.records.push(record);
    last.sizeBytes += bytes;
    if (last.sizeBytes >= this.options.batchSize) last.closed = true;
    return { batchFull: last.closed };
  }

  /**
   * Puts a batch that must be retried back at the head of its partition's queue, among other
   * retried batches in sequence order (responses of pipelined batches may fail in any order).
   */
  reenqueue(batch: ProducerBatch): void {
    batch.closed = true;
    const key = partitionKey(batch.topic, batch.partition);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = [];
      this.queues.set(key, queue);
    }
    let at = 0;
    while (
      at < queue.length &&
      queue[at]!.attempts > 0 &&
      queue[at]!.baseSequence >= 0 &&
      queue[at]!.baseSequence < batch.baseSequence
    )
      at++;
    queue.splice(at, 0, batch);
  }

  /** A batch of the partition was sent. */
  markInFlight(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  /** A sent batch of the partition was answered (or given up). */
  markDone(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const left = (this.inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.inFlight.set(key, left);
    else this.inFlight.delete(key);
  }

  /** Whether the partition's head batch may be sent now, as far as in-flight batches go. */
  private canSend(key: string, head: ProducerBatch): boolean {
    const out = this.inFlight.get(key) ?? 0;
    if (head.attempts > 0) return out === 0;
    return out < (this.options.maxInFlightPerPartition ?? 1);
  }

  /** Until the returned function is called, every batch counts as ready (linger is ignored). */
  beginFlush(): () => void {
    this.flushes++;
    let ended = false;
    return () => {
      if (!ended) this.flushes--;
      ended = true;
    };
  }

  private isReady(batch: ProducerBatch, queueLength: number, now: number): boolean {
    if (batch.retryAt > now) return false;
    return (
      batch.closed || queueLength > 1 || this.flushes > 0 || now - batch.createdAt >= this.options.lingerMs
    );
  }

  /** The head batch of every partition that is ready and may be sent now, without removing it. */
  ready(now = this.now()): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    for (const [key, queue] of this.queues) {
      const head = queue[0];
      if (!head || !this.canSend(key, head)) continue;
      if (this.isReady(head, queue.length, now)) out.push(head);
    }
    return out;
  }

  /** Removes `batch` (a head returned by `ready`) from its queue and closes it to appends. */
  take(batch: ProducerBatch): void {
    const key = partitionKey(batch.topic, batch.partition);
    const queue = this.queues.get(key);
    if (queue?.[0] === batch) queue.shift();
    if (queue?.length === 0) this.queues.delete(key);
    batch.closed = true;
  }

  /**
   * Milliseconds until the next batch could become ready (linger or retry backoff), or
   * undefined when nothing queued may be sent before an in-flight batch is answered.
   */
  nextReadyDelay(now = this.now()): number | undefined {
    let best: number | undefined;
    for (const [key, queue] of this.queues) {
      const head = queue[0];
      if (!head || !this.canSend(key, head)) continue;
      const lingerAt = this.isReady(head, queue.length, Math.max(now, head.retryAt))
        ? head.retryAt
        : head.createdAt + this.options.lingerMs;
      const at = Math.max(lingerAt, head.retryAt);
      const delay = Math.max(0, at - now);
      if (best === undefined || delay < best) best = delay;
    }
    return best;
  }

  /** Every queued batch (not in flight), for expiry checks and failing everything on close. */
  queued(): ProducerBatch[] {
    return [...this.queues.values()].flat();
  }

  /** Removes a queued batch wherever it is (expired or failed). */
  remove(batch: ProducerBatch): void {
    const key = partitionKey(batch.topic, batch.partition);
    const queue = this.queues.get(key);
    if (!queue) return;
    const index = queue.indexOf(batch);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(key);
  }

  get isEmpty(): boolean {
    return this.queues.size === 0;
  }

  /** Rejects every send still waiting for buffer space. */
  failWaiters(error: SpoolError): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }
}
