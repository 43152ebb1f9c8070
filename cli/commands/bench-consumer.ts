/**
 * `spool bench consume` and `spool bench e2e`: the consumer side of the benchmarks. Both read
 * with the SDK's Consumer; flags are parsed here and the runs live in bench/perf/.
 */
import type { Command } from 'commander';
import { formatConsumerPerfResult, runConsumerPerf } from '../../bench/perf/consumer-perf.js';
import { type E2eResult, formatEndToEndResult, runEndToEndPerf } from '../../bench/perf/end-to-end-perf.js';
import { formatWindow } from '../../bench/perf/progress.js';
import { Consumer, Producer, type StartPosition } from '../../client/index.js';
import {
  addReportingOption,
  addTopicCreationOptions,
  prepareTopic,
  type TopicFlags,
  throughput,
} from '../bench-options.js';
import { globalOptions, integer, parseBootstrap, print, topicPartitions, withAdmin } from '../common.js';
import { addProducerOptions, type ProducerFlags, producerOptions } from '../producer-options.js';
import { parseStartPosition } from './consume.js';

interface BenchConsumeFlags {
  topic: string;
  records: number;
  group?: string;
  from: StartPosition;
  idleTimeoutMs: number;
  maxBatchRecords: number;
  reportingInterval: number;
}

interface BenchEndToEndFlags extends ProducerFlags, TopicFlags {
  records: number;
  recordSize: number;
  throughput: number;
  reportingInterval: number;
}

export function benchConsumeCommand(bench: Command): void {
  const consume = bench
    .command('consume')
    .description('read records as fast as the consumer delivers them and measure throughput')
    .requiredOption('--topic <topic>', 'the topic to read')
    .requiredOption('--records <n>', 'records to read', integer(1))
    .option('--group <id>', 'read as a member of this group (default: assign every partition, no group)')
    .option(
      '--from <position>',
      'where to start without a committed offset: earliest, latest, ms or ISO date',
      parseStartPosition,
      'earliest',
    )
    .option('--idle-timeout-ms <ms>', 'stop early when no record arrived for this long', integer(1), 10_000)
    .option('--max-batch-records <n>', 'records per batch handed out by the consumer', integer(1), 500);
  addReportingOption(consume).action(async (flags: BenchConsumeFlags, command: Command) => {
    const bootstrap = parseBootstrap(globalOptions(command).bootstrap);
    const consumer = new Consumer<Buffer, Buffer>({
      bootstrap,
      clientId: 'spool-bench',
      ...(flags.group === undefined ? {} : { groupId: flags.group }),
      startFrom: flags.from,
      maxBatchRecords: flags.maxBatchRecords,
    });
    if (flags.group === undefined)
      consumer.assign(await withAdmin(command, (admin) => topicPartitions(admin, [flags.topic])));
    else consumer.subscribe(flags.topic);
    const result = await runConsumerPerf(consumer, {
      records: flags.records,
      idleTimeoutMs: flags.idleTimeoutMs,
      reportIntervalMs: flags.reportingInterval,
      onProgress: (window) => process.stderr.write(`${formatWindow(window, 'consumed')}\n`),
    });
    print(command, { topic: flags.topic, ...result }, () => formatConsumerPerfResult(result));
    if (result.timedOut) process.exitCode = 1;
  });
}

export function benchEndToEndCommand(bench: Command): void {
  const e2e = bench
    .command('e2e')
    .description(
      'produce and consume in one process and measure each record from send() to delivery by the consumer',
    )
    .requiredOption('--topic <topic>', 'the topic to write to and read from')
    .requiredOption('--records <n>', 'records to send', integer(1))
    .option(
      '--record-size <bytes>',
      'bytes per record value (at least 16: id and send time)',
      integer(16),
      100,
    )
    .option(
      '--throughput <records/s>',
      'send at most this many records per second; -1: unlimited (latency then includes queueing)',
      throughput,
      1_000,
    );
  addTopicCreationOptions(e2e);
  addProducerOptions(e2e);
  addReportingOption(e2e).action(async (flags: BenchEndToEndFlags, command: Command) => {
    const options = producerOptions(command, flags, 'spool-bench');
    const partitions = await withAdmin(command, async (admin) => {
      await prepareTopic(admin, flags);
      return topicPartitions(admin, [flags.topic]);
    });
    // Records sent from now on have later timestamps: the consumer starts at the first of them
    // however long positioning takes, and at the end of the log when there is none yet.
    const consumer = new Consumer<Buffer, Buffer>({
      bootstrap: options.bootstrap,
      clientId: 'spool-bench',
      startFrom: { timestamp: Date.now() },
      maxWaitMs: 100,
    });
    consumer.assign(partitions);
    const producer = new Producer<Buffer, Buffer>(options);
    const consumed: { onValue?: (value: Buffer) => void } = {};
    const consuming = consumer.run({
      eachMessage: (record) => {
        if (record.value) consumed.onValue?.(record.value);
      },
    });
    let result: E2eResult;
    try {
      await waitUntilPositioned(consumer);
      result = await runEndToEndPerf(producer, consumed, {
        topic: flags.topic,
        records: flags.records,
        recordSize: flags.recordSize,
        throughput: flags.throughput,
        reportIntervalMs: flags.reportingInterval,
        onProgress: (window) => process.stderr.write(`${formatWindow(window, 'delivered')}\n`),
      });
    } finally {
      await producer.close();
      await consumer.close();
      await consuming;
    }
    const config = { acks: flags.acks, compression: flags.compression, throughput: flags.throughput };
    print(command, { topic: flags.topic, ...result, config }, () => formatEndToEndResult(result));
    if (result.missing > 0) process.exitCode = 1;
  });
}

/** Waits (up to 30 s) until the consumer knows where to fetch from in every partition. */
async function waitUntilPositioned(consumer: Consumer<Buffer, Buffer>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (consumer.lag().some((p) => p.position < 0)) {
    if (Date.now() > deadline) throw new Error('the consumer found no start position within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
