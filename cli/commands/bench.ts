import type { Command } from 'commander';
import {
  formatProducerPerfResult,
  type ProducerPerfResult,
  runProducerPerf,
} from '../../bench/perf/producer-perf.js';
import { formatWindow } from '../../bench/perf/progress.js';
import { Producer } from '../../client/index.js';
import {
  addReportingOption,
  addTopicCreationOptions,
  prepareTopic,
  type TopicFlags,
  throughput,
} from '../bench-options.js';
import { integer, print, withAdmin } from '../common.js';
import { addProducerOptions, type ProducerFlags, producerOptions } from '../producer-options.js';
import { benchConsumeCommand, benchEndToEndCommand } from './bench-consumer.js';

interface BenchProduceFlags extends ProducerFlags, TopicFlags {
  records: number;
  recordSize: number;
  throughput: number;
  reportingInterval: number;
}

/**
 * `spool bench ...`: load generators in the manner of Kafka's perf-test tools. Each subcommand
 * parses its flags here and runs a reusable benchmark from bench/perf/; progress windows go to
 * stderr, the result to stdout (text or --output json).
 */
export function benchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description("benchmarks against a running cluster, in the manner of Kafka's perf-test tools");
  benchProduceCommand(bench);
  benchConsumeCommand(bench);
  benchEndToEndCommand(bench);
}

function benchProduceCommand(bench: Command): void {
  const produce = bench
    .command('produce')
    .description(
      'send records as fast as allowed and measure throughput and per-record latency (send to acknowledgement)',
    )
    .requiredOption('--topic <topic>', 'the topic to write to')
    .requiredOption('--records <n>', 'records to send', integer(1))
    .option(
      '--record-size <bytes>',
      'bytes per record value (random upper-case letters; no key)',
      integer(0),
      100,
    )
    .option(
      '--throughput <records/s>',
      'send at most this many records per second; -1: unlimited',
      throughput,
      -1,
    );
  addTopicCreationOptions(produce);
  addProducerOptions(produce);
  addReportingOption(produce).action(async (flags: BenchProduceFlags, command: Command) => {
    const options = producerOptions(command, flags, 'spool-bench');
    await withAdmin(command, (admin) => prepareTopic(admin, flags));
    const producer = new Producer<Buffer, Buffer>(options);
    let result: ProducerPerfResult;
    try {
      result = await runProducerPerf(producer, {
        topic: flags.topic,
        records: flags.records,
        recordSize: flags.recordSize,
        throughput: flags.throughput,
        reportIntervalMs: flags.reportingInterval,
        onProgress: (window) => process.stderr.write(`${formatWindow(window)}\n`),
      });
    } finally {
      await producer.close();
    }
    const config = {
      acks: flags.acks,
      compression: flags.compression,
      batchSize: flags.batchSize,
      lingerMs: flags.lingerMs,
      throughput: flags.throughput,
    };
    const json = { ...result, elapsedMs: Math.round(result.elapsedMs * 1000) / 1000, config };
    print(command, json, () => formatProducerPerfResult(result));
  });
}
