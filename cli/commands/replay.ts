import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { InFlightLimit } from '../../bench/perf/in-flight-limit.js';
import {
  Admin,
  ArchiveReader,
  type ArchiveReplay,
  type ConsumerRecord,
  Producer,
  type ReplayPosition,
} from '../../client/index.js';
import { CliError, errorLine, globalOptions, integer, parseBootstrap } from '../common.js';
import {
  addProducerOptions,
  existingTopicPartitions,
  type ProducerFlags,
  producerOptions,
} from '../producer-options.js';
import { formatProgress, ProgressLine } from '../progress-bar.js';
import { formatRecord } from './consume.js';

interface ReplayFlags extends ProducerFlags {
  fromOffset?: number;
  toOffset?: number;
  fromTime?: number;
  toTime?: number;
  partition?: number[];
  topicId?: string;
  tablePrefix?: string;
  bucket?: string;
  s3Endpoint?: string;
  dynamodbEndpoint?: string;
  region?: string;
  devState?: string;
  concurrency: number;
  toTopic?: string;
  samePartition?: boolean;
  printKey?: boolean;
  printHeaders?: boolean;
  printMetadata?: boolean;
  keySeparator: string;
  /** undefined: a progress bar when stderr is a terminal. */
  progress?: boolean;
}

/** What `spool dev` writes to `<data-dir>/spool-dev.json` that a replay can use. */
interface DevState {
  bootstrap?: string;
  tablePrefix?: string;
  s3Endpoint?: string;
  dynamoDbEndpoint?: string;
  archiveBucket?: string;
}

export const DEFAULT_DEV_STATE = '.spool/spool-dev.json';
const MAX_IN_FLIGHT = 10_000;

/** Milliseconds since the epoch, or an ISO-8601 date-time. */
export function parseTime(value: string): number {
  const timestamp = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(timestamp))
    throw new InvalidArgumentError(`'${value}' is not a time in ms or an ISO date-time.`);
  return timestamp;
}

export function replayCommand(program: Command): void {
  const replay = program
    .command('replay')
    .description('replay a topic from the S3 archive, without a broker: to stdout, or into another topic')
    .argument('<topic>', 'the archived topic to read')
    .addOption(
      new Option('--from-offset <n>', 'first offset (inclusive)').argParser(integer(0)).conflicts('fromTime'),
    )
    .addOption(
      new Option('--to-offset <n>', 'end offset (exclusive)').argParser(integer(0)).conflicts('toTime'),
    )
    .addOption(
      new Option('--from-time <time>', 'first timestamp, ms or ISO (inclusive)').argParser(parseTime),
    )
    .addOption(new Option('--to-time <time>', 'end timestamp, ms or ISO (exclusive)').argParser(parseTime))
    .option('--partition <n...>', 'only these partitions', (v, prev: number[] = []) => [
      ...prev,
      integer(0)(v),
    ])
    .option('--topic-id <id>', 'read this incarnation of a deleted and re-created topic')
    .addOption(
      new Option('--table-prefix <prefix>', 'DynamoDB table prefix (default: spool)').env(
        'SPOOL_TABLE_PREFIX',
      ),
    )
    .addOption(
      new Option('--bucket <name>', 'archive bucket (default: spool-archive)').env('SPOOL_ARCHIVE_BUCKET'),
    )
    .addOption(new Option('--s3-endpoint <url>', 'S3 endpoint (default: AWS)').env('AWS_ENDPOINT_URL_S3'))
    .addOption(
      new Option('--dynamodb-endpoint <url>', 'DynamoDB endpoint (default: AWS)').env(
        'AWS_ENDPOINT_URL_DYNAMODB',
      ),
    )
    .addOption(new Option('--region <region>', 'AWS region (default: us-east-1)').env('AWS_REGION'))
    .option('--dev-state <path>', `read endpoints, table prefix and bucket from a spool dev state file`)
    .option('--concurrency <n>', 'segment downloads in flight', integer(1), 8)
    .option(
      '--to-topic <topic>',
      'produce the records to this topic (through --bootstrap) instead of printing them',
    )
    .option('--same-partition', 'with --to-topic: keep each record in its partition number (default: by key)')
    .option('--print-key', 'text output: print the key before the value')
    .option('--print-headers', 'text output: print the headers (k=v,...) before the value')
    .option('--print-metadata', 'text output: print topic[partition]@offset and the timestamp first')
    .option('--key-separator <sep>', 'text output: separator between the printed fields', '\t');
  addProducerOptions(replay)
    .option('--progress', 'report progress on stderr (the default when stderr is a terminal)')
    .option('--no-progress', 'never report progress')
    .addHelpText(
      'after',
      [
        '',
        'Reads the segments committed to the archive (tiered storage) straight from S3, in parallel,',
        'verifying every batch CRC; records come out in offset order within each partition. Bounds',
        'apply per partition: --from-* is inclusive, --to-* exclusive; without them the replay runs',
        "from the log start offset to the archive's end. Records not yet archived are not replayed.",
        '',
        `Endpoints, table prefix and bucket: flags, then their environment variables, then the state`,
        `file of a running \`spool dev\` (--dev-state, or ${DEFAULT_DEV_STATE} when it exists and no`,
        'endpoint is given), then AWS with prefix spool and bucket spool-archive.',
        '',
        'Examples:',
        '  spool replay orders --from-time 2026-12-01T00:00:00Z --to-time 2026-12-02T00:00:00Z --output json',
        '  spool replay orders --partition 0 1 --from-offset 1000 --print-key',
        '  spool replay orders --to-topic orders-rebuilt --compression lz4',
      ].join('\n'),
    )
    .action(async (topic: string, flags: ReplayFlags, command: Command) => {
      // The AWS SDK's notice about future Node versions is for application developers; on a CLI's
      // stderr it would bury the one-line errors and the summary.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const settings = await archiveSettings(flags, command);
      const reader = new ArchiveReader({ ...settings.archive, concurrency: flags.concurrency });
      try {
        const run = reader.replay({
          topic,
          ...(flags.topicId ? { topicId: flags.topicId } : {}),
          ...(flags.partition ? { partitions: flags.partition } : {}),
          ...bound('from', flags.fromOffset, flags.fromTime),
          ...bound('to', flags.toOffset, flags.toTime),
        });
        const showProgress = flags.progress ?? process.stderr.isTTY === true;
        const progress = showProgress ? new ProgressLine(process.stderr) : undefined;
        const ticker = progress
          ? setInterval(() => progress.update(formatProgress(run.progress())), 250)
          : undefined;
        try {
          if (flags.toTopic) await replayToTopic(run, flags.toTopic, flags, command, settings.bootstrap);
          else await replayToStdout(run, flags, command);
        } finally {
          clearInterval(ticker);
          if (progress) {
            progress.update(formatProgress(run.progress()), true);
            progress.end();
          }
        }
        const p = run.progress();
        const plan = await run.plan();
        const rate = p.elapsedMs > 0 ? (p.bytesDone / 1024 / 1024 / (p.elapsedMs / 1000)).toFixed(1) : '0.0';
        process.stderr.write(
          `replayed ${p.records} record${p.records === 1 ? '' : 's'} from ${plan.partitions.length} partition${plan.partitions.length === 1 ? '' : 's'} of ${topic}` +
            `${flags.toTopic ? ` to ${flags.toTopic}` : ''} (${(p.bytesDone / 1024 / 1024).toFixed(1)} MiB of segments in ${(p.elapsedMs / 1000).toFixed(1)} s, ${rate} MiB/s)\n`,
        );
      } finally {
        reader.close();
      }
    });
}

function bound(
  name: 'from' | 'to',
  offset?: number,
  time?: number,
): { from?: ReplayPosition; to?: ReplayPosition } {
  if (offset !== undefined) return { [name]: { offset } };
  if (time !== undefined) return { [name]: { timestamp: time } };
  return {};
}

/** Flags, then environment (commander applies it), then the dev state file, then defaults. */
async function archiveSettings(flags: ReplayFlags, command: Command) {
  const endpointGiven = flags.s3Endpoint !== undefined || flags.dynamodbEndpoint !== undefined;
  const path =
    flags.devState ?? (!endpointGiven && existsSync(DEFAULT_DEV_STATE) ? DEFAULT_DEV_STATE : undefined);
  const dev = path === undefined ? {} : await readDevState(path);
  const s3Endpoint = flags.s3Endpoint ?? dev.s3Endpoint;
  const dynamoDbEndpoint = flags.dynamodbEndpoint ?? dev.dynamoDbEndpoint;
  // --bootstrap left at its default: a dev cluster's brokers, when its state file is used.
  let root: Command = command;
  while (root.parent) root = root.parent;
  const bootstrapIsDefault = root.getOptionValueSource('bootstrap') === 'default';
  return {
    archive: {
      tablePrefix: flags.tablePrefix ?? dev.tablePrefix ?? 'spool',
      bucket: flags.bucket ?? dev.archiveBucket ?? 'spool-archive',
      ...(flags.region ? { region: flags.region } : {}),
      ...(s3Endpoint ? { s3Endpoint } : {}),
      ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
    },
    bootstrap: bootstrapIsDefault && dev.bootstrap ? dev.bootstrap : globalOptions(command).bootstrap,
  };
}

async function readDevState(path: string): Promise<DevState> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DevState;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot read the dev state file ${path}: ${reason}`, { cause: error });
  }
}

async function replayToStdout(run: ArchiveReplay<Buffer, Buffer>, flags: ReplayFlags, command: Command) {
  const { output } = globalOptions(command);
  const stdout = process.stdout;
  let failed: NodeJS.ErrnoException | undefined;
  const onError = (error: NodeJS.ErrnoException) => {
    failed = error;
  };
  stdout.on('error', onError);
  try {
    for await (const batch of run) {
      const text = batch.records.map((r) => `${formatRecord(r, output, flags)}\n`).join('');
      if (!stdout.write(text))
        await new Promise<void>((resolve) => {
          const done = () => {
            stdout.off('drain', done);
            stdout.off('close', done);
            resolve();
          };
          stdout.on('drain', done);
          stdout.on('close', done);
        });
      if (failed) break;
    }
  } finally {
    stdout.removeListener('error', onError);
  }
  // A reader that went away (`| head`) ends the replay quietly; other write errors do not.
  if (failed && failed.code !== 'EPIPE') throw failed;
}

async function replayToTopic(
  run: ArchiveReplay<Buffer, Buffer>,
  target: string,
  flags: ReplayFlags,
  command: Command,
  bootstrap: string,
): Promise<void> {
  const servers = parseBootstrap(bootstrap);
  const admin = new Admin({ bootstrap: servers, clientId: 'spool-replay' });
  let partitions: number;
  try {
    partitions = await existingTopicPartitions(admin, target);
  } finally {
    admin.close();
  }
  const plan = await run.plan();
  const highest = Math.max(-1, ...plan.partitions.map((p) => p.partition));
  if (flags.samePartition && highest >= partitions)
    throw new CliError(
      `--same-partition: ${target} has ${partitions} partitions, the replay reads partition ${highest}`,
    );
  const producer = new Producer<Buffer, Buffer>({
    ...producerOptions(command, flags, 'spool-replay'),
    bootstrap: servers,
  });
  const limit = new InFlightLimit(MAX_IN_FLIGHT);
  let failure: { error: unknown } | undefined;
  const send = (record: ConsumerRecord<Buffer, Buffer>) =>
    producer
      .send(target, {
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: record.timestamp,
        ...(flags.samePartition ? { partition: record.partition } : {}),
      })
      .then(
        () => limit.release(),
        (error: unknown) => {
          failure ??= { error };
          limit.release();
        },
      );
  try {
    outer: for await (const batch of run)
      for (const record of batch.records) {
        if (!limit.tryAcquire()) await limit.acquire();
        if (failure) {
          limit.release();
          break outer;
        }
        send(record);
      }
  } finally {
    await limit.drain();
    await producer.close();
  }
  if (failure)
    throw new CliError(`producing to ${target} failed: ${errorLine(failure.error).replace(/^error: /, '')}`, {
      cause: failure.error,
    });
}
