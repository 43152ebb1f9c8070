import { type Command, InvalidArgumentError, Option } from 'commander';
import { Consumer, type ConsumerRecord, type StartPosition } from '../../client/consumer/index.js';
import { CliError, globalOptions, integer, parseBootstrap, topicPartitions, withAdmin } from '../common.js';

interface ConsumeFlags {
  group?: string;
  from: StartPosition;
  partition?: number[];
  maxMessages?: number;
  timeoutMs?: number;
  printKey?: boolean;
  printHeaders?: boolean;
  printMetadata?: boolean;
  keySeparator: string;
}

/** `earliest`, `latest`, milliseconds since the epoch, or an ISO-8601 date-time. */
export function parseStartPosition(value: string): StartPosition {
  if (value === 'earliest' || value === 'latest') return value;
  const timestamp = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(timestamp))
    throw new InvalidArgumentError(
      `'${value}' is not earliest, latest, a timestamp in ms or an ISO date-time.`,
    );
  return { timestamp };
}

/** A record as `--output json` prints it (one per line; bytes as UTF-8). */
export interface RecordJson {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

/** One output line for `record`: JSON, or the value with whatever --print-* asked for. */
export function formatRecord(
  record: ConsumerRecord<Buffer, Buffer>,
  format: 'text' | 'json',
  flags: Pick<ConsumeFlags, 'printKey' | 'printHeaders' | 'printMetadata' | 'keySeparator'>,
): string {
  const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
  if (format === 'json') {
    const json: RecordJson = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: text(record.key),
      value: text(record.value),
      headers: Object.fromEntries(record.headers.map((h) => [h.key, text(h.value)])),
    };
    return JSON.stringify(json);
  }
  const parts: string[] = [];
  if (flags.printMetadata)
    parts.push(
      `${record.topic}[${record.partition}]@${record.offset} ${new Date(record.timestamp).toISOString()}`,
    );
  if (flags.printHeaders)
    parts.push(record.headers.map((h) => `${h.key}=${text(h.value) ?? ''}`).join(',') || '-');
  if (flags.printKey) parts.push(text(record.key) ?? 'null');
  parts.push(text(record.value) ?? 'null');
  return parts.join(flags.printKey || flags.printHeaders || flags.printMetadata ? flags.keySeparator : '');
}

export function consumeCommand(program: Command): void {
  program
    .command('consume')
    .description('print records of topics to stdout (one per line; JSON lines with --output json)')
    .argument('<topic...>', 'topics to read')
    .option(
      '--group <id>',
      'consume as a member of this group, committing offsets (default: no group, no commits)',
    )
    .addOption(
      new Option(
        '--from <position>',
        'where to start without a committed offset: earliest, latest, ms or ISO date',
      )
        .argParser(parseStartPosition)
        .default('latest'),
    )
    .option('--partition <n...>', 'only these partitions (without --group)', (v, prev: number[] = []) => [
      ...prev,
      integer(0)(v),
    ])
    .option('--max-messages <n>', 'exit after this many records', integer(1))
    .option('--timeout-ms <ms>', 'exit when no record arrived for this long', integer(1))
    .option('--print-key', 'text output: print the key before the value')
    .option('--print-headers', 'text output: print the headers (k=v,...) before the value')
    .option('--print-metadata', 'text output: print topic[partition]@offset and the timestamp first')
    .option('--key-separator <sep>', 'text output: separator between the printed fields', '\t')
    .addHelpText(
      'after',
      [
        '',
        'Without --group, every partition (or those given with --partition) is read and nothing is',
        'committed. With --group, the CLI joins the group like any consumer, and commits what it has',
        'printed (every 5 s and on exit), so the next run with the same group goes on from there.',
        'Values are printed as UTF-8, one record per line; the count goes to stderr at the end.',
        'Ctrl-C (SIGINT) or SIGTERM stops cleanly.',
        '',
        'Examples:',
        '  spool consume orders --from earliest --print-key --max-messages 10',
        '  spool consume orders --group audit --output json > orders.jsonl',
        '  spool consume orders --from 2026-12-01T00:00:00Z --timeout-ms 5000',
      ].join('\n'),
    )
    .action(async (topics: string[], flags: ConsumeFlags, command: Command) => {
      const { bootstrap, output } = globalOptions(command);
      const servers = parseBootstrap(bootstrap);
      if (flags.group !== undefined && flags.partition !== undefined)
        throw new CliError('--partition reads without a group; drop --group or --partition');
      const consumer = new Consumer({
        bootstrap: servers,
        clientId: 'spool-cli',
        ...(flags.group === undefined ? {} : { groupId: flags.group }),
        startFrom: flags.from,
      });
      if (flags.group !== undefined) consumer.subscribe(topics);
      else
        consumer.assign(await withAdmin(command, (admin) => topicPartitions(admin, topics, flags.partition)));

      let count = 0;
      let idle: NodeJS.Timeout | undefined;
      const stop = () => void consumer.close();
      const armIdleTimer = () => {
        if (flags.timeoutMs === undefined) return;
        clearTimeout(idle);
        idle = setTimeout(stop, flags.timeoutMs);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // The idle timeout counts from when the consumer has its partitions: joining a group
      // takes a few seconds and must not count as a quiet topic.
      void consumer.ready().then(armIdleTimer, () => {});
      consumer.on('warning', ({ error }) => {
        if (globalOptions(command).verbose) process.stderr.write(`warning: ${error.message}\n`);
      });
      try {
        await consumer.run({
          eachMessage: (record) => {
            process.stdout.write(`${formatRecord(record, output, flags)}\n`);
            count++;
            armIdleTimer();
            if (flags.maxMessages !== undefined && count >= flags.maxMessages) stop();
          },
        });
      } finally {
        // run() returns as soon as delivery stops; closing goes on to commit and leave the group.
        await consumer.close();
        clearTimeout(idle);
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
      process.stderr.write(`consumed ${count} record${count === 1 ? '' : 's'}\n`);
    });
}
