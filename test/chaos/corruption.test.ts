/**
 * Deterministic corruption tests for the partition log:
 * - a corrupt or torn batch in the active segment's tail after an unclean shutdown is found by
 *   recovery, which cuts the log just before it and loses nothing earlier;
 * - corruption inside a sealed segment is reported by reads as CorruptSegmentError, never served
 *   or skipped silently, also when that segment's indexes must be rebuilt and after a clean reopen;
 * - missing or garbage index files are rebuilt and lookups keep working.
 */
import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptSegmentError } from '../../broker/storage/errors.js';
import {
  CLEAN_SHUTDOWN_FILE,
  PartitionLog,
  RECOVERY_POINT_FILE,
} from '../../broker/storage/partition-log.js';
import { CompressionType } from '../../protocol/record-batch/index.js';
import { expectedOffsetForTimestamp, readWholeLog } from './fixtures/log-checks.js';
import { checkRecords, encodeBatchFor, Rng } from './fixtures/records.js';
import {
  BATCH,
  type FileBatch,
  type ParsedLogFile,
  parseLogFile,
  segmentBases,
  segmentStem,
  verifyDirectory,
} from './fixtures/segment-files.js';

const T0 = 1_700_000_000_000;
/**
 * segmentMs is huge because the log rolls by wall-clock time since the first batch's timestamp
 * (not, as Kafka does, by the incoming batch's timestamp), so these fixed, old timestamps would
 * otherwise roll a new segment on every append.
 */
const CONFIG = { segmentBytes: 32 * 1024, indexIntervalBytes: 512, segmentMs: 2 ** 50 } as const;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-corruption-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Fills a log with batches of varied sizes (some compressed) until it has at least `segments`
 * segments and the active one holds several batches, then closes it cleanly.
 */
async function buildLog(segments: number, seed = 7): Promise<ParsedLogFile[]> {
  const rng = new Rng(seed);
  const log = await PartitionLog.open(dir, { config: CONFIG });
  let next = 0;
  let segmentCount = log.segmentCount;
  let batchesInActive = 0;
  while (log.segmentCount < segments || batchesInActive < 6) {
    if (next > 100_000) throw new Error('buildLog does not converge');
    const count = rng.pick([1, 1, 2, 5, 10]);
    const compression = rng.chance(0.3) ? CompressionType.Zstd : CompressionType.None;
    const result = await log.appendAsLeader(encodeBatchFor(next, count, T0, compression), { leaderEpoch: 1 });
    expect(result.firstOffset).toBe(next);
    next += count;
    batchesInActive = log.segmentCount === segmentCount ? batchesInActive + 1 : 1;
    segmentCount = log.segmentCount;
  }
  await log.close();
  const parsed = await Promise.all((await segmentBases(dir)).map((base) => parseLogFile(dir, base)));
  for (const segment of parsed) expect(segment.failure).toBeUndefined();
  expect(parsed.at(-1)!.nextOffset).toBe(next);
  return parsed;
}

const logPath = (base: number) => join(dir, `${segmentStem(base)}.log`);

async function xorByte(path: string, position: number, mask = 0x5a): Promise<void> {
  const bytes = await readFile(path);
  bytes[position] = bytes[position]! ^ mask;
  await writeFile(path, bytes);
}

async function setInt32(path: string, position: number, value: number): Promise<void> {
  const bytes = await readFile(path);
  bytes.writeInt32BE(value, position);
  await writeFile(path, bytes);
}

/** Simulates an unclean shutdown of a log that was closed cleanly. */
async function forgetCleanShutdown(): Promise<void> {
  await unlink(join(dir, CLEAN_SHUTDOWN_FILE));
}

describe('a corrupt or torn tail in the active segment after an unclean shutdown', () => {
  type Damage = (path: string, victim: FileBatch) => Promise<void>;
  const damages: [string, Damage][] = [
    ['a flipped byte in the records', (path, v) => xorByte(path, v.position + v.size - 3)],
    ['a flipped byte in the attributes', (path, v) => xorByte(path, v.position + BATCH.attributes + 1, 0x01)],
    ['a flipped byte in the stored CRC', (path, v) => xorByte(path, v.position + BATCH.crc + 2)],
    ['a wrong magic byte', (path, v) => xorByte(path, v.position + BATCH.magic, 0x03)],
    ['a length running past the file', (path, v) => setInt32(path, v.position + BATCH.length, 1 << 24)],
    ['a length one byte short', (path, v) => setInt32(path, v.position + BATCH.length, v.size - 13)],
    ['a length below the minimum', (path, v) => setInt32(path, v.position + BATCH.length, 3)],
    ['a flipped record count', (path, v) => xorByte(path, v.position + BATCH.recordCount + 3, 0x10)],
    // The base offset is outside the CRC (the leader rewrites it), but these values are still
    // detectably wrong: one cannot be represented, the other does not follow the previous batch.
    ['a base offset beyond 2^53', (path, v) => xorByte(path, v.position + BATCH.baseOffset, 0x40)],
    [
      'a base offset going backwards',
      (path, v) => setInt32(path, v.position + BATCH.baseOffset + 4, v.baseOffset - 1),
    ],
    [
      'a torn write (file cut inside the batch)',
      (path, v) => truncate(path, v.position + Math.floor(v.size / 2)),
    ],
    ['a torn header (file cut inside the header)', (path, v) => truncate(path, v.position + 20)],
  ];

  for (const [name, damage] of damages) {
    for (const where of ['second-to-last', 'first'] as const) {
      it(`${name} in the ${where} batch of the active segment: cut just before it, nothing earlier lost`, async () => {
        const segments = await buildLog(3);
        const active = segments[segments.length - 1]!;
        expect(active.batches.length).toBeGreaterThanOrEqual(3);
        const victim = where === 'first' ? active.batches[0]! : active.batches[active.batches.length - 2]!;
        const sealedBefore = await Promise.all(
          segments.slice(0, -1).map((s) => readFile(logPath(s.baseOffset))),
        );

        await forgetCleanShutdown();
        await damage(logPath(active.baseOffset), victim);
        const log = await PartitionLog.open(dir, { config: CONFIG });
        try {
          expect(log.logEndOffset).toBe(victim.baseOffset);
          expect(log.logStartOffset).toBe(0);
          expect(log.segmentBaseOffsets).toEqual(segments.map((s) => s.baseOffset));
          const whole = await readWholeLog(log, T0, new Rng(1));
          expect(whole.timestamps.length).toBe(victim.baseOffset);
          // The log keeps working: the next append takes the cut batch's offsets.
          const count = victim.lastOffset - victim.baseOffset + 1;
          const result = await log.appendAsLeader(encodeBatchFor(victim.baseOffset, count, T0), {
            leaderEpoch: 1,
          });
          expect(result.firstOffset).toBe(victim.baseOffset);
          const reread = await log.read(victim.baseOffset, 1 << 20);
          expect(checkRecords(reread.records, T0, { firstOffset: victim.baseOffset }).nextOffset).toBe(
            victim.lastOffset + 1,
          );
        } finally {
          await log.close();
        }
        // Sealed segments were not touched; the active segment was cut exactly at the victim.
        for (const [i, before] of sealedBefore.entries()) {
          expect((await readFile(logPath(segments[i]!.baseOffset))).equals(before)).toBe(true);
        }
        const files = await verifyDirectory(dir);
        expect(files.problems).toEqual([]);
        expect(files.segments[files.segments.length - 1]!.batches.at(-1)!.position).toBe(victim.position);
      });
    }
  }

  it('garbage appended after the last batch is cut off and nothing is lost', async () => {
    const segments = await buildLog(3);
    const active = segments[segments.length - 1]!;
    await forgetCleanShutdown();
    const garbage = new Rng(3).bytes(777);
    await writeFile(logPath(active.baseOffset), garbage, { flag: 'a' });
    const log = await PartitionLog.open(dir, { config: CONFIG });
    try {
      expect(log.logEndOffset).toBe(active.nextOffset);
      await readWholeLog(log, T0, new Rng(2));
    } finally {
      await log.close();
    }
    expect((await parseLogFile(dir, active.baseOffset)).fileSize).toBe(active.fileSize);
    expect((await verifyDirectory(dir)).problems).toEqual([]);
  });

  it('recovers the same way when the recovery-point checkpoint is missing (every segment rescanned)', async () => {
    const segments = await buildLog(3);
    const active = segments[segments.length - 1]!;
    const victim = active.batches[1]!;
    await forgetCleanShutdown();
    await unlink(join(dir, RECOVERY_POINT_FILE));
    await xorByte(logPath(active.baseOffset), victim.position + victim.size - 1);
    const log = await PartitionLog.open(dir, { config: CONFIG });
    try {
      expect(log.logEndOffset).toBe(victim.baseOffset);
      await readWholeLog(log, T0, new Rng(4));
    } finally {
      await log.close();
    }
    expect((await verifyDirectory(dir)).problems).toEqual([]);
  });
});

/**
 * Reads every offset of the damaged segment, and the whole log sequentially, and checks that each
 * read either returns whole, valid batches starting with the one that holds the requested offset,
 * or throws CorruptSegmentError naming the damaged file. Returns the offsets whose reads threw.
 */
async function expectCorruptionReported(
  log: PartitionLog,
  damaged: ParsedLogFile,
  victim: FileBatch,
): Promise<number[]> {
  const threw: number[] = [];
  for (let offset = damaged.baseOffset; offset < damaged.nextOffset; offset++) {
    for (const maxBytes of [1, 1 << 20]) {
      try {
        const result = await log.read(offset, maxBytes);
        const checked = checkRecords(result.records, T0, { containing: offset });
        expect(checked.batches.length, `read(${offset}) returned nothing`).toBeGreaterThan(0);
        const returned = checked.batches.map((b) => b.baseOffset);
        expect(returned, `read(${offset}) must not serve the corrupt batch`).not.toContain(victim.baseOffset);
      } catch (error) {
        if (!(error instanceof CorruptSegmentError)) throw error;
        expect(error.file).toBe(logPath(damaged.baseOffset));
        threw.push(offset);
      }
    }
  }
  // Every offset of the corrupt batch itself must be reported.
  for (let offset = victim.baseOffset; offset <= victim.lastOffset; offset++) {
    await expect(log.read(offset, 1 << 20), `read(${offset})`).rejects.toBeInstanceOf(CorruptSegmentError);
  }
  // A consumer reading from the start gets everything before the corrupt batch, then the error.
  let offset = log.logStartOffset;
  let error: unknown = null;
  while (offset < log.logEndOffset) {
    try {
      const result = await log.read(offset, 1500);
      offset = checkRecords(result.records, T0, { firstOffset: offset }).nextOffset;
    } catch (e) {
      error = e;
      break;
    }
  }
  expect(error).toBeInstanceOf(CorruptSegmentError);
  expect(offset).toBe(victim.baseOffset);
  return threw;
}

describe('corruption inside a sealed segment', () => {
  type Damage = (path: string, victim: FileBatch) => Promise<void>;
  const damages: [string, Damage, ('first' | 'middle')?][] = [
    ['a flipped byte in the records', (path, v) => xorByte(path, v.position + v.size - 5)],
    [
      'a flipped byte in the CRC-covered header',
      (path, v) => xorByte(path, v.position + BATCH.maxTimestamp + 7),
    ],
    ['a wrong magic byte', (path, v) => xorByte(path, v.position + BATCH.magic, 0x03)],
    ['a length running past the file', (path, v) => setInt32(path, v.position + BATCH.length, 1 << 24)],
    ['a length slightly too short', (path, v) => setInt32(path, v.position + BATCH.length, v.size - 12 - 7)],
    ['a max timestamp beyond 2^53', (path, v) => xorByte(path, v.position + BATCH.maxTimestamp, 0x40)],
    ['a base offset beyond 2^53', (path, v) => xorByte(path, v.position + BATCH.baseOffset, 0x40)],
    [
      'a max timestamp beyond 2^53 in its first batch',
      (path, v) => xorByte(path, v.position + BATCH.maxTimestamp, 0x40),
      'first',
    ],
    [
      'a flipped byte in the records of its first batch',
      (path, v) => xorByte(path, v.position + v.size - 5),
      'first',
    ],
  ];
  const indexFiles = (base: number) => [
    join(dir, `${segmentStem(base)}.index`),
    join(dir, `${segmentStem(base)}.timeindex`),
  ];
  const setups: [string, (base: number) => Promise<void>][] = [
    ['after a clean reopen', async () => {}],
    [
      'when its index files were deleted (rebuild path)',
      async (base) => {
        for (const path of indexFiles(base)) await unlink(path);
      },
    ],
    [
      'when its index files hold garbage',
      async (base) => {
        const rng = new Rng(base);
        for (const path of indexFiles(base)) await writeFile(path, rng.bytes(37));
      },
    ],
    ['after an unclean shutdown', () => forgetCleanShutdown()],
    [
      'after an unclean shutdown with its index files deleted',
      async (base) => {
        await forgetCleanShutdown();
        for (const path of indexFiles(base)) await unlink(path);
      },
    ],
  ];

  for (const [setupName, setup] of setups) {
    for (const [damageName, damage, which = 'middle'] of damages) {
      it(`${damageName}, ${setupName}, is reported by reads as CorruptSegmentError`, async () => {
        const segments = await buildLog(4);
        const damaged = segments[1]!;
        expect(damaged.batches.length).toBeGreaterThanOrEqual(4);
        const victim = damaged.batches[which === 'first' ? 0 : Math.floor(damaged.batches.length / 2)]!;
        await damage(logPath(damaged.baseOffset), victim);
        await setup(damaged.baseOffset);

        const log = await PartitionLog.open(dir, { config: CONFIG });
        try {
          // Opening does not hide the problem by cutting sealed, fsynced data.
          expect(log.logEndOffset).toBe(segments[segments.length - 1]!.nextOffset);
          expect(log.segmentBaseOffsets).toEqual(segments.map((s) => s.baseOffset));
          const threw = await expectCorruptionReported(log, damaged, victim);
          expect(threw).toContain(victim.baseOffset);
          // Other segments stay fully readable.
          for (const segment of [segments[0]!, ...segments.slice(2)]) {
            const result = await log.read(segment.baseOffset, 1 << 20);
            expect(
              checkRecords(result.records, T0, { firstOffset: segment.baseOffset }).batches.length,
            ).toBeGreaterThan(0);
          }
        } finally {
          await log.close();
        }
        // A second, clean reopen still reports it.
        const again = await PartitionLog.open(dir, { config: CONFIG });
        try {
          await expect(again.read(victim.baseOffset, 1 << 20)).rejects.toBeInstanceOf(CorruptSegmentError);
        } finally {
          await again.close();
        }
      });
    }
  }
});

describe('missing or garbage index files', () => {
  const allIndexFiles = async (): Promise<string[]> =>
    (await segmentBases(dir)).flatMap((base) => [
      join(dir, `${segmentStem(base)}.index`),
      join(dir, `${segmentStem(base)}.timeindex`),
    ]);
  const scenarios: [string, { unclean?: boolean }, (path: string, rng: Rng) => Promise<void>][] = [
    ['deleted', {}, (path) => unlink(path)],
    ['deleted, after an unclean shutdown', { unclean: true }, (path) => unlink(path)],
    [
      'deleted (time indexes only)',
      {},
      async (path) => {
        if (path.endsWith('.timeindex')) await unlink(path);
      },
    ],
    [
      'random bytes, not a whole number of entries',
      {},
      (path, rng) => writeFile(path, rng.bytes(rng.range(1, 7) + 24 * rng.range(0, 3))),
    ],
    ['random bytes, whole entries', {}, (path, rng) => writeFile(path, rng.bytes(24 * rng.range(3, 6)))],
    ['zeros, whole entries', {}, (path) => writeFile(path, Buffer.alloc(24 * 4))],
    ['cut mid-entry', {}, async (path) => truncate(path, Math.max(0, (await readFile(path)).length - 5))],
    [
      'plausible offset entries (increasing, in range) that point inside batches',
      {},
      async (path) => {
        if (!path.endsWith('.index')) return;
        const entries = Buffer.alloc(3 * 8);
        for (let k = 0; k < 3; k++) {
          entries.writeUInt32BE(k * 3 + 1, k * 8);
          entries.writeUInt32BE(k * 100 + 7, k * 8 + 4);
        }
        await writeFile(path, entries);
      },
    ],
    [
      'random bytes, after an unclean shutdown',
      { unclean: true },
      (path, rng) => writeFile(path, rng.bytes(24 * rng.range(3, 6))),
    ],
  ];

  for (const [name, options, spoil] of scenarios) {
    it(`${name}: rebuilt on open, and lookups still work`, async () => {
      const segments = await buildLog(4);
      const rng = new Rng(11);
      for (const path of await allIndexFiles()) await spoil(path, rng);
      if (options.unclean) await forgetCleanShutdown();

      const log = await PartitionLog.open(dir, { config: CONFIG });
      try {
        expect(log.logEndOffset).toBe(segments[segments.length - 1]!.nextOffset);
        // Every offset can be looked up, from anywhere.
        for (const segment of segments) {
          for (let offset = segment.baseOffset; offset < segment.nextOffset; offset++) {
            const result = await log.read(offset, 1);
            checkRecords(result.records, T0, { containing: offset });
          }
        }
        const whole = await readWholeLog(log, T0, new Rng(5));
        for (let k = 0; k < 40; k++) {
          const target = rng.pick(whole.timestamps).timestamp + rng.range(-2, 2);
          expect(await log.offsetForTimestamp(target), `offsetForTimestamp(${target})`).toEqual(
            expectedOffsetForTimestamp(whole.timestamps, target),
          );
        }
      } finally {
        await log.close();
      }
      // The rebuilt files are valid, and really indexes (not just emptied).
      const files = await verifyDirectory(dir);
      expect(files.problems).toEqual([]);
      for (const segment of segments) {
        if (segment.fileSize > 4 * CONFIG.indexIntervalBytes) {
          expect(
            (await readFile(join(dir, `${segmentStem(segment.baseOffset)}.index`))).length,
          ).toBeGreaterThan(0);
          expect(
            (await readFile(join(dir, `${segmentStem(segment.baseOffset)}.timeindex`))).length,
          ).toBeGreaterThan(0);
        }
      }
    });
  }
});
