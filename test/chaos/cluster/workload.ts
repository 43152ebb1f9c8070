/**
 * The chaos workload: kafkajs idempotent producers writing uniquely identified records with
 * acks=all, and a consumer group reading concurrently, both recording exactly what the cluster
 * told them.
 *
 * - One producer per partition, each sending small batches to its partition one send at a time
 *   (maxInFlightRequests 1). A record's value is `<producer>:<seq>`; `seq` increases by one per
 *   record, so per-producer order is checkable from the log alone.
 * - A send that kafkajs gives up on has an unknown outcome: kafkajs rewinds its sequence numbers
 *   after a failure, so reusing the producer would let the broker take new records for
 *   duplicates of the failed ones. The producer is replaced instead (a new producer id; its name
 *   gets a new incarnation suffix) and the failed records are "indeterminate": allowed in the log
 *   at most once, or not at all.
 * - Every acknowledged record is kept with the partition and offset from the send result and the
 *   time of the acknowledgement, which also measures how long each partition was unwritable.
 */
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { sleep } from './wire.js';

export interface AckedRecord {
  id: string;
  partition: number;
  offset: number;
  /** When the send that carried it was acknowledged (ms since epoch). */
  ackedAt: number;
}

export interface IndeterminateRecord {
  id: string;
  partition: number;
  error: string;
}

export interface SeenRecord {
  consumer: string;
  partition: number;
  offset: number;
  value: string;
}

export interface WorkloadOptions {
  bootstrap: string[];
  topic: string;
  partitions: number;
  /** Records per send. */
  batchSize: number;
  /** Pause between sends of one producer, to leave CPU for the brokers. */
  paceMs: number;
  consumers: number;
  groupId: string;
}

export interface WorkloadEvent {
  at: number;
  who: string;
  what: string;
}

export function parseId(id: string): { producer: string; seq: number } {
  const colon = id.lastIndexOf(':');
  return { producer: id.slice(0, colon), seq: Number(id.slice(colon + 1)) };
}

export class Workload {
  readonly acked: AckedRecord[] = [];
  readonly indeterminate: IndeterminateRecord[] = [];
  readonly seen: SeenRecord[] = [];
  readonly events: WorkloadEvent[] = [];
  /** Acknowledgement times per partition, ascending. */
  readonly ackTimes: number[][];
  /** Ids of records in sends that have not finished yet. */
  readonly inFlight = new Map<string, number>();
  private stopping = false;
  private consumersStopping = false;
  private readonly producerLoops: Promise<void>[] = [];
  private readonly consumers = new Map<string, Consumer>();
  private readonly kafka: Kafka;

  constructor(readonly options: WorkloadOptions) {
    this.ackTimes = Array.from({ length: options.partitions }, () => []);
    this.kafka = new Kafka({
      clientId: 'chaos',
      brokers: options.bootstrap,
      logLevel: process.env.SPOOL_CHAOS_KAFKAJS_LOG ? logLevel.INFO : logLevel.NOTHING,
      connectionTimeout: 1000,
      // A paused broker never answers: give up on it well before the producer's retries run out.
      requestTimeout: 6000,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  private note(who: string, what: string): void {
    this.events.push({ at: Date.now(), who, what });
  }

  start(): void {
    for (let p = 0; p < this.options.partitions; p++) this.producerLoops.push(this.produceLoop(p));
  }

  async startConsumers(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.consumers }, (_, i) => this.startConsumer(`c${i}`)));
  }

  /** Highest offset any consumer has seen per partition (-1 for none). */
  seenEnd(): number[] {
    const ends = Array.from({ length: this.options.partitions }, () => -1);
    for (const r of this.seen) if (r.offset > ends[r.partition]!) ends[r.partition] = r.offset;
    return ends;
  }

  /** The first acknowledgement on `partition` after `time`, or undefined. */
  firstAckAfter(partition: number, time: number): number | undefined {
    return this.ackTimes[partition]!.find((t) => t > time);
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  private async connectProducer(who: string): Promise<Producer> {
    for (;;) {
      const producer = this.newProducer();
      try {
        await producer.connect();
        return producer;
      } catch (error) {
        this.note(who, `connect failed: ${(error as Error).message}`);
        await producer.disconnect().catch(() => undefined);
        if (this.stopping) throw error;
        await sleep(500);
      }
    }
  }

  private async produceLoop(partition: number): Promise<void> {
    const { topic, batchSize, paceMs } = this.options;
    let incarnation = 0;
    let name = `p${partition}.${incarnation}`;
    let producer = await this.connectProducer(name);
    let seq = 0;
    while (!this.stopping) {
      const ids = Array.from({ length: batchSize }, () => `${name}:${seq++}`);
      for (const id of ids) this.inFlight.set(id, partition);
      try {
        const [result] = await producer.send({
          topic,
          acks: -1,
          timeout: 5000,
          messages: ids.map((id) => ({ partition, value: id })),
        });
        if (!result || result.partition !== partition || result.errorCode !== 0)
          throw new Error(`unexpected send result ${JSON.stringify(result)}`);
        const ackedAt = Date.now();
        const base = Number(result.baseOffset);
        ids.forEach((id, i) => {
          this.acked.push({ id, partition, offset: base + i, ackedAt });
        });
        this.ackTimes[partition]!.push(ackedAt);
        for (const id of ids) this.inFlight.delete(id);
      } catch (error) {
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        this.note(
          name,
          `send of ${ids[0]}..${ids[ids.length - 1]} failed (${message}); replacing the producer`,
        );
        for (const id of ids) {
          this.indeterminate.push({ id, partition, error: message });
          this.inFlight.delete(id);
        }
        await producer.disconnect().catch(() => undefined);
        if (this.stopping) return;
        incarnation++;
        name = `p${partition}.${incarnation}`;
        seq = 0;
        try {
          producer = await this.connectProducer(name);
        } catch {
          return;
        }
      }
      if (paceMs > 0) await sleep(paceMs);
    }
    await producer.disconnect().catch(() => undefined);
  }

  private async startConsumer(name: string): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      rebalanceTimeout: 20_000,
      maxWaitTimeInMs: 500,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.consumers.set(name, consumer);
    consumer.on(consumer.events.CRASH, (event) => {
      this.note(name, `crashed (restart: ${event.payload.restart}): ${event.payload.error.message}`);
      if (!event.payload.restart && !this.consumersStopping) {
        // kafkajs gave up on this consumer: start a fresh one in its place.
        void consumer
          .disconnect()
          .catch(() => undefined)
          .then(() => (this.consumersStopping ? undefined : this.startConsumer(`${name}'`)))
          .catch((error: unknown) => this.note(name, `replacement failed: ${(error as Error).message}`));
      }
    });
    for (;;) {
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
        await consumer.run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              this.seen.push({
                consumer: name,
                partition: batch.partition,
                offset: Number(m.offset),
                value: m.value?.toString() ?? '',
              });
            }
          },
        });
        return;
      } catch (error) {
        this.note(name, `start failed: ${(error as Error).message}`);
        await consumer.disconnect().catch(() => undefined);
        if (this.consumersStopping) return;
        await sleep(1000);
      }
    }
  }

  /** Stops the producers (letting each finish its current send, up to `graceMs`). */
  async stopProducers(graceMs = 45_000): Promise<void> {
    this.stopping = true;
    await Promise.race([Promise.allSettled(this.producerLoops), sleep(graceMs)]);
  }

  /** Disconnects the consumers; returns false if kafkajs did not finish within `graceMs`. */
  async stopConsumers(graceMs = 20_000): Promise<boolean> {
    this.consumersStopping = true;
    const done = Promise.allSettled([...this.consumers.values()].map((c) => c.disconnect())).then(() => true);
    return Promise.race([done, sleep(graceMs).then(() => false)]);
  }
}
