/**
 * kafkajs in the client benchmark, on the same Spool cluster as the SDK.
 *
 * Producer: acks -1, no compression, idempotent with maxInFlightRequests 5 (unless turned off),
 * batched by BatchingKafkajsProducer. kafkajs 2.2.4's idempotent producer holds a per-broker lock
 * from building a Produce request until its response (eosManager.acquireBrokerLock in
 * sendMessages.js), so at most one idempotent request per broker is in flight whatever
 * maxInFlightRequests says; the SDK pipelines up to 5 per connection.
 *
 * Consumer: kafkajs has no group-less consumer, so both cases use a fresh consumer group
 * (fromBeginning, autoCommit off, as the SDK side commits nothing) read through eachBatch.
 * Throughput is measured by runConsumerPerf from the first record to the last, as for the SDK.
 */
import { createRequire } from 'node:module';
import { type Consumer, Kafka, type LogEntry, logLevel, Partitioners } from 'kafkajs';
import { type ConsumerPerfResult, type PerfBatch, runConsumerPerf } from '../perf/consumer-perf.js';
import { type E2eResult, runEndToEndPerf } from '../perf/end-to-end-perf.js';
import { type ProducerPerfResult, runProducerPerf } from '../perf/producer-perf.js';
import { Channel } from './channel.js';
import {
  type BenchClient,
  CONSUME_IDLE_TIMEOUT_MS,
  type EndToEndCase,
  expectAllConsumed,
  expectAllDelivered,
  type ThroughputCase,
  type TopicLayout,
  waitUntil,
} from './client.js';
import { BatchingKafkajsProducer } from './kafkajs-producer.js';

/** The SDK's default batchSize, per partition. */
const SDK_BATCH_BYTES = 16_384;
/** The SDK's default maxInFlight (requests per connection): one send may carry what the SDK pipelines. */
const SDK_MAX_IN_FLIGHT = 5;
/**
 * Outstanding sends of the adapter. kafkajs serializes idempotent requests per broker, and one send
 * goes to every leader, so a second outstanding send lets a broker that answered start on it while
 * another still works on the first; more only queue behind kafkajs's lock. Measured on the 2-core
 * machine (50 000 records, idempotent): 1 send 21-27k records/s, 2 sends 34-37k, 5 sends 33-34k;
 * at 1000 records/s the send-to-ack p50 was 23-33 ms with 1, 30-56 ms with 2, 66-144 ms with 5.
 */
const MAX_IN_FLIGHT_SENDS = 2;

export interface KafkajsClientOptions {
  bootstrap: string[];
  /** Partitions per topic: the adapter's batch size is one SDK batch per partition. */
  partitions: number;
  idempotent: boolean;
  maxInFlightSends?: number;
  /** Called with every warning or error kafkajs logs (they are also kept in `problems`). */
  onProblem: (line: string) => void;
}

export class KafkajsClient implements BenchClient {
  readonly name = 'kafkajs';
  readonly settings: string;
  /** Distinct warnings and errors kafkajs logged or raised, with how often. */
  readonly problems = new Map<string, number>();
  private readonly kafka: Kafka;

  constructor(private readonly options: KafkajsClientOptions) {
    this.kafka = new Kafka({
      clientId: 'client-bench-kafkajs',
      brokers: options.bootstrap,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.problem(describeLog(entry)),
    });
    this.settings =
      `kafkajs ${kafkajsVersion()}: producer acks -1, ${options.idempotent ? 'idempotent, maxInFlightRequests 5' : 'NOT idempotent'}, ` +
      `no compression, batched by the adapter (linger 5 ms or ${(SDK_BATCH_BYTES * options.partitions) / 1024} KiB of values, ` +
      `up to ${options.maxInFlightSends ?? MAX_IN_FLIGHT_SENDS} sends outstanding of at most ${(SDK_MAX_IN_FLIGHT * SDK_BATCH_BYTES * options.partitions) / 1024} KiB); ` +
      'consumer group (fromBeginning, autoCommit off) with eachBatch, defaults otherwise (maxBytesPerPartition 1 MiB)';
  }

  private producer(): BatchingKafkajsProducer {
    const producer = this.kafka.producer({
      idempotent: this.options.idempotent,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const batchBytes = SDK_BATCH_BYTES * this.options.partitions;
    return new BatchingKafkajsProducer(producer, {
      batchBytes,
      maxSendBytes: SDK_MAX_IN_FLIGHT * batchBytes,
      maxInFlightSends: this.options.maxInFlightSends ?? MAX_IN_FLIGHT_SENDS,
    });
  }

  private consumer(run: ThroughputCase, maxWaitTimeInMs?: number): Consumer {
    const consumer = this.kafka.consumer({
      groupId: `client-bench-${run.topic}`,
      allowAutoTopicCreation: false,
      ...(maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs }),
    });
    consumer.on(consumer.events.CRASH, (event) =>
      this.problem(`consumer crashed: ${String(event.payload.error)}`),
    );
    return consumer;
  }

  async produce(run: ThroughputCase): Promise<ProducerPerfResult> {
    const producer = this.producer();
    try {
      return await runProducerPerf(producer, {
        topic: run.topic,
        records: run.records,
        recordSize: run.recordSize,
        throughput: -1,
      });
    } finally {
      await producer.disconnect();
    }
  }

  async consume(run: ThroughputCase): Promise<ConsumerPerfResult> {
    const channel = new Channel<PerfBatch>();
    const consumer = this.consumer(run);
    consumer.on(consumer.events.CRASH, () => channel.end());
    await consumer.connect();
    await consumer.subscribe({ topics: [run.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // KafkaMessage has key and value as Buffer | null, as PerfBatch wants.
      eachBatch: ({ batch }) => channel.push({ records: batch.messages }),
    });
    const result = await runConsumerPerf(
      {
        [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
        close: async () => {
          channel.end();
          await consumer.disconnect();
        },
      },
      { records: run.records, idleTimeoutMs: CONSUME_IDLE_TIMEOUT_MS },
    );
    expectAllConsumed(this.name, result, run.records);
    return result;
  }

  async endToEnd(run: EndToEndCase, layout: TopicLayout): Promise<E2eResult> {
    const consumed: { onValue?: (value: Buffer) => void } = {};
    const consumer = this.consumer(run, 100);
    let joined = false;
    const fetchedFrom = new Set<number>();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    consumer.on(consumer.events.FETCH, (event) => {
      if (joined) fetchedFrom.add(Number(event.payload.nodeId));
    });
    await consumer.connect();
    // The topic is new and empty: from the beginning is from the first record sent below.
    await consumer.subscribe({ topics: [run.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) if (message.value) consumed.onValue?.(message.value);
      },
    });
    const producer = this.producer();
    try {
      await producer.connect();
      // Joined, and a fetch answered by every leader: offsets are resolved, fetching has begun.
      await waitUntil('the kafkajs consumer to join its group and fetch from every leader', () =>
        layout.leaders.every((leader) => fetchedFrom.has(leader)),
      );
      const result = await runEndToEndPerf(producer, consumed, {
        topic: run.topic,
        records: run.records,
        recordSize: run.recordSize,
        throughput: run.rate,
      });
      expectAllDelivered(this.name, result);
      return result;
    } finally {
      await producer.disconnect();
      await consumer.disconnect();
    }
  }

  private problem(line: string): void {
    this.problems.set(line, (this.problems.get(line) ?? 0) + 1);
    this.options.onProblem(line);
  }
}

function describeLog(entry: LogEntry): string {
  const { message, timestamp: _timestamp, ...extra } = entry.log;
  const details = ['error', 'broker', 'topic', 'partition', 'retryCount']
    .filter((key) => extra[key] !== undefined)
    .map((key) => `${key}=${String(extra[key])}`)
    .join(' ');
  return `kafkajs ${entry.label} [${entry.namespace}] ${message}${details ? ` (${details})` : ''}`;
}

function kafkajsVersion(): string {
  try {
    return (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}
