/**
 * Spool's own SDK in the client benchmark: SDK defaults (idempotent, linger 5 ms, 16 KiB batches,
 * no compression) except acks 'all'; consumers without a group, positioned with assign().
 */
import { Consumer, Producer, type ProducerOptions } from '../../client/index.js';
import { type ConsumerPerfResult, runConsumerPerf } from '../perf/consumer-perf.js';
import { type E2eResult, runEndToEndPerf } from '../perf/end-to-end-perf.js';
import { type ProducerPerfResult, runProducerPerf } from '../perf/producer-perf.js';
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

export class SdkClient implements BenchClient {
  readonly name = 'sdk';
  readonly settings =
    'SDK: Producer defaults (idempotent, lingerMs 5, batchSize 16 KiB, maxInFlight 5, no compression) with acks all; ' +
    'Consumer without a group (assign), defaults (maxBatchRecords 500, maxBytesPerPartition 1 MiB)';

  constructor(private readonly bootstrap: string[]) {}

  private producerOptions(): ProducerOptions<Buffer, Buffer> {
    return { bootstrap: this.bootstrap, clientId: 'client-bench-sdk', acks: 'all' };
  }

  async produce(run: ThroughputCase): Promise<ProducerPerfResult> {
    const producer = new Producer<Buffer, Buffer>(this.producerOptions());
    try {
      return await runProducerPerf(producer, {
        topic: run.topic,
        records: run.records,
        recordSize: run.recordSize,
        throughput: -1,
      });
    } finally {
      await producer.close();
    }
  }

  async consume(run: ThroughputCase, layout: TopicLayout): Promise<ConsumerPerfResult> {
    const consumer = new Consumer<Buffer, Buffer>({
      bootstrap: this.bootstrap,
      clientId: 'client-bench-sdk',
      startFrom: 'earliest',
    });
    consumer.assign(layout.partitions);
    // runConsumerPerf closes the consumer.
    const result = await runConsumerPerf(consumer, {
      records: run.records,
      idleTimeoutMs: CONSUME_IDLE_TIMEOUT_MS,
    });
    expectAllConsumed(this.name, result, run.records);
    return result;
  }

  /** Wired as `spool bench e2e` (cli/commands/bench-consumer.ts) wires it. */
  async endToEnd(run: EndToEndCase, layout: TopicLayout): Promise<E2eResult> {
    // Records sent from now on have later timestamps, so the consumer starts at the first of them.
    const consumer = new Consumer<Buffer, Buffer>({
      bootstrap: this.bootstrap,
      clientId: 'client-bench-sdk',
      startFrom: { timestamp: Date.now() },
      maxWaitMs: 100,
    });
    consumer.assign(layout.partitions);
    const producer = new Producer<Buffer, Buffer>(this.producerOptions());
    const consumed: { onValue?: (value: Buffer) => void } = {};
    const consuming = consumer.run({
      eachMessage: (record) => {
        if (record.value) consumed.onValue?.(record.value);
      },
    });
    try {
      await producer.connect();
      await waitUntil('the SDK consumer to be positioned in every partition', () => {
        const lag = consumer.lag();
        return lag.length === layout.partitions.length && lag.every((p) => p.position >= 0);
      });
      const result = await runEndToEndPerf(producer, consumed, {
        topic: run.topic,
        records: run.records,
        recordSize: run.recordSize,
        throughput: run.rate,
      });
      expectAllDelivered(this.name, result);
      return result;
    } finally {
      await producer.close();
      await consumer.close();
      await consuming;
    }
  }
}
