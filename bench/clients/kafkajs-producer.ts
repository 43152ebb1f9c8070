/**
 * kafkajs behind the benchmarks' per-record producer interface (PerfProducer, E2eProducer).
 *
 * kafkajs has no linger or record accumulator: each producer.send() becomes one Produce request
 * per partition leader, carrying exactly the messages given. One send per record would measure one
 * request per record, which nobody tuning kafkajs does, so this adapter accumulates as the SDK
 * does with its defaults:
 * - a record waits until `lingerMs` (default 5 ms, the SDK's lingerMs) after the oldest queued
 *   record, or until `batchBytes` of values are queued (one SDK batch, 16 KiB, per partition:
 *   kafkajs spreads keyless messages round-robin, so a partition's share is about one batch);
 * - at most `maxInFlightSends` sends are outstanding. While they all are, records keep queuing and
 *   the next free slot sends everything queued, up to `maxSendBytes` of values per send, as the
 *   SDK's accumulator fills batches while its in-flight requests are full. Without this, a send
 *   every 5 ms would queue behind kafkajs's own lock (its idempotent producer allows one request
 *   per broker at a time) and latency would grow without bound at rates the cluster sustains;
 * - every record's promise settles with its send: resolved when that send resolved, rejected with
 *   its error otherwise. A record's latency therefore includes its wait in the queue, as the SDK's
 *   includes the linger and the wait for an in-flight slot.
 */
import { CompressionTypes, type Producer as KafkajsProducer } from 'kafkajs';
import type { E2eProducer } from '../perf/end-to-end-perf.js';
import type { PerfProducer } from '../perf/producer-perf.js';

export interface BatchingOptions {
  /** Default 5 ms. */
  lingerMs?: number;
  /** Queued value bytes that make a send due before the linger is over. */
  batchBytes: number;
  /** Value bytes per send at most (a single larger record still goes alone). */
  maxSendBytes: number;
  maxInFlightSends: number;
}

/** Records sharing one promise: they always go out in the same send. */
interface Chunk {
  topic: string;
  messages: { value: Buffer }[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  done: Promise<void>;
}

export class BatchingKafkajsProducer implements PerfProducer, E2eProducer {
  private readonly lingerMs: number;
  private readonly queue: Chunk[] = [];
  private queuedBytes = 0;
  /** When the oldest queued record was queued (performance.now()). */
  private oldestAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly producer: KafkajsProducer,
    private readonly options: BatchingOptions,
  ) {
    this.lingerMs = options.lingerMs ?? 5;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  send(topic: string, record: { key: null; value: Buffer }): Promise<void> {
    if (this.queue.length === 0) this.oldestAt = performance.now();
    let chunk = this.queue.at(-1);
    if (!chunk || chunk.topic !== topic || chunk.bytes >= this.options.batchBytes) {
      chunk = newChunk(topic);
      this.queue.push(chunk);
    }
    chunk.messages.push({ value: record.value });
    chunk.bytes += record.value.length;
    this.queuedBytes += record.value.length;
    this.pump();
    return chunk.done;
  }

  /** Sends what is queued now and waits until every send has settled (errors are the senders'). */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.pump();
      while (this.queue.length > 0 || this.inFlight.size > 0) {
        await Promise.race(this.inFlight);
        this.pump();
      }
    } finally {
      this.flushing--;
    }
  }

  async disconnect(): Promise<void> {
    await this.flush();
    await this.producer.disconnect();
  }

  /** Sends while a slot is free and something is due; otherwise arms the linger timer. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.options.maxInFlightSends) {
      const waitMs = this.lingerMs - (performance.now() - this.oldestAt);
      const due = this.flushing > 0 || waitMs <= 0 || this.queuedBytes >= this.options.batchBytes;
      if (!due) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, waitMs);
        return;
      }
      this.dispatch();
    }
  }

  private dispatch(): void {
    const chunks: Chunk[] = [];
    let bytes = 0;
    while (
      this.queue.length > 0 &&
      (chunks.length === 0 || bytes + this.queue[0]!.bytes <= this.options.maxSendBytes)
    ) {
      const chunk = this.queue.shift()!;
      chunks.push(chunk);
      bytes += chunk.bytes;
    }
    this.queuedBytes -= bytes;
    // What stays queued waited at least as long as what goes now: it is due as soon as a slot frees.
    if (this.queue.length > 0) this.oldestAt = Math.min(this.oldestAt, performance.now() - this.lingerMs);
    clearTimeout(this.timer);
    this.timer = undefined;
    const topicMessages = new Map<string, { value: Buffer }[]>();
    for (const chunk of chunks) {
      const messages = topicMessages.get(chunk.topic);
      if (messages) messages.push(...chunk.messages);
      else topicMessages.set(chunk.topic, [...chunk.messages]);
    }
    const sending: Promise<void> = this.producer
      .sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...topicMessages].map(([topic, messages]) => ({ topic, messages })),
      })
      .then(
        () => {
          for (const chunk of chunks) chunk.resolve();
        },
        (error: unknown) => {
          for (const chunk of chunks) chunk.reject(error);
        },
      )
      .finally(() => {
        this.inFlight.delete(sending);
        this.pump();
      });
    this.inFlight.add(sending);
  }
}

function newChunk(topic: string): Chunk {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Each record's caller handles a rejection; this keeps one nobody awaited from crashing the run.
  done.catch(() => {});
  return { topic, messages: [], bytes: 0, resolve, reject, done };
}
