import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { InFlightLimit } from '../../bench/perf/in-flight-limit.js';
import { everyInterval, ThroughputMeter } from '../../bench/perf/progress.js';
import { Producer, type RecordMetadata } from '../../client/index.js';
import { CliError, errorLine, integer, print, withAdmin } from '../common.js';
import { parseHeaders, readLines, splitLine } from '../line-records.js';
import {
  addProducerOptions,
  existingTopicPartitions,
  type ProducerFlags,
  producerOptions,
} from '../producer-options.js';

interface ProduceFlags extends ProducerFlags {
  file?: string;
  keySeparator?: string;
  strictKeys?: boolean;
  header?: string[];
  partition?: number;
  /** undefined: report progress when stderr is a terminal. */
  progress?: boolean;
}

export interface PartitionSummary {
  partition: number;
  records: number;
  /** null with acks=0, where the broker reports no offsets. */
  firstOffset: number | null;
  lastOffset: number | null;
}

export interface ProduceSummary {
  topic: string;
  records: number;
  bytes: number;
  elapsedMs: number;
  partitions: PartitionSummary[];
}

/** The least a producer must do for `produceLines` (the SDK Producer, or a fake in tests). */
export interface LineProducer {
  send(
    topic: string,
    record: {
      key: Buffer | null;
      value: Buffer;
      headers: { key: string; value: Buffer }[];
      partition?: number;
    },
  ): Promise<RecordMetadata>;
}

export interface ProduceLinesOptions {
  topic: string;
  /** Split key from value at the first occurrence; absent: every line is a value with a null key. */
  separator?: Buffer;
  /** With a separator: a line without it fails the run instead of getting a null key. */
  strictKeys?: boolean;
  headers?: { key: string; value: Buffer }[];
  partition?: number;
  /** Sends not acknowledged yet at most, before reading waits. Default 10 000. */
  maxInFlight?: number;
  /** Called every `progressIntervalMs` (default 1 s) in which records were acknowledged. */
  onProgress?: (line: string) => void;
  progressIntervalMs?: number;
}

const DEFAULT_MAX_IN_FLIGHT = 10_000;

export function produceCommand(program: Command): void {
  const produce = program
    .command('produce')
    .description('produce records read from stdin or a file, one line per record')
    .argument('<topic>', 'the topic to write to (it must exist)')
    .option('--file <path>', 'read the records from this file instead of stdin')
    .option(
      '--key-separator <sep>',
      'split each line at the first <sep> into key and value; a line without <sep> becomes a value with a null key',
    )
    .option('--strict-keys', 'with --key-separator: fail at the first line without the separator instead')
    .option('--header <key=value>', 'a header on every record (repeatable)', collect)
    .option(
      '--partition <n>',
      'write every record to this partition (default: the murmur2 hash of the key, as the Java client; sticky for null keys)',
      integer(0),
    );
  addProducerOptions(produce)
    .option('--progress', 'report progress on stderr every second (the default when stderr is a terminal)')
    .option('--no-progress', 'never report progress')
    .addHelpText(
      'after',
      [
        '',
        'Every line is one record: its bytes are sent as they are (no decoding), without the line',
        'break (\\n or \\r\\n); an empty line is a record with an empty value. Input is streamed',
        `with at most ${DEFAULT_MAX_IN_FLIGHT} records awaiting acknowledgement, so files of any size work.`,
        'The summary goes to stdout ("produced N records to <topic>", or with --output json the',
        'per-partition record counts and offset ranges); on a failure (e.g. a line without the',
        'separator under --strict-keys) the error line says how many records were produced before it.',
        '',
        'Examples:',
        "  printf 'order-1:created\\norder-2:paid\\n' | spool produce orders --key-separator :",
        '  spool produce orders --file events.txt --header source=import --compression lz4',
      ].join('\n'),
    )
    .action(async (topic: string, flags: ProduceFlags, command: Command) => {
      const separator =
        flags.keySeparator === undefined ? undefined : Buffer.from(flags.keySeparator, 'utf8');
      if (separator?.length === 0) throw new CliError('--key-separator must not be empty');
      if (flags.strictKeys && !separator) throw new CliError('--strict-keys needs --key-separator');
      const headers = parseHeaders(flags.header ?? []);
      const input = await openInput(flags.file);
      try {
        const partitions = await withAdmin(command, (admin) => existingTopicPartitions(admin, topic));
        if (flags.partition !== undefined && flags.partition >= partitions)
          throw new CliError(
            `partition ${flags.partition} does not exist: topic ${topic} has ${partitions} partition${partitions === 1 ? '' : 's'} (0-${partitions - 1})`,
          );
        const producer = new Producer<Buffer, Buffer>(producerOptions(command, flags, 'spool-cli'));
        if (flags.file === undefined && process.stdin.isTTY)
          process.stderr.write('reading records from stdin, one per line (end with Ctrl-D)\n');
        const showProgress = flags.progress ?? process.stderr.isTTY === true;
        let summary: ProduceSummary;
        try {
          summary = await produceLines(producer, readLines(input), {
            topic,
            separator,
            strictKeys: flags.strictKeys,
            headers,
            partition: flags.partition,
            onProgress: showProgress ? (line) => process.stderr.write(`${line}\n`) : undefined,
          });
        } finally {
          await producer.close();
        }
        print(command, summary, () => `produced ${plural(summary.records, 'record')} to ${topic}`);
      } finally {
        input.destroy();
      }
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

async function openInput(file: string | undefined): Promise<Readable> {
  if (file === undefined || file === '-') return process.stdin;
  try {
    const handle = await open(file, 'r');
    return handle.createReadStream();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot read --file ${file}: ${reason}`, { cause: error });
  }
}

/**
 * Sends each line as a record and waits for every acknowledgement. Reading waits while
 * `maxInFlight` sends are outstanding. The first failed send (or a line without the separator
 * under `strictKeys`) stops reading; once the sends already made have settled, it is thrown as a
 * CliError that says how many records were produced.
 */
export async function produceLines(
  producer: LineProducer,
  lines: AsyncIterable<Buffer>,
  options: ProduceLinesOptions,
): Promise<ProduceSummary> {
  const { topic, separator, partition } = options;
  const headers = options.headers ?? [];
  const limit = new InFlightLimit(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const meter = new ThroughputMeter();
  const perPartition = new Map<number, PartitionSummary>();
  let failure: { error: unknown } | undefined;

  const onProgress = options.onProgress;
  const stopProgress = onProgress
    ? everyInterval(options.progressIntervalMs ?? 1000, () => {
        const window = meter.window();
        if (window.records === 0) return;
        onProgress(
          `${meter.records} records produced, ${window.recordsPerSec.toFixed(1)} records/sec (${window.mibPerSec.toFixed(2)} MiB/sec)`,
        );
      })
    : () => {};

  const acknowledged = (bytes: number, metadata: RecordMetadata) => {
    meter.record(bytes);
    const entry = perPartition.get(metadata.partition) ?? {
      partition: metadata.partition,
      records: 0,
      firstOffset: null,
      lastOffset: null,
    };
    entry.records++;
    if (metadata.offset >= 0) {
      entry.firstOffset =
        entry.firstOffset === null ? metadata.offset : Math.min(entry.firstOffset, metadata.offset);
      entry.lastOffset =
        entry.lastOffset === null ? metadata.offset : Math.max(entry.lastOffset, metadata.offset);
    }
    perPartition.set(metadata.partition, entry);
  };

  try {
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      const record = splitLine(line, separator);
      const key = record?.key ?? null;
      const value = record?.value ?? line;
      if (!record && options.strictKeys) {
        failure ??= {
          error: new CliError(
            `line ${lineNumber} has no key separator '${separator?.toString('utf8')}' (--strict-keys)`,
          ),
        };
      }
      if (failure) break;
      if (!limit.tryAcquire()) await limit.acquire();
      if (failure) {
        // A send failed while this one waited for its slot.
        limit.release();
        break;
      }
      const bytes = (key?.length ?? 0) + value.length;
      producer.send(topic, { key, value, headers, partition }).then(
        (metadata) => {
          acknowledged(bytes, metadata);
          limit.release();
        },
        (error: unknown) => {
          failure ??= { error };
          limit.release();
        },
      );
    }
  } finally {
    await limit.drain();
    stopProgress();
  }
  if (failure) {
    const reason = errorLine(failure.error).replace(/^error: /, '');
    throw new CliError(`${reason} (${plural(meter.records, 'record')} produced before the failure)`, {
      cause: failure.error,
    });
  }
  return {
    topic,
    records: meter.records,
    bytes: meter.bytes,
    elapsedMs: Math.round(meter.elapsedMs()),
    partitions: [...perPartition.values()].sort((a, b) => a.partition - b.partition),
  };
}
