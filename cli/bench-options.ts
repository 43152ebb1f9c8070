/** Options and topic preparation shared by the `spool bench` subcommands. */
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_REPORT_INTERVAL_MS } from '../bench/perf/producer-perf.js';
import { type Admin, ErrorCode, KafkaProtocolError } from '../client/index.js';
import { CliError, integer } from './common.js';
import { existingTopicPartitions } from './producer-options.js';

export interface TopicFlags {
  topic: string;
  createTopic?: boolean;
  partitions?: number;
  replicationFactor?: number;
}

export function throughput(value: string): number {
  const n = integer(-1)(value);
  if (n === 0) throw new InvalidArgumentError('must be positive, or -1 for unlimited.');
  return n;
}

/** --create-topic with --partitions and --replication-factor, for benchmarks that write. */
export function addTopicCreationOptions(command: Command): Command {
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
export function addReportingOption(command: Command): Command {
  return command.option(
    '--reporting-interval <ms>',
    'progress on stderr every this many ms',
    integer(100),
    DEFAULT_REPORT_INTERVAL_MS,
  );
}

/** Creates the topic under --create-topic (keeping an existing one), else checks that it exists. */
export async function prepareTopic(admin: Admin, flags: TopicFlags): Promise<void> {
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
