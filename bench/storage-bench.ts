/**
 * Storage benchmark: PartitionLog append and sequential-read throughput next to the raw throughput
 * of the same disk, measured in the same process with the same chunk sizes and flush policy.
 *
 *   npm run bench:storage -- [--flush os|every-batch|interval:<ms>] [--size-mb N] [--runs N]
 *                            [--dir PATH] [--segment-mb N] [--json]
 *
 * The machine is assumed noisy: raw and Spool runs alternate (ABAB, with the order flipped every
 * run) so drift hits both, and the headline figure is the median per-run ratio, not absolute MB/s.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type BenchOptions, parseBenchOptions, USAGE, UsageError } from './storage/options.js';
import { runRawFile } from './storage/raw-file.js';
import {
  type BenchSetup,
  type CaseSamples,
  describeMachine,
  jsonReport,
  machineLine,
  markdownReport,
  summarize,
} from './storage/report.js';
import { runSpoolLog } from './storage/spool-log.js';
import { type EngineRun, megabytesPerSecond } from './storage/timing.js';
import {
  BATCH_SHAPES,
  buildWorkload,
  RECORD_VALUE_BYTES,
  shortened,
  type Workload,
} from './storage/workload.js';

/** Bytes a consumer asks for per read (and the raw baseline's read chunk). */
const READ_MAX_BYTES = 1024 * 1024;
/** Enough untimed work per engine and case to get the hot paths compiled before measuring. */
const WARM_UP_BYTES = 32 * 1024 * 1024;

type Engine = 'raw' | 'spool';

async function main(): Promise<void> {
  const options = parseOptionsOrExit(process.argv.slice(2));
  if (!options) return;
  const parentDir = resolve(options.parentDir);
  await mkdir(parentDir, { recursive: true });
  // Always a fresh directory of our own, so cleanup can never touch the user's files.
  const workDir = await mkdtemp(join(parentDir, 'spool-storage-bench-'));
  const stopCleanupOnInterrupt = removeOnInterrupt(workDir);
  try {
    const machine = await describeMachine(workDir);
    progress(machineLine(machine));
    const workloads = BATCH_SHAPES.map((shape) => buildWorkload(shape, options.sizeBytes));
    await warmUp(workDir, workloads, options);
    const summaries = (await measureAll(workDir, workloads, options)).map(summarize);
    const setup = describeSetup(options, workloads);
    console.log(
      options.json ? jsonReport(machine, setup, summaries) : markdownReport(machine, setup, summaries),
    );
  } finally {
    stopCleanupOnInterrupt();
    await rm(workDir, { recursive: true, force: true });
  }
}

function describeSetup(options: BenchOptions, workloads: readonly Workload[]): BenchSetup {
  return {
    options,
    recordValueBytes: RECORD_VALUE_BYTES,
    readMaxBytes: READ_MAX_BYTES,
    batches: workloads.map((w) => ({
      label: w.shape.label,
      records: w.shape.recordsPerBatch,
      bytes: w.batches[0]!.length,
    })),
  };
}

function parseOptionsOrExit(argv: string[]): BenchOptions | null {
  try {
    const options = parseBenchOptions(argv);
    if (!options) console.log(USAGE);
    return options;
  } catch (error) {
    // parseArgs reports unknown flags with its own TypeError; both are the user's input.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

/** One untimed pass of every engine and case, so the first measured run is not also the JIT's. */
async function warmUp(workDir: string, workloads: readonly Workload[], options: BenchOptions): Promise<void> {
  progress('warming up…');
  for (const workload of workloads) {
    for (const engine of ['raw', 'spool'] as const) {
      await runOnce(engine, workDir, shortened(workload, WARM_UP_BYTES), options);
    }
  }
}

/** Runs every case `options.runs` times, alternating which engine goes first. */
async function measureAll(
  workDir: string,
  workloads: readonly Workload[],
  options: BenchOptions,
): Promise<CaseSamples[]> {
  const appendCases = workloads.map((w) => emptyCase(`append, ${w.shape.label} batches`));
  const readCases = workloads.map((w) => emptyCase(`read, ${w.shape.label} batches`));
  for (let run = 0; run < options.runs; run++) {
    const order: Engine[] = run % 2 === 0 ? ['raw', 'spool'] : ['spool', 'raw'];
    for (const [i, workload] of workloads.entries()) {
      for (const engine of order) {
        // Printed before the run so that a slow one (e.g. --flush every-batch) shows what it is doing.
        progress(
          `run ${run + 1}/${options.runs} · ${workload.shape.label} batches · ${engine.padEnd(5)} `,
          false,
        );
        const result = await runOnce(engine, workDir, workload, options);
        const append = megabytesPerSecond(result.append);
        const read = megabytesPerSecond(result.read);
        appendCases[i]![engine].push(append);
        readCases[i]![engine].push(read);
        progress(`append ${append.toFixed(0)} MB/s, read ${read.toFixed(0)} MB/s`);
      }
    }
  }
  return [...appendCases, ...readCases];
}

function emptyCase(name: string): CaseSamples {
  return { name, spool: [], raw: [] };
}

/** One engine's append+read pass in a scratch directory that is deleted afterwards. */
async function runOnce(
  engine: Engine,
  workDir: string,
  workload: Workload,
  options: BenchOptions,
): Promise<EngineRun> {
  const dir = join(workDir, engine);
  await mkdir(dir);
  try {
    return engine === 'raw'
      ? await runRawFile(dir, workload, options.flush, READ_MAX_BYTES)
      : await runSpoolLog(
          dir,
          workload,
          { flush: options.flush, segmentBytes: options.segmentBytes },
          READ_MAX_BYTES,
        );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Ctrl-C mid-run would otherwise leave up to a few GiB behind in the temp directory. */
function removeOnInterrupt(dir: string): () => void {
  const onSignal = (): void => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Progress goes to stderr so that stdout stays a clean table (or JSON) to paste or pipe. */
function progress(message: string, endLine = true): void {
  process.stderr.write(endLine ? `${message}\n` : message);
}

await main();
