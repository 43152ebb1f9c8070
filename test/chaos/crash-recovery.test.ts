/**
 * Crash-safety harness: a child process appends to a PartitionLog as fast as it can and is
 * SIGKILLed at random moments, SPOOL_CRASH_KILLS times (default 50; `npm run test:crash:long`
 * runs 500). Between kills, the parent sometimes simulates what a power loss does to data that was
 * never fsynced (SIGKILL alone keeps the page cache): it truncates the active segment somewhere
 * past the durable point, appends garbage, or flips a byte in the unflushed tail. Then it reopens
 * the log (always an unclean open), checks it through the API, closes it cleanly, and checks the
 * files with an independent parser. The next child then opens the cleanly closed log and is
 * killed again, so every check is of recovery from an unclean shutdown.
 *
 * SPOOL_CRASH_SEED replays a run (the seed is printed and included in every failure message).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, open, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FlushPolicy } from '../../broker/storage/log-config.js';
import { CLEAN_SHUTDOWN_FILE, PartitionLog } from '../../broker/storage/partition-log.js';
import type { ChildCommand } from './fixtures/crash-child.js';
import { expectedOffsetForTimestamp, readWholeLog } from './fixtures/log-checks.js';
import { Rng } from './fixtures/records.js';
import { BATCH, parseLogFile, segmentBases, segmentStem, verifyDirectory } from './fixtures/segment-files.js';

const KILLS = Number(process.env.SPOOL_CRASH_KILLS ?? 50);
const SEED = Number(process.env.SPOOL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_SCRIPT = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

interface ChildHandle {
  proc: ChildProcess;
  /** Resolves once the child has loaded its modules and waits for its command. */
  loaded: Promise<void>;
  /** Resolves once the child has opened the log. */
  ready: Promise<{ clean: boolean; logStartOffset: number; logEndOffset: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Highest recovery point the child reported (everything below it was fsynced). */
  maxDurable: number;
  lastLeo: number;
  stderr: string;
}

interface ChildLauncher {
  args: string[];
  env: NodeJS.ProcessEnv;
  describe: string;
}

/**
 * How to start a child. Under `--import tsx` a child needs ~0.45 s of CPU before it runs (tsx's
 * loader thread plus transforming each module); bundled once with esbuild (which tsx itself runs
 * on) into a CommonJS file whose packages resolve through NODE_PATH, it needs ~0.15 s. On a
 * two-core machine that is most of the harness's run time, so bundle unless SPOOL_CRASH_CHILD=tsx
 * or esbuild is not installed.
 */
async function prepareLauncher(workDir: string): Promise<ChildLauncher> {
  const viaTsx: ChildLauncher = {
    args: ['--import', 'tsx', CHILD_SCRIPT],
    env: process.env,
    describe: 'tsx',
  };
  if (process.env.SPOOL_CRASH_CHILD === 'tsx') return viaTsx;
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return viaTsx;
  }
  const outfile = join(workDir, 'crash-child.cjs');
  await esbuild.build({
    entryPoints: [CHILD_SCRIPT],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  const nodePath = [join(ROOT, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(':');
  return { args: [outfile], env: { ...process.env, NODE_PATH: nodePath }, describe: 'esbuild bundle' };
}

/** Starts a child; it loads its modules (the slow part) and then waits for a command. */
function spawnChild(launcher: ChildLauncher): ChildHandle {
  const proc = spawn(process.execPath, launcher.args, {
    cwd: ROOT,
    env: launcher.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let onLoaded!: () => void;
  let onReady!: (info: { clean: boolean; logStartOffset: number; logEndOffset: number }) => void;
  const handle: ChildHandle = {
    proc,
    loaded: new Promise((resolve) => {
      onLoaded = resolve;
    }),
    ready: new Promise((resolve) => {
      onReady = resolve;
    }),
    exited: new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal }))),
    maxDurable: -1,
    lastLeo: -1,
    stderr: '',
  };
  // A child that dies before it is loaded or ready fails whoever waits for it.
  const early = handle.exited.then(({ code, signal }) => {
    throw new Error(`crash child exited early (code ${code}, signal ${signal}): ${handle.stderr}`);
  });
  early.catch(() => undefined);
  handle.loaded = Promise.race([handle.loaded, early]);
  handle.ready = Promise.race([handle.ready, early]);
  handle.loaded.catch(() => undefined);
  handle.ready.catch(() => undefined);

  let pending = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      const [kind, ...args] = pending.slice(0, newline).split(' ');
      pending = pending.slice(newline + 1);
      if (kind === 'loaded') onLoaded();
      else if (kind === 'ready') {
        onReady({ clean: args[0] === '1', logStartOffset: Number(args[1]), logEndOffset: Number(args[2]) });
        handle.maxDurable = Math.max(handle.maxDurable, Number(args[3]));
      } else if (kind === 'durable') handle.maxDurable = Math.max(handle.maxDurable, Number(args[0]));
      else if (kind === 'leo') handle.lastLeo = Number(args[0]);
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    handle.stderr += chunk;
  });
  proc.stdin!.on('error', () => undefined);
  return handle;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type TamperKind = 'none' | 'truncate' | 'garbage' | 'flip';

interface Tamper {
  kind: TamperKind;
  /** False when there was nothing unflushed to damage. */
  applied: boolean;
  detail: string;
  /** The SIGKILL itself left a partial or invalid batch at the end of the active segment. */
  tornByKill: boolean;
  /** The log end offset recovery must arrive at: the end of the active segment's valid prefix. */
  expectedLogEnd: number;
  /** The active segment holds bytes past its valid prefix, which recovery must cut off. */
  recoveryMustTruncate: boolean;
}

/**
 * Damages the active segment's unflushed tail the way a power loss could, never touching bytes at
 * or below the durable point (the end of the batch holding offset `durable - 1`).
 */
async function tamperWithActiveSegment(
  dir: string,
  kind: TamperKind,
  durable: number,
  rng: Rng,
): Promise<Tamper> {
  const bases = await segmentBases(dir);
  const base = bases[bases.length - 1]!;
  const path = join(dir, `${segmentStem(base)}.log`);
  const before = await parseLogFile(dir, base);
  let durablePosition = 0;
  if (durable > base) {
    const batch = before.batches.find((b) => b.lastOffset === durable - 1);
    if (!batch) {
      throw new Error(
        `offset ${durable - 1} was reported durable, but the active segment ${base} holds whole valid batches only up to ${before.nextOffset - 1}`,
      );
    }
    durablePosition = batch.position + batch.size;
  }
  const size = before.fileSize;
  let applied = size > durablePosition;
  let detail = `active segment ${base}: ${size} bytes, durable up to byte ${durablePosition}`;
  switch (kind) {
    case 'none':
      applied = false;
      break;
    case 'truncate': {
      if (!applied) break;
      const boundaries = before.batches.map((b) => b.position).filter((p) => p >= durablePosition);
      const at =
        boundaries.length > 0 && rng.chance(0.3)
          ? rng.pick(boundaries)
          : rng.range(durablePosition, size - 1);
      await truncate(path, at);
      detail += `; truncated to ${at}`;
      break;
    }
    case 'garbage': {
      applied = true;
      const variant = rng.int(4);
      let garbage: Buffer;
      if (variant === 0) {
        garbage = rng.bytes(rng.range(1, 2000));
      } else if (variant === 1) {
        // Blocks allocated but never written read back as zeros.
        garbage = Buffer.alloc(rng.pick([1, 61, 512, 4096]));
      } else if (variant === 2 && before.batches.length > 0) {
        // A stale copy of a valid batch: good CRC, but an offset that does not continue the log.
        const batch = rng.pick(before.batches);
        garbage = (await readBytes(path, batch.position, batch.size)).subarray(0, rng.range(1, batch.size));
        if (rng.chance(0.5)) garbage = await readBytes(path, batch.position, batch.size);
      } else {
        // Plausible header for the next offset, wrong CRC.
        garbage = rng.bytes(rng.range(61, 3000));
        garbage.writeBigInt64BE(BigInt(before.nextOffset), BATCH.baseOffset);
        garbage.writeInt32BE(garbage.length - 12, BATCH.length);
        garbage.writeInt8(2, BATCH.magic);
      }
      await appendFile(path, garbage);
      detail += `; appended ${garbage.length} bytes of garbage (variant ${variant})`;
      break;
    }
    case 'flip': {
      // Bytes the batch CRC covers, plus the length, magic and CRC fields (any change to those is
      // detectable too). The base offset and leader epoch sit outside the CRC by the format's
      // design (the leader rewrites them), so a flip there is undetectable by any Kafka log.
      const ranges: [number, number][] = [];
      for (const b of before.batches) {
        const end = b.position + b.size;
        if (end <= durablePosition) continue;
        for (const [from, to] of [
          [b.position + BATCH.length, b.position + BATCH.leaderEpoch],
          [b.position + BATCH.magic, end],
        ] as const) {
          if (to > durablePosition) ranges.push([Math.max(from, durablePosition), to]);
        }
      }
      if (before.validEnd < size) ranges.push([Math.max(before.validEnd, durablePosition), size]);
      const total = ranges.reduce((sum, [from, to]) => sum + (to - from), 0);
      if (total === 0) {
        applied = false;
        break;
      }
      let pick = rng.int(total);
      let at = -1;
      for (const [from, to] of ranges) {
        if (pick < to - from) {
          at = from + pick;
          break;
        }
        pick -= to - from;
      }
      const handle = await open(path, 'r+');
      try {
        const byte = Buffer.alloc(1);
        await handle.read(byte, 0, 1, at);
        byte[0] = byte[0]! ^ rng.range(1, 255);
        await handle.write(byte, 0, 1, at);
      } finally {
        await handle.close();
      }
      detail += `; flipped byte ${at}`;
      break;
    }
  }
  const after = await parseLogFile(dir, base);
  return {
    kind,
    applied,
    detail,
    tornByKill: before.failure !== undefined,
    expectedLogEnd: after.nextOffset,
    recoveryMustTruncate: after.validEnd < after.fileSize,
  };
}

async function readBytes(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, position);
    return buf;
  } finally {
    await handle.close();
  }
}

function flushPolicyFor(iteration: number, rng: Rng): FlushPolicy {
  switch (iteration % 3) {
    case 0:
      return { mode: 'every-batch' };
    case 1:
      return { mode: 'interval', intervalMs: rng.range(1, 25) };
    default:
      return { mode: 'os' };
  }
}

const TAMPER_CYCLE: readonly TamperKind[] = ['none', 'truncate', 'garbage', 'none', 'flip'];

interface HarnessState {
  dir: string;
  rng: Rng;
  t0: number;
  /** Highest recovery point any child reported. */
  maxDurable: number;
  /** Log start and end offsets as of the last clean close. */
  closedStart: number;
  closedEnd: number;
  stats: {
    kills: number;
    byFlushMode: Record<FlushPolicy['mode'], number>;
    tampered: Record<TamperKind, number>;
    tornByKill: number;
    recoveriesThatTruncated: number;
    recordsVerified: number;
    maxSegments: number;
    highestSegmentBase: number;
  };
}

/**
 * Opens the log after an unclean shutdown and checks it through the API, then closes it cleanly
 * and checks the files independently.
 */
async function verifyRecovery(state: HarnessState, tamper: Tamper): Promise<void> {
  const { dir, rng, t0 } = state;
  const log = await PartitionLog.open(dir, {
    config: { indexIntervalBytes: rng.pick([128, 512, 4096]), segmentBytes: 256 * 1024 },
  });
  let end: number;
  try {
    end = log.logEndOffset;
    expect(end, 'the log end offset must not fall below the durable point').toBeGreaterThanOrEqual(
      state.maxDurable,
    );
    expect(end, 'recovery must keep exactly the valid prefix of the active segment').toBe(
      tamper.expectedLogEnd,
    );
    expect(log.logStartOffset, 'the log start offset never moves back').toBeGreaterThanOrEqual(
      state.closedStart,
    );
    expect(log.logStartOffset).toBeLessThanOrEqual(end);
    expect(log.recoveryPoint).toBe(end);
    expect(log.segmentBaseOffsets, 'recovery leaves the log and the directory in agreement').toEqual(
      await segmentBases(dir),
    );

    const whole = await readWholeLog(log, t0, rng);
    state.stats.recordsVerified += whole.timestamps.length;

    // Leader epochs: every batch's epoch is cached, with a range that covers the batch.
    const entries = log.leaderEpochs.all;
    for (const batch of whole.batches) {
      const at = entries.findIndex((e) => e.epoch === batch.partitionLeaderEpoch);
      const last = batch.baseOffset + batch.lastOffsetDelta;
      expect(
        at,
        `epoch ${batch.partitionLeaderEpoch} of batch ${batch.baseOffset} is cached`,
      ).toBeGreaterThanOrEqual(0);
      expect(entries[at]!.startOffset).toBeLessThanOrEqual(Math.max(batch.baseOffset, log.logStartOffset));
      if (at + 1 < entries.length) expect(entries[at + 1]!.startOffset).toBeGreaterThan(last);
    }
    for (const [k, entry] of entries.entries()) {
      expect(entry.startOffset, 'the epoch cache must not run past the log end').toBeLessThan(end);
      if (k > 0) expect(entry.epoch).toBeGreaterThan(entries[k - 1]!.epoch);
    }

    // Timestamp lookups go through both indexes of every segment; compare with brute force. The
    // edges are each segment's max timestamp (as its time index must know it) and one past it.
    const targets = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    for (let k = 0; k < 4 && whole.timestamps.length > 0; k++) {
      targets.push(rng.pick(whole.timestamps).timestamp + rng.range(-3, 3));
    }
    const bases = log.segmentBaseOffsets;
    for (const [k, base] of bases.entries()) {
      const next = bases[k + 1] ?? Number.POSITIVE_INFINITY;
      const inSegment = whole.batches.filter((b) => b.baseOffset >= base && b.baseOffset < next);
      if (inSegment.length === 0) continue;
      const max = Math.max(...inSegment.map((b) => b.maxTimestamp));
      targets.push(max, max + 1);
    }
    for (const target of targets) {
      expect(await log.offsetForTimestamp(target), `offsetForTimestamp(${target})`).toEqual(
        expectedOffsetForTimestamp(whole.timestamps, target),
      );
    }
    state.stats.maxSegments = Math.max(state.stats.maxSegments, log.segmentCount);
    state.stats.highestSegmentBase = Math.max(state.stats.highestSegmentBase, ...log.segmentBaseOffsets);
    state.closedStart = log.logStartOffset;
    state.closedEnd = end;
  } finally {
    await log.close();
  }
  expect(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), 'close leaves the clean-shutdown marker').toBe(true);
  const files = await verifyDirectory(dir);
  expect(files.problems, 'files after a clean close').toEqual([]);
  expect(files.logEndOffset).toBe(end);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

describe('crash safety under SIGKILL and simulated power loss', () => {
  it(`recovers from ${KILLS} random SIGKILLs without losing durable data (seed ${SEED})`, {
    timeout: Math.max(120_000, KILLS * 5_000),
  }, async () => {
    expect(KILLS).toBeGreaterThanOrEqual(1);
    const started = Date.now();
    const workDir = await mkdtemp(join(tmpdir(), 'spool-crash-'));
    const dir = join(workDir, 'partition-0');
    const launcher = await prepareLauncher(workDir);
    const state: HarnessState = {
      dir,
      rng: new Rng(SEED),
      // Record timestamps run from an hour ago, one millisecond per offset, so the iterations that
      // use a short segmentMs also roll segments by time.
      t0: Date.now() - 3_600_000,
      maxDurable: 0,
      closedStart: 0,
      closedEnd: 0,
      stats: {
        kills: 0,
        byFlushMode: { 'every-batch': 0, interval: 0, os: 0 },
        tampered: { none: 0, truncate: 0, garbage: 0, flip: 0 },
        tornByKill: 0,
        recoveriesThatTruncated: 0,
        recordsVerified: 0,
        maxSegments: 0,
        highestSegmentBase: 0,
      },
    };
    const { rng, stats } = state;
    const children: ChildHandle[] = [];
    const spawnTracked = () => {
      const child = spawnChild(launcher);
      children.push(child);
      return child;
    };

    try {
      // Start from a cleanly closed empty log, so every child opens through the clean path and
      // every verification follows an unclean shutdown.
      await (await PartitionLog.open(dir)).close();
      let spare = spawnTracked();

      for (let i = 0; i < KILLS; i++) {
        const flush = flushPolicyFor(i, rng);
        const command: ChildCommand = {
          dir,
          config: {
            segmentBytes: rng.range(64, 256) * 1024,
            indexIntervalBytes: rng.pick([128, 512, 1024, 4096]),
            segmentMs: rng.chance(0.2) ? rng.range(50, 500) : 7 * 24 * 3600 * 1000,
            flush,
          },
          leaderEpoch: i + 1,
          seed: rng.int(2 ** 31),
          t0: state.t0,
          maxInFlight: rng.range(1, 4),
          retainSegments: 6,
        };
        const killAfterMs = rng.chance(0.2)
          ? rng.range(0, 10)
          : rng.chance(0.75)
            ? rng.range(10, 150)
            : rng.range(150, 400);
        const tamperKind = TAMPER_CYCLE[i % TAMPER_CYCLE.length]!;
        let context = `iteration ${i} (seed ${SEED}, flush ${JSON.stringify(flush)}, kill after ${killAfterMs} ms)`;

        try {
          const child = spare;
          await child.loaded;
          child.proc.stdin!.write(`${JSON.stringify(command)}\n`);
          // Warm up the next child while this one runs: loading modules dominates a child's start.
          spare = spawnTracked();

          const ready = await child.ready;
          expect(ready.clean, 'the child must open the cleanly closed log through the clean path').toBe(true);
          expect(ready.logEndOffset, 'a clean open must see exactly what was closed').toBe(state.closedEnd);
          expect(ready.logStartOffset).toBe(state.closedStart);
          await sleep(killAfterMs);
          child.proc.kill('SIGKILL');
          const exit = await child.exited;
          expect(exit.signal, `the child must die by our SIGKILL, not on its own: ${child.stderr}`).toBe(
            'SIGKILL',
          );
          stats.kills++;
          stats.byFlushMode[flush.mode]++;
          expect(child.maxDurable, 'the child reports its recovery point at open').toBeGreaterThanOrEqual(
            state.closedEnd,
          );
          state.maxDurable = Math.max(state.maxDurable, child.maxDurable);
          context += `, child reached ${child.lastLeo}, durable ${state.maxDurable}`;

          // The child removed the clean-shutdown marker when it opened: this is an unclean shutdown.
          expect(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), 'no clean-shutdown marker after a kill').toBe(
            false,
          );
          const tamper = await tamperWithActiveSegment(dir, tamperKind, state.maxDurable, rng);
          context += `; ${tamper.kind}${tamper.applied || tamper.kind === 'none' ? '' : ' (nothing unflushed)'}: ${tamper.detail}`;
          if (tamper.applied || tamper.kind === 'none') stats.tampered[tamper.kind]++;
          if (tamper.tornByKill) stats.tornByKill++;
          if (tamper.recoveryMustTruncate) stats.recoveriesThatTruncated++;

          await verifyRecovery(state, tamper);
        } catch (error) {
          throw new Error(`${context}: ${describeError(error)}`, { cause: error });
        }
      }

      expect(stats.kills).toBe(KILLS);
      if (KILLS >= 30) {
        // Guard against a harness that quietly stopped exercising anything.
        for (const mode of ['every-batch', 'interval', 'os'] as const) {
          expect(stats.byFlushMode[mode]).toBeGreaterThan(0);
        }
        for (const kind of ['truncate', 'garbage', 'flip'] as const)
          expect(stats.tampered[kind]).toBeGreaterThan(0);
        expect(stats.recoveriesThatTruncated).toBeGreaterThan(0);
        expect(stats.highestSegmentBase, 'segments must have rolled').toBeGreaterThan(0);
        expect(stats.recordsVerified).toBeGreaterThan(0);
      }
      console.log(
        `crash harness (${launcher.describe}): ${KILLS} kills in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}: ${JSON.stringify(stats)}`,
      );
    } finally {
      for (const child of children) {
        if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
      }
      await Promise.all(children.map((child) => child.exited));
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
