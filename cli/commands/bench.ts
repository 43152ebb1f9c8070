import { type Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_REPORT_INTERVAL_MS,
  formatProducerPerfResult,
  type ProducerPerfResult,
  runProducerPerf,
} from '../../bench/perf/producer-perf.js';
import { formatWindow } from '../../bench/perf/progress.js';
import { type Admin, ErrorCode, KafkaProtocolError, Producer } from '../../client/index.js';
import { CliError, integer, print, withAdmin } from '../common.js';
import {
  addProducerOptions,
  existingTopicPartitions,
  type ProducerFlags,
  producerOptions,
} from '../producer-options.js';

interface TopicFlags {
  topic: string;
  createTopic?: boolean;
  partitions?: number;
  replicationFactor?: number;
}

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

function throughput(value: string): number {
  const n = integer(-1)(value);
  if (n === 0) throw new InvalidArgumentError('must be positive, or -1 for unlimited.');
  return n;
}

/** --create-topic with --partitions and --replication-factor, for benchmarks that write. */
function addTopicCreationOptions(command: Command): Command {
  return command
    .option('--create-topic', 'create the topic first (an existing topic is used as it is)')
    .option(
      '--partitions <n>',
      'with --create-topic: partition count (default: the broker default)',
      integer(1),
    )
    .option(
      '--replication-factor <n>',
      'with --create-topic: replicas per partition (default: min(3, live brokers))',
      integer(1),
    );
}

/** Progress every N ms on stderr; kafka-producer-perf-test reports every 5 s. */
function addReportingOption(command: Command): Command {
  return command.option(
    '--reporting-interval <ms>',
    'progress on stderr every this many ms',
    integer(100),
    DEFAULT_REPORT_INTERVAL_MS,
  );
}

/** Creates the topic under --create-topic (keeping an existing one), else checks that it exists. */
async function prepareTopic(admin: Admin, flags: TopicFlags): Promise<void> {
  if (!flags.createTopic) {
    if (flags.partitions !== undefined || flags.replicationFactor !== undefined)
      throw new CliError('--partitions and --replication-factor need --create-topic');
    await existingTopicPartitions(admin, flags.topic);
    return;
  }
  try {
    await admin.createTopics([
      { topic: flags.topic, partitions: flags.partitions, replicationFactor: flags.replicationFactor },
    ]);
    process.stderr.write(`created topic ${flags.topic}\n`);
  } catch (error) {
    if (!(error instanceof KafkaProtocolError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error;
    const partitions = await existingTopicPartitions(admin, flags.topic);
    process.stderr.write(`topic ${flags.topic} exists already (${partitions} partitions); using it\n`);
  }
}
