import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { type FlushPolicy, parseLogConfig } from '../../broker/storage/log-config.js';

const MIB = 1024 * 1024;

export interface BenchOptions {
  /** Bytes appended per engine, per batch shape, per run. */
  sizeBytes: number;
  runs: number;
  /** Parent directory; the benchmark works in a fresh temporary directory inside it. */
  parentDir: string;
  flush: FlushPolicy;
  segmentBytes: number;
  /** True when --segment-mb was not given, i.e. the log's own default segment size is in use. */
  segmentBytesIsDefault: boolean;
  json: boolean;
}

export const USAGE = `Usage: npm run bench:storage -- [options]

Compares PartitionLog append/read throughput with plain-file I/O on the same disk.

  --flush <policy>     os | every-batch | interval:<ms>   (default: os)
                       every-batch fsyncs per append: pair it with e.g. --size-mb 32
  --size-mb <n>        data appended per run and case, in MiB (default: 512)
  --runs <n>           measured runs per case (default: 5)
  --dir <path>         parent directory for the data (default: ${tmpdir()})
  --segment-mb <n>     segment size in MiB (default: the log's default segment size)
  --json               print JSON instead of a Markdown table
  -h, --help           show this help`;

/** Taken from the log's own defaults, so the benchmark follows them if they change. */
const DEFAULT_SEGMENT_BYTES = parseLogConfig().segmentBytes;

/** Thrown for bad command-line input; the caller prints usage and exits with status 2. */
export class UsageError extends Error {}

/** Parses argv (without node and the script). Returns null when help was requested. */
export function parseBenchOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      flush: { type: 'string', default: 'os' },
      'size-mb': { type: 'string', default: '512' },
      runs: { type: 'string', default: '5' },
      dir: { type: 'string', default: tmpdir() },
      'segment-mb': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const segmentMb = values['segment-mb'];
  return {
    sizeBytes: parsePositiveInt('--size-mb', values['size-mb']) * MIB,
    runs: parsePositiveInt('--runs', values.runs),
    parentDir: values.dir,
    flush: parseFlushPolicy(values.flush),
    // Segment files are addressed with int32 positions, hence the 2047 MiB ceiling.
    segmentBytes: segmentMb === undefined ? DEFAULT_SEGMENT_BYTES : parseSegmentMb(segmentMb) * MIB,
    segmentBytesIsDefault: segmentMb === undefined,
    json: values.json,
  };
}

export function parseFlushPolicy(text: string): FlushPolicy {
  if (text === 'os' || text === 'every-batch') return { mode: text };
  const interval = /^interval:(\d+)$/.exec(text);
  if (interval) {
    const intervalMs = Number(interval[1]);
    if (intervalMs > 0) return { mode: 'interval', intervalMs };
  }
  throw new UsageError(`--flush must be os, every-batch or interval:<ms>, got '${text}'`);
}

export function describeFlushPolicy(flush: FlushPolicy): string {
  return flush.mode === 'interval' ? `interval:${flush.intervalMs}` : flush.mode;
}

function parsePositiveInt(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag} must be a positive integer`);
  return value;
}

function parseSegmentMb(text: string): number {
  const value = parsePositiveInt('--segment-mb', text);
  if (value > 2047) throw new UsageError('--segment-mb must be at most 2047');
  return value;
}
