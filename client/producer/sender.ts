import { APIS } from '../../protocol/messages/index.js';
import {
  type CompressionType,
  createRecordBatch,
  encodeRecordBatch,
} from '../../protocol/record-batch/index.js';
import type { MessageInput } from '../../protocol/wire/schema.js';
import { backoffMs, CLIENT_VERSIONS, type Cluster } from '../cluster/index.js';
import { ErrorCode, KafkaProtocolError, type SpoolError, TimeoutError, toSpoolError } from '../errors.js';
import type { IdempotenceState } from './idempotence.js';
import { BATCH_OVERHEAD, type ProducerBatch, type RecordAccumulator } from './record-accumulator.js';

const PRODUCE_VERSIONS = CLIENT_VERSIONS.Produce;

export interface SenderOptions {
  acks: -1 | 0 | 1;
  compression: CompressionType;
  /** The Produce request's broker-side timeout. */
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  retries: number;
  /** Produce requests in flight per broker connection. */
  maxInFlight: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  clientId: string;
  /** Present when the producer is idempotent. */
  idempotence: IdempotenceState | undefined;
  now?: () => number;
}

type ProduceInput = MessageInput<(typeof APIS.Produce)['request']>;

/**
 * Drains ready batches from the accumulator and sends them: one Produce request per leader per
 * drain, carrying the ready batch of every partition that broker leads, with at most
 * `maxInFlight` requests per broker.
 *
 * Per-partition order: without idempotence one batch per partition is in flight, so a retry
 * goes out before anything behind it. With idempotence up to `maxInFlight` batches of a partition
 * are pipelined; if one fails retriably, the broker rejects the ones after it as out of order
 * (OUT_OF_ORDER_SEQUENCE_NUMBER with an earlier batch unresolved is therefore retried, not
 * fatal), they all go back in sequence order, and they are resent one at a time once the
 * partition has nothing in flight, each with its original sequence, so the log keeps send order
 * and a batch the broker did write is acknowledged as a duplicate with its original offset.
 */
export class Sender {
  private readonly inFlightPerBroker = new Map<number, number>();
  private readonly inFlight = new Set<ProducerBatch>();
  private running = false;
  private rerun = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  /** A batch with a sequence number failed: the sequence has a gap, so a new producer id is needed. */
  private needsReset = false;
  private lastMetadataRefresh = 0;
  private readonly now: () => number;

  constructor(
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    private readonly options: SenderOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Asks for a drain pass soon (after appends, completions, flush). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    const at = this.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      do {
        this.rerun = false;
        await this.runOnce();
      } while (this.rerun && !this.closed);
    } catch {
      // runOnce handles its own errors per batch; anything else is retried on the next pass.
      this.schedule(this.options.retryBackoffMs);
    } finally {
      this.running = false;
    }
    if (this.closed) return;
    const delay = this.accumulator.nextReadyDelay();
    if (delay !== undefined) this.schedule(Math.max(1, delay));
  }

  private async runOnce(): Promise<void> {
    const now = this.now();
    this.expireQueued(now);

    const idempotence = this.options.idempotence;
    if (idempotence && this.needsReset) {
      // Wait for in-flight batches (completions wake us), then start over with a new producer id.
      if (this.inFlight.size > 0) return;
      await idempotence.init(this.cluster);
      this.needsReset = false;
      for (const batch of this.accumulator.queued()) {
        batch.baseSequence = -1;
        batch.encoded = undefined;
      }
    }

    const byLeader = new Map<number, ProducerBatch[]>();
    const leaderless = new Set<string>();
    for (const batch of this.accumulator.ready(now)) {
      const leader = this.cluster.metadata.leaderFor(batch.topic, batch.partition);
      if (leader === undefined) {
        leaderless.add(batch.topic);
        continue;
      }
      const list = byLeader.get(leader) ?? [];
      list.push(batch);
      byLeader.set(leader, list);
    }
    if (leaderless.size > 0) this.refreshMetadata([...leaderless]);

    for (const [leader, batches] of byLeader) {
      if ((this.inFlightPerBroker.get(leader) ?? 0) >= this.options.maxInFlight) continue;
      for (const batch of batches) {
        this.accumulator.take(batch);
        this.accumulator.markInFlight(batch.topic, batch.partition);
        this.inFlight.add(batch);
        this.prepare(batch);
      }
      this.inFlightPerBroker.set(leader, (this.inFlightPerBroker.get(leader) ?? 0) + 1);
      void this.sendTo(leader, batches);
    }
  }

  /** Assigns the sequence (first drain only) and encodes the batch once. */
  private prepare(batch: ProducerBatch): void {
    const idempotence = this.options.idempotence;
    if (idempotence && batch.baseSequence < 0) {
      batch.baseSequence = idempotence.nextSequence(batch.topic, batch.partition, batch.recordCount);
      batch.encoded = undefined;
    }
    batch.encoded ??= encodeRecordBatch(
      createRecordBatch({
        compression: this.options.compression,
        records: batch.records.map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: r.timestamp,
        })),
        ...(idempotence
          ? {
              producerId: idempotence.producerId,
              producerEpoch: idempotence.producerEpoch,
              baseSequence: batch.baseSequence,
            }
          : {}),
      }),
    );
  }

  private request(batches: ProducerBatch[]): ProduceInput {
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const batch of batches) {
      const list = topics.get(batch.topic) ?? [];
      list.push({ index: batch.partition, records: batch.encoded! });
      topics.set(batch.topic, list);
    }
    return {
      transactionalId: null,
      acks: this.options.acks,
      timeoutMs: this.options.requestTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
  }

  private async sendTo(leader: number, batches: ProducerBatch[]): Promise<void> {
    try {
      if (this.options.acks === 0) {
        const connection = await this.cluster.broker(leader);
        await connection.sendWithoutResponse(APIS.Produce, PRODUCE_VERSIONS, this.request(batches));
        for (const batch of batches) this.succeed(batch, -1);
        return;
      }
      const connection = await this.cluster.broker(leader);
      const { response } = await connection.send(APIS.Produce, PRODUCE_VERSIONS, this.request(batches));
      const results = new Map<
        string,
        { errorCode: number; baseOffset: number; errorMessage: string | null }
      >();
      for (const topic of response.responses)
        for (const p of topic.partitionResponses) results.set(`${topic.name}\u0000${p.index}`, p);
      for (const batch of batches) {
        const result = results.get(`${batch.topic}\u0000${batch.partition}`);
        if (!result) {
          this.retryOrFail(
            batch,
            new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, {
              topic: batch.topic,
              partition: batch.partition,
              serverMessage: 'no answer for this partition in the Produce response',
            }),
          );
        } else if (
          result.errorCode === ErrorCode.NONE ||
          result.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER
        ) {
          this.succeed(batch, result.baseOffset);
        } else {
          const error = new KafkaProtocolError(result.errorCode, {
            topic: batch.topic,
            partition: batch.partition,
            serverMessage: result.errorMessage,
          });
          // Out of order because an earlier batch of ours is still unresolved (or about to be
          // re-sequenced under a new producer id): the broker did not write it, so resend it.
          const behindAnother =
            result.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER &&
            (this.needsReset || this.hasEarlierUnresolved(batch));
          this.retryOrFail(batch, error, behindAnother);
        }
      }
    } catch (error) {
      // The whole request failed (lost connection, timeout, unknown leader): every batch may be retried.
      const spoolError = toSpoolError(error);
      for (const batch of batches) this.retryOrFail(batch, spoolError);
    } finally {
      this.inFlightPerBroker.set(leader, Math.max(0, (this.inFlightPerBroker.get(leader) ?? 1) - 1));
      this.wake();
    }
  }

  private finish(batch: ProducerBatch): void {
    // Only an in-flight batch counts against its partition; a queued one that expires does not.
    if (this.inFlight.delete(batch)) this.accumulator.markDone(batch.topic, batch.partition);
    this.accumulator.release(batch.sizeBytes - BATCH_OVERHEAD);
  }

  private succeed(batch: ProducerBatch, baseOffset: number): void {
    this.finish(batch);
    batch.complete(baseOffset);
  }

  private fail(batch: ProducerBatch, error: SpoolError): void {
    this.finish(batch);
    this.accumulator.remove(batch);
    // Its sequence numbers were consumed without the broker keeping them: later batches would
    // be rejected as out of order, so the producer takes a new id before sending more.
    if (this.options.idempotence && batch.baseSequence >= 0) this.needsReset = true;
    batch.fail(error);
  }

  /** Whether a batch of the same partition with an earlier sequence is in flight or queued for retry. */
  private hasEarlierUnresolved(batch: ProducerBatch): boolean {
    if (batch.baseSequence < 0) return false;
    const earlier = (other: ProducerBatch) =>
      other !== batch &&
      other.topic === batch.topic &&
      other.partition === batch.partition &&
      other.baseSequence >= 0 &&
      other.baseSequence < batch.baseSequence;
    return [...this.inFlight].some(earlier) || this.accumulator.queued().some(earlier);
  }

  private retryOrFail(batch: ProducerBatch, error: SpoolError, forceRetriable = false): void {
    const now = this.now();
    if ((!error.retriable && !forceRetriable) || this.closed) {
      this.fail(batch, error);
      return;
    }
    if (batch.attempts >= this.options.retries || now >= batch.createdAt + this.options.deliveryTimeoutMs) {
      this.fail(batch, this.expiryError(batch, error));
      return;
    }
    batch.attempts++;
    batch.retryAt =
      now + backoffMs(batch.attempts, this.options.retryBackoffMs, this.options.maxRetryBackoffMs);
    this.accumulator.reenqueue(batch);
    if (this.inFlight.delete(batch)) this.accumulator.markDone(batch.topic, batch.partition);
    // A new leader, or a lost broker: look again before the retry.
    this.refreshMetadata([batch.topic], true);
  }

  private expiryError(batch: ProducerBatch, cause?: SpoolError): SpoolError {
    return new TimeoutError(
      `${batch.recordCount} record(s) for ${batch.topic}-${batch.partition} were not acknowledged within the delivery timeout` +
        (cause ? ` (last error: ${cause.message})` : ''),
      this.options.deliveryTimeoutMs,
      { cause },
    );
  }

  private expireQueued(now: number): void {
    for (const batch of this.accumulator.queued()) {
      if (now >= batch.createdAt + this.options.deliveryTimeoutMs) this.fail(batch, this.expiryError(batch));
    }
  }

  private refreshMetadata(topics: string[], force = false): void {
    const now = this.now();
    if (!force && now - this.lastMetadataRefresh < this.options.retryBackoffMs) return;
    this.lastMetadataRefresh = now;
    this.cluster.metadata
      .refresh(topics)
      .catch(() => {})
      .finally(() => this.wake());
  }

  /** Stops sending; fails whatever is still queued or waiting for memory with `error`. */
  close(error: SpoolError): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const batch of this.accumulator.queued()) this.fail(batch, error);
    for (const batch of [...this.inFlight]) this.fail(batch, error);
    this.accumulator.failWaiters(error);
  }
}
