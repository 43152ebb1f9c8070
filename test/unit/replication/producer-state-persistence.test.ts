import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutOfOrderSequenceError } from '../../../broker/replication/producer-errors.js';
import {
  type LeaderAppendCheck,
  type ProducerEntry,
  ProducerStateManager,
  withAssignedOffsets,
} from '../../../broker/replication/producer-state.js';
import { snapshotPath } from '../../../broker/replication/producer-state-snapshot.js';
import { PartitionLog } from '../../../broker/storage/partition-log.js';
import { scanRecordBatches } from '../../../protocol/record-batch/index.js';
import { makeBatch } from '../../helpers/batches.js';
import { useTempDirs } from '../../helpers/temp-dir.js';

const tempDir = useTempDirs('spool-producer-state-');

function sortedEntries(state: ProducerStateManager): ProducerEntry[] {
  return [...state.entries()].map((e) => structuredClone(e)).sort((a, b) => a.producerId - b.producerId);
}

async function snapshotFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.includes('.snapshot')).sort();
}

/** The leader's produce path: check, append to the real log, record with the assigned offsets. */
async function produce(
  log: PartitionLog,
  state: ProducerStateManager,
  batches: Buffer,
  logAppendTime = false,
): Promise<LeaderAppendCheck | { kind: 'appended'; firstOffset: number; lastOffset: number }> {
  const spans = scanRecordBatches(batches);
  const check = state.checkLeaderAppend(spans);
  if (check.kind === 'duplicate') return check;
  const result = await log.appendAsLeader(batches, { leaderEpoch: 0, logAppendTime, validated: true });
  state.onAppended(withAssignedOffsets(spans, result.firstOffset), result.logAppendTime);
  return { kind: 'appended', firstOffset: result.firstOffset, lastOffset: result.lastOffset };
}

function idempotent(producerId: number, baseSequence: number, count: number, epoch = 0): Buffer {
  return makeBatch(count, {
    label: `p${producerId}-${baseSequence}`,
    valueBytes: 40,
    producer: { producerId, producerEpoch: epoch, baseSequence },
  });
}

/** Three producers and some non-idempotent traffic, in small segments: 60 batches, 150 records. */
async function fillLog(log: PartitionLog, state: ProducerStateManager, rounds = 20): Promise<void> {
  const next = new Map<number, number>();
  for (let round = 0; round < rounds; round++) {
    const producerId = round % 3 === 2 ? -1 : 100 + (round % 3);
    const seq = next.get(producerId) ?? 0;
    const count = 1 + (round % 4);
    const batch = producerId < 0 ? makeBatch(count) : idempotent(producerId, seq, count);
    await produce(log, state, batch);
    next.set(producerId, seq + count);
  }
}

describe('producer-state snapshots', () => {
  it('round-trips the state and keeps only the newest three snapshots', async () => {
    const dir = await tempDir();
    const state = new ProducerStateManager();
    state.onAppended([
      {
        producerId: 5,
        producerEpoch: 2,
        baseSequence: 0,
        baseOffset: 0,
        lastOffsetDelta: 3,
        maxTimestamp: Date.now(),
      },
      {
        producerId: 9,
        producerEpoch: 0,
        baseSequence: 7,
        baseOffset: 4,
        lastOffsetDelta: 0,
        maxTimestamp: Date.now(),
      },
    ]);
    for (const offset of [5, 10, 15, 20]) await state.writeSnapshot(dir, offset);
    expect(await snapshotFiles(dir)).toEqual([
      '00000000000000000010.snapshot',
      '00000000000000000015.snapshot',
      '00000000000000000020.snapshot',
    ]);

    const loaded = new ProducerStateManager();
    expect(await loaded.loadLatestSnapshot(dir, 100)).toBe(20);
    expect(sortedEntries(loaded)).toEqual(sortedEntries(state));
    expect(
      loaded.checkLeaderAppend([
        { producerId: 5, producerEpoch: 2, baseSequence: 0, lastOffsetDelta: 3, attributes: 0 },
      ]),
    ).toEqual({ kind: 'duplicate', firstOffset: 0, lastOffset: 3, logAppendTime: -1 });
  });

  it('loads the newest snapshot at or below maxOffset and deletes those above it', async () => {
    const dir = await tempDir();
    const state = new ProducerStateManager();
    for (const offset of [10, 20, 30]) await state.writeSnapshot(dir, offset);
    expect(await state.loadLatestSnapshot(dir, 25)).toBe(20);
    expect(await snapshotFiles(dir)).toEqual([
      '00000000000000000010.snapshot',
      '00000000000000000020.snapshot',
    ]);
    expect(await state.loadLatestSnapshot(dir, 9)).toBeNull();
    expect(await snapshotFiles(dir)).toEqual([]);
  });

  it('skips and deletes corrupt snapshots, falling back to older ones', async () => {
    const dir = await tempDir();
    const state = new ProducerStateManager();
    state.onAppended([
      {
        producerId: 1,
        producerEpoch: 0,
        baseSequence: 0,
        baseOffset: 0,
        lastOffsetDelta: 0,
        maxTimestamp: Date.now(),
      },
    ]);
    for (const offset of [1, 2, 3]) await state.writeSnapshot(dir, offset);
    const flipped = await readFile(snapshotPath(dir, 3));
    flipped[flipped.length - 1]! ^= 0xff;
    await writeFile(snapshotPath(dir, 3), flipped);
    const truncated = await readFile(snapshotPath(dir, 2));
    await writeFile(snapshotPath(dir, 2), truncated.subarray(0, truncated.length - 5));
    // Left by a crash mid-write.
    await writeFile(`${snapshotPath(dir, 4)}.tmp`, 'partial');

    const loaded = new ProducerStateManager();
    expect(await loaded.loadLatestSnapshot(dir, 10)).toBe(1);
    expect(loaded.entry(1)?.batches).toHaveLength(1);
    expect(await snapshotFiles(dir)).toEqual(['00000000000000000001.snapshot']);

    const versioned = await readFile(snapshotPath(dir, 1));
    versioned.writeInt16BE(99, 0);
    await writeFile(snapshotPath(dir, 1), versioned);
    expect(await loaded.loadLatestSnapshot(dir, 10)).toBeNull();
    expect(loaded.producerCount).toBe(0);
  });

  it('expires idle producers when snapshotting', async () => {
    const dir = await tempDir();
    let now = 1_000_000;
    const state = new ProducerStateManager({ producerIdExpirationMs: 60_000, now: () => now });
    state.onAppended([
      {
        producerId: 1,
        producerEpoch: 0,
        baseSequence: 0,
        baseOffset: 0,
        lastOffsetDelta: 0,
        maxTimestamp: now - 60_000,
      },
      {
        producerId: 2,
        producerEpoch: 0,
        baseSequence: 0,
        baseOffset: 1,
        lastOffsetDelta: 0,
        maxTimestamp: now - 1,
      },
    ]);
    await state.writeSnapshot(dir, 2);
    expect([...state.entries()].map((e) => e.producerId)).toEqual([2]);
    now += 60_000;
    const loaded = new ProducerStateManager({ producerIdExpirationMs: 60_000, now: () => now });
    expect(await loaded.loadLatestSnapshot(dir, 2)).toBe(2);
    expect(loaded.producerCount).toBe(0);
  });
});

describe('rebuilding producer state from a PartitionLog', () => {
  const config = { segmentBytes: 1024 };

  it('replays every segment in chunks to the same state the leader built', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config });
    const live = new ProducerStateManager();
    await fillLog(log, live);
    expect(log.segmentCount).toBeGreaterThan(3);

    const rebuilt = new ProducerStateManager({ replayChunkBytes: 300 });
    expect(await rebuilt.rebuild(log)).toEqual({
      snapshotOffset: null,
      endOffset: log.logEndOffset,
      replayedBatches: 20,
    });
    expect(sortedEntries(rebuilt)).toEqual(sortedEntries(live));
    // A retry of the last batch of producer 101 is still recognised, with its original offsets.
    const last = live.entry(101)!.batches.at(-1)!;
    const retry = idempotent(101, last.firstSeq, last.lastSeq - last.firstSeq + 1);
    expect(await produce(log, rebuilt, retry)).toMatchObject({
      kind: 'duplicate',
      firstOffset: last.firstOffset,
    });
    await log.close();
  });

  it('starts from the newest snapshot and replays only what follows it', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config });
    const live = new ProducerStateManager();
    await fillLog(log, live, 10);
    const snapshotOffset = log.logEndOffset;
    await live.writeSnapshot(dir, snapshotOffset);
    expect(await produce(log, live, idempotent(100, 10, 2))).toMatchObject({ kind: 'appended' });
    await produce(log, live, idempotent(200, 0, 1));
    await log.close();

    const reopened = await PartitionLog.open(dir, { config });
    const rebuilt = await ProducerStateManager.open(dir);
    expect(await rebuilt.rebuild(reopened)).toEqual({
      snapshotOffset,
      endOffset: reopened.logEndOffset,
      replayedBatches: 2,
    });
    expect(sortedEntries(rebuilt)).toEqual(sortedEntries(live));
    await reopened.close();
  });

  it('ignores a snapshot from beyond the log end and reports LogAppendTime for replayed duplicates', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config });
    const live = new ProducerStateManager();
    const appended = await produce(log, live, idempotent(7, 0, 3), true);
    await live.writeSnapshot(dir, 1_000);

    const rebuilt = new ProducerStateManager();
    expect((await rebuilt.rebuild(log)).snapshotOffset).toBeNull();
    expect(await snapshotFiles(dir)).toEqual([]);
    const duplicate = rebuilt.checkLeaderAppend(scanRecordBatches(idempotent(7, 0, 3)));
    expect(duplicate).toEqual(live.checkLeaderAppend(scanRecordBatches(idempotent(7, 0, 3))));
    expect(duplicate).toMatchObject({ kind: 'duplicate', firstOffset: 0, lastOffset: 2 });
    expect((duplicate as { logAppendTime: number }).logAppendTime).toBeGreaterThan(0);
    expect(appended).toMatchObject({ kind: 'appended' });
    await log.close();
  });

  it('truncates with the log: drops later snapshots and forgets the cut batches', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config });
    const live = new ProducerStateManager();
    await produce(log, live, idempotent(1, 0, 2));
    await produce(log, live, idempotent(2, 0, 2));
    await live.writeSnapshot(dir, log.logEndOffset);
    await produce(log, live, idempotent(1, 2, 2));
    const cut = log.logEndOffset;
    // The expected state: only the batches below the cut.
    const expected = sortedEntries(live);
    await live.writeSnapshot(dir, cut);
    await produce(log, live, idempotent(1, 4, 3));
    await produce(log, live, idempotent(3, 0, 1));
    await live.writeSnapshot(dir, log.logEndOffset);

    await log.truncateTo(cut);
    const result = await live.truncateTo(log, cut);
    expect(result).toMatchObject({ snapshotOffset: cut, endOffset: cut, replayedBatches: 0 });
    expect(sortedEntries(live)).toEqual(expected);
    expect(live.entry(3)).toBeUndefined();
    expect(await snapshotFiles(dir)).toEqual([
      '00000000000000000004.snapshot',
      '00000000000000000006.snapshot',
    ]);
    // Producer 1 continues from the last sequence that survived.
    expect(() => live.checkLeaderAppend(scanRecordBatches(idempotent(1, 7, 1)))).toThrow(
      OutOfOrderSequenceError,
    );
    expect(await produce(log, live, idempotent(1, 4, 3))).toMatchObject({
      kind: 'appended',
      firstOffset: cut,
    });
    await log.close();
  });

  it('truncates to an offset before the log does, replaying only up to it', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config });
    const live = new ProducerStateManager();
    await produce(log, live, idempotent(1, 0, 2));
    await produce(log, live, idempotent(1, 2, 2));
    await produce(log, live, idempotent(1, 4, 2));
    // Offset 3 lies inside the second batch, which goes with everything after it.
    expect(await live.truncateTo(log, 3)).toMatchObject({ snapshotOffset: null, replayedBatches: 1 });
    expect(live.entry(1)?.batches.map((b) => b.lastSeq)).toEqual([1]);
    await log.close();
  });
});

describe('ProducerStateManager.truncateFully', () => {
  it('forgets every producer and deletes every snapshot', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config: { segmentBytes: 1024 } });
    const state = new ProducerStateManager();
    await produce(log, state, idempotent(1, 0, 2));
    await state.writeSnapshot(dir, log.logEndOffset);
    await log.truncateFullyAndStartAt(100);
    await state.truncateFully(dir);
    expect(state.producerCount).toBe(0);
    expect(await snapshotFiles(dir)).toEqual([]);
    expect(await state.rebuild(log)).toEqual({ snapshotOffset: null, endOffset: 100, replayedBatches: 0 });
    await log.close();
  });
});

describe('ProducerStateManager.open', () => {
  it('removes temp files of interrupted snapshot writes', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '00000000000000000005.snapshot.tmp'), 'x');
    await ProducerStateManager.open(dir);
    expect(await readdir(dir)).toEqual([]);
  });
});
