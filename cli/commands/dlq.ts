import { type Command, Option } from 'commander';
import { Cluster, listOffsets, OffsetSpec } from '../../client/cluster/index.js';
import {
  Admin,
  Consumer,
  type ConsumerBatch,
  Producer,
  RETRY_HEADERS,
  type TopicPartition,
  withoutRetryHeaders,
} from '../../client/index.js';
import { CliError, errorLine, globalOptions, integer, parseBootstrap, print } from '../common.js';
import { existingTopicPartitions } from '../producer-options.js';
import { ProgressLine } from '../progress-bar.js';

interface ReplayFlags {
  toTopic?: string;
  group?: string;
  limit?: number;
  dryRun?: boolean;
  /** undefined: a progress line when stderr is a terminal. */
  progress?: boolean;
}

/** What `spool dlq replay` did (printed as JSON with --output json). */
export interface DlqReplaySummary {
  topic: string;
  group: string | null;
  dryRun: boolean;
  /** Records of the dead-letter topic read. */
  read: number;
  /** Records produced (in a dry run: that would have been produced), per target topic. */
  replayed: number;
  targets: Record<string, number>;
  /** Records without the spool-retry-original-topic header (and no --to-topic): left where they are. */
  skipped: number;
}

/** Where one partition of the dead-letter topic starts and where this replay stops. */
interface PartitionRange extends TopicPartition {
  start: number;
  /** The log end when the replay started: records appended later are left for the next run. */
  end: number;
}

export function dlqCommand(program: Command): void {
  const dlq = program.command('dlq').description('dead-letter topics of consumers with the retry option');

  dlq
    .command('replay')
    .description('produce the records of a dead-letter topic back to the topics they came from')
    .argument('<topic>', 'the dead-letter topic, e.g. billing-orders-dlq')
    .option(
      '--to-topic <topic>',
      'produce every record to this topic (default: its spool-retry-original-topic)',
    )
    .option(
      '--group <id>',
      "start at, and commit, this group's offsets in the dead-letter topic (default: from the beginning, no commits)",
    )
    .option('--limit <n>', 'read at most this many records', integer(1))
    .option('--dry-run', 'count what would be replayed, producing and committing nothing')
    .addOption(new Option('--progress', 'report progress on stderr (the default when stderr is a terminal)'))
    .option('--no-progress', 'never report progress')
    .addHelpText(
      'after',
      [
        '',
        'Reads the dead-letter topic up to its end at the start of the run and produces each record',
        'to the topic in its spool-retry-original-topic header (or --to-topic), with its key, value',
        'and headers minus the spool-retry-* and spool-dlq-reason headers; records are partitioned by',
        'key. Records without the header are skipped and counted. With --group, each record is',
        'committed once its copy is acknowledged, so an interrupted replay goes on where it stopped and',
        'a second run does not replay the same records again; without it, every run starts over.',
        '',
        'Examples:',
        '  spool dlq replay billing-orders-dlq --dry-run',
        '  spool dlq replay billing-orders-dlq --group billing-dlq-replay --limit 100',
        '  spool dlq replay billing-orders-dlq --to-topic orders-reprocess --output json',
      ].join('\n'),
    )
    .action(async (topic: string, flags: ReplayFlags, command: Command) => {
      const summary = await replayDeadLetters(topic, flags, command);
      const { replayed, skipped, read } = summary;
      print(command, summary, () => {
        const plural = (n: number) => `${n} record${n === 1 ? '' : 's'}`;
        const targets = Object.entries(summary.targets)
          .map(([target, n]) => `${n} to ${target}`)
          .join(', ');
        return [
          `${summary.dryRun ? 'dry run: would replay' : 'replayed'} ${replayed} of ${plural(read)} read from ${topic}${targets ? ` (${targets})` : ''}`,
          ...(skipped > 0
            ? [`skipped ${plural(skipped)} without a ${RETRY_HEADERS.originalTopic} header`]
            : []),
        ].join('\n');
      });
    });
}

async function replayDeadLetters(
  topic: string,
  flags: ReplayFlags,
  command: Command,
): Promise<DlqReplaySummary> {
  const servers = parseBootstrap(globalOptions(command).bootstrap);
  const dryRun = flags.dryRun ?? false;
  const summary: DlqReplaySummary = {
    topic,
    group: flags.group ?? null,
    dryRun,
    read: 0,
    replayed: 0,
    targets: {},
    skipped: 0,
  };
  const admin = new Admin({ bootstrap: servers, clientId: 'spool-cli' });
  try {
    const ranges = await partitionRanges(admin, servers, topic, flags.group);
    const pending = ranges.filter((r) => r.start < r.end);
    if (pending.length === 0) return summary;
    const total = Math.min(
      flags.limit ?? Number.POSITIVE_INFINITY,
      pending.reduce((sum, r) => sum + r.end - r.start, 0),
    );
    const targets = new Map<string, Promise<unknown>>();
    /** Fails fast (one line) on a target that does not exist, instead of the producer's long wait for it. */
    const checkTarget = (target: string) => {
      const known = targets.get(target) ?? existingTopicPartitions(admin, target);
      targets.set(target, known);
      return known;
    };
    const consumer = new Consumer<Buffer, Buffer>({
      bootstrap: servers,
      clientId: 'spool-cli',
      ...(flags.group !== undefined ? { groupId: flags.group } : {}),
      startFrom: 'earliest',
      // Commits are explicit: only after the batch's copies are acknowledged.
      autoCommit: false,
    });
    const producer = dryRun
      ? undefined
      : new Producer<Buffer, Buffer>({ bootstrap: servers, clientId: 'spool-dlq-replay' });
    const endOf = new Map(pending.map((r) => [r.partition, r.end]));
    const reached = new Set<number>();
    let inFlight = false;
    const finished = () =>
      summary.read >= total ||
      reached.size === pending.length ||
      // Offsets without records at a partition's end (say, compacted away) never come in a
      // batch: the consumer's position shows they were passed.
      (!inFlight && positionsPassed());
    const positionsPassed = () => {
      const lag = consumer.lag();
      return lag.length > 0 && lag.every((p) => p.position >= (endOf.get(p.partition) ?? 0));
    };
    const stop = () => void consumer.close();

    const replayBatch = async (batch: ConsumerBatch<Buffer, Buffer>) => {
      inFlight = true;
      try {
        await replayRecords(batch);
      } finally {
        inFlight = false;
      }
      if (finished()) stop();
    };
    const replayRecords = async (batch: ConsumerBatch<Buffer, Buffer>) => {
      const end = endOf.get(batch.partition)!;
      const records = batch.records.filter((r) => r.offset < end).slice(0, total - summary.read);
      const sends = records.map(async (record) => {
        const target =
          flags.toTopic ??
          record.headers.find((h) => h.key === RETRY_HEADERS.originalTopic)?.value?.toString();
        if (!target) {
          summary.skipped++;
          return;
        }
        await checkTarget(target);
        await producer?.send(target, {
          key: record.key,
          value: record.value,
          headers: withoutRetryHeaders(record.headers),
        });
        summary.replayed++;
        summary.targets[target] = (summary.targets[target] ?? 0) + 1;
      });
      summary.read += records.length;
      await Promise.all(sends);
      const last = records.at(-1);
      if (last && flags.group !== undefined && !dryRun)
        await consumer.commit([{ topic, partition: batch.partition, offset: last.offset + 1 }]);
      if (last === undefined || last.offset + 1 >= end) reached.add(batch.partition);
    };

    const showProgress = flags.progress ?? process.stderr.isTTY === true;
    const progress = showProgress ? new ProgressLine(process.stderr) : undefined;
    const draw = (force = false) => progress?.update(formatReplayProgress(summary, total), force);
    const ticker = setInterval(() => {
      draw();
      if (finished()) stop();
    }, 250);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    consumer.assign(pending.map(({ topic, partition }) => ({ topic, partition })));
    try {
      await consumer.run({ eachBatch: replayBatch });
    } catch (error) {
      throw new CliError(
        `replaying ${topic} stopped after ${summary.replayed} records: ${errorLine(error).replace(/^error: /, '')}`,
        { cause: error },
      );
    } finally {
      clearInterval(ticker);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      await consumer.close();
      await producer?.close();
      if (progress) {
        draw(true);
        progress.end();
      }
    }
    return summary;
  } finally {
    admin.close();
  }
}

/**
 * Each partition's range to replay: from the group's committed offset (or the log start) to the
 * log end now.
 */
async function partitionRanges(
  admin: Admin,
  servers: string[],
  topic: string,
  group: string | undefined,
): Promise<PartitionRange[]> {
  const count = await existingTopicPartitions(admin, topic);
  const committed = group === undefined ? [] : await admin.fetchOffsets(group, [topic]);
  const cluster = new Cluster({ bootstrap: servers, clientId: 'spool-cli' });
  try {
    await cluster.connect();
    const spec = (timestamp: number) =>
      Array.from({ length: count }, (_, partition) => ({ topic, partition, timestamp }));
    const [earliest, latest] = await cluster.retry(() =>
      Promise.all([
        listOffsets(cluster, spec(OffsetSpec.EARLIEST)),
        listOffsets(cluster, spec(OffsetSpec.LATEST)),
      ]),
    );
    return Array.from({ length: count }, (_, partition) => {
      const low = earliest.find((o) => o.partition === partition)?.offset ?? 0;
      const position = committed.find((c) => c.partition === partition && c.offset >= 0)?.offset ?? low;
      return {
        topic,
        partition,
        // A committed offset below the log start (retention) resumes at the log start.
        start: Math.max(low, position),
        end: latest.find((o) => o.partition === partition)?.offset ?? low,
      };
    });
  } finally {
    cluster.close();
  }
}

/** `[#########...............]  37.5%  30/80 records  29 replayed  1 skipped` */
export function formatReplayProgress(
  summary: Pick<DlqReplaySummary, 'read' | 'replayed' | 'skipped'>,
  total: number,
  barWidth = 24,
): string {
  const fraction = total > 0 ? Math.min(1, summary.read / total) : 1;
  const filled = Math.round(fraction * barWidth);
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
    `${summary.read}/${total} records  ${summary.replayed} replayed  ${summary.skipped} skipped`
  );
}
