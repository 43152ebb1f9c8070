import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidBatchError,
  LogConfigError,
  NonMonotonicOffsetError,
  OffsetOutOfRangeError,
} from '../../../broker/storage/errors.js';
import { PartitionLog } from '../../../broker/storage/partition-log.js';
import { CorruptRecordBatchError } from '../../../protocol/errors.js';
import {
  CompressionType,
  decodeRecordBatches,
  readRecordBatchHeader,
  TimestampType,
} from '../../../protocol/record-batch/index.js';
import { makeBatch, recordsOf } from '../../helpers/batches.js';
import { useTempDirs } from '../../helpers/temp-dir.js';

const tempDir = useTempDirs();

async function readAll(log: PartitionLog, maxBytes = 64 * 1024): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const result = await log.read(offset, maxBytes);
    expect(result.records.length).toBeGreaterThan(0);
    out.push(...recordsOf(result.records).filter(([o]) => o >= offset));
    offset = result.nextOffset;
  }
  return out;
}

describe('PartitionLog append', () => {
  it('assigns offsets and the leader epoch by rewriting only the header, never re-encoding', async () => {
    const log = await PartitionLog.open(await tempDir());
    const first = makeBatch(3, { label: 'a' });
    const second = makeBatch(2, { label: 'b', compression: CompressionType.Gzip });
    const originalSecond = Buffer.from(second);

    expect(await log.appendAsLeader(first, { leaderEpoch: 7 })).toMatchObject({
      firstOffset: 0,
      lastOffset: 2,
    });
    const result = await log.appendAsLeader(second, { leaderEpoch: 7 });
    expect(result).toMatchObject({ firstOffset: 3, lastOffset: 4, batchCount: 1, logAppendTime: -1 });

    const read = await log.read(3, 1024);
    // Bytes from the magic byte onward (CRC, attributes, compressed records) are untouched.
    expect(read.records.subarray(16).equals(originalSecond.subarray(16))).toBe(true);
    const header = readRecordBatchHeader(read.records);
    expect(header.baseOffset).toBe(3);
    expect(header.partitionLeaderEpoch).toBe(7);
    expect(recordsOf(read.records)).toEqual([
      [3, 'b-0'],
      [4, 'b-1'],
    ]);
    await log.close();
  });

  it('assigns offsets across several batches in one append', async () => {
    const log = await PartitionLog.open(await tempDir());
    const buf = Buffer.concat([makeBatch(2, { label: 'x' }), makeBatch(3, { label: 'y' })]);
    expect(await log.appendAsLeader(buf, { leaderEpoch: 0 })).toMatchObject({
      firstOffset: 0,
      lastOffset: 4,
      batchCount: 2,
    });
    expect((await readAll(log)).map(([o, v]) => `${o}:${v}`)).toEqual([
      '0:x-0',
      '1:x-1',
      '2:y-0',
      '3:y-1',
      '4:y-2',
    ]);
    await log.close();
  });

  it('stamps LogAppendTime into the batch and keeps the CRC valid', async () => {
    let now = 1_700_000_000_000;
    const log = await PartitionLog.open(await tempDir(), { now: () => now });
    now += 5;
    const result = await log.appendAsLeader(makeBatch(2, { timestamp: 1 }), {
      leaderEpoch: 0,
      logAppendTime: true,
    });
    expect(result.logAppendTime).toBe(1_700_000_000_005);
    const [batch] = decodeRecordBatches((await log.read(0, 1024)).records, { verifyCrc: true });
    expect(batch!.timestampType).toBe(TimestampType.LogAppendTime);
    expect(batch!.maxTimestamp).toBe(1_700_000_000_005);
    await log.close();
  });

  it('rejects corrupt batches and inconsistent record counts without appending', async () => {
    const log = await PartitionLog.open(await tempDir());
    const corrupt = makeBatch(2);
    corrupt[corrupt.length - 1]! ^= 0xff;
    await expect(log.appendAsLeader(corrupt, { leaderEpoch: 0 })).rejects.toBeInstanceOf(
      CorruptRecordBatchError,
    );
    const truncated = makeBatch(2).subarray(0, 40);
    await expect(log.appendAsLeader(truncated, { leaderEpoch: 0 })).rejects.toBeInstanceOf(
      CorruptRecordBatchError,
    );
    await expect(log.appendAsLeader(Buffer.alloc(0), { leaderEpoch: 0 })).rejects.toBeInstanceOf(
      InvalidBatchError,
    );
    expect(log.logEndOffset).toBe(0);
    await log.close();
  });

  it('appends follower batches with their own offsets and epochs, rejecting offsets below the end', async () => {
    const leader = await PartitionLog.open(await tempDir());
    await leader.appendAsLeader(makeBatch(3), { leaderEpoch: 1 });
    await leader.appendAsLeader(makeBatch(2), { leaderEpoch: 2 });
    const copied = (await leader.read(0, 1 << 20)).records;

    const follower = await PartitionLog.open(await tempDir());
    expect(await follower.appendAsFollower(Buffer.from(copied))).toMatchObject({
      firstOffset: 0,
      lastOffset: 4,
    });
    expect(follower.leaderEpochs.all).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 3 },
    ]);
    await expect(follower.appendAsFollower(Buffer.from(copied))).rejects.toBeInstanceOf(
      NonMonotonicOffsetError,
    );
    await leader.close();
    await follower.close();
  });
});

describe('PartitionLog read', () => {
  it('returns the batch containing any offset, whole batches up to maxBytes, and at least one batch', async () => {
    const log = await PartitionLog.open(await tempDir(), { config: { indexIntervalBytes: 128 } });
    for (let i = 0; i < 20; i++)
      await log.appendAsLeader(makeBatch(4, { label: `b${i}`, valueBytes: 40 }), { leaderEpoch: 0 });
    for (let offset = 0; offset < 80; offset++) {
      const result = await log.read(offset, 1);
      const batches = decodeRecordBatches(result.records);
      expect(batches).toHaveLength(1); // maxBytes=1 still yields one whole batch
      expect(batches[0]!.baseOffset).toBe(offset - (offset % 4));
      expect(result.nextOffset).toBe(offset - (offset % 4) + 4);
    }
    const batchSize = (await log.read(0, 1)).records.length;
    const three = await log.read(8, batchSize * 3 + batchSize - 1);
    expect(decodeRecordBatches(three.records).map((b) => b.baseOffset)).toEqual([8, 12, 16]);
    await log.close();
  });

  it('reads at the log end as empty and outside the log as OffsetOutOfRange', async () => {
    const log = await PartitionLog.open(await tempDir());
    await log.appendAsLeader(makeBatch(2), { leaderEpoch: 0 });
    const atEnd = await log.read(2, 1024);
    expect(atEnd.records.length).toBe(0);
    expect(atEnd.nextOffset).toBe(2);
    await expect(log.read(3, 1024)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await expect(log.read(-1, 1024)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await log.close();
  });

  it('hides batches at or above maxOffset (the high watermark)', async () => {
    const log = await PartitionLog.open(await tempDir());
    await log.appendAsLeader(makeBatch(2), { leaderEpoch: 0 });
    await log.appendAsLeader(makeBatch(2), { leaderEpoch: 0 });
    const visible = await log.read(0, 1 << 20, { maxOffset: 2 });
    expect(recordsOf(visible.records).map(([o]) => o)).toEqual([0, 1]);
    expect((await log.read(2, 1 << 20, { maxOffset: 2 })).records.length).toBe(0);
    await log.close();
  });

  it('serves reads that run concurrently with appends without exposing partial batches', async () => {
    const log = await PartitionLog.open(await tempDir(), { config: { segmentBytes: 4096 } });
    const appends = (async () => {
      for (let i = 0; i < 200; i++)
        await log.appendAsLeader(makeBatch(3, { label: `c${i}` }), { leaderEpoch: 0 });
    })();
    let offset = 0;
    while (offset < 600) {
      const result = await log.read(offset, 2048);
      const records = recordsOf(result.records);
      for (const [o, value] of records) if (o >= offset) expect(value).toBe(`c${Math.floor(o / 3)}-${o % 3}`);
      offset = result.nextOffset;
      if (records.length === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await appends;
    await log.close();
  });
});

describe('PartitionLog read paths', () => {
  it('reads sequentially into a caller buffer, including batches larger than maxBytes', async () => {
    const log = await PartitionLog.open(await tempDir());
    const sizes = [3, 40, 2, 60, 1, 50, 5];
    for (const [i, count] of sizes.entries()) {
      await log.appendAsLeader(makeBatch(count, { label: `s${i}`, valueBytes: 100 }), { leaderEpoch: 0 });
    }
    const buffer = Buffer.alloc(64 * 1024);
    const seen: Array<[number, string]> = [];
    let offset = 0;
    let reads = 0;
    while (offset < log.logEndOffset) {
      // 1000 bytes is below most batch sizes here, so most reads take the oversized-batch path.
      const result = await log.read(offset, 1000, { buffer });
      expect(result.records.buffer).toBe(buffer.buffer);
      seen.push(...recordsOf(result.records));
      offset = result.nextOffset;
      reads++;
    }
    expect(seen.map(([o]) => o)).toEqual(Array.from({ length: 161 }, (_, i) => i));
    expect(seen[3]).toEqual([3, `s1-0${'.'.repeat(96)}`]);
    expect(reads).toBeLessThanOrEqual(sizes.length);
    await log.close();
  });

  it('falls back to a fresh buffer when the caller buffer is too small', async () => {
    const log = await PartitionLog.open(await tempDir());
    await log.appendAsLeader(makeBatch(50, { valueBytes: 100 }), { leaderEpoch: 0 });
    const small = Buffer.alloc(64);
    const result = await log.read(0, 10, { buffer: small });
    expect(result.records.buffer).not.toBe(small.buffer);
    expect(recordsOf(result.records)).toHaveLength(50);
    await log.close();
  });

  it('checks data loaded from disk once, before serving it', async () => {
    const dir = await tempDir();
    let log = await PartitionLog.open(dir);
    for (let i = 0; i < 4; i++)
      await log.appendAsLeader(makeBatch(2, { label: `v${i}` }), { leaderEpoch: 0 });
    await log.close();
    // Flip a byte inside the third batch's records, then reopen cleanly.
    const path = join(dir, '00000000000000000000.log');
    const bytes = await readFile(path);
    const third = bytes.readInt32BE(8) + 12 + (bytes.readInt32BE(bytes.readInt32BE(8) + 12 + 8) + 12);
    bytes[third + 70]! ^= 0x01;
    await writeFile(path, bytes);
    log = await PartitionLog.open(dir);
    // The first two batches are served; the corrupt one is reported, not served.
    expect(recordsOf((await log.read(0, 1)).records).map(([o]) => o)).toEqual([0, 1]);
    expect(recordsOf((await log.read(2, 1)).records).map(([o]) => o)).toEqual([2, 3]);
    await expect(log.read(4, 1)).rejects.toThrow(/CRC/);
    // A read that spans the corruption returns the good batches before it.
    const spanning = await log.read(0, 1 << 20);
    expect(recordsOf(spanning.records).map(([o]) => o)).toEqual([0, 1, 2, 3]);
    expect(spanning.nextOffset).toBe(4);
    await expect(log.read(spanning.nextOffset, 1 << 20)).rejects.toThrow(/CRC/);
    await log.close();
  });
});

describe('PartitionLog segments', () => {
  it('rolls by size and names files by base offset', async () => {
    const dir = await tempDir();
    const log = await PartitionLog.open(dir, { config: { segmentBytes: 2048 } });
    for (let i = 0; i < 30; i++)
      await log.appendAsLeader(makeBatch(2, { valueBytes: 100 }), { leaderEpoch: 0 });
    expect(log.segmentCount).toBeGreaterThan(2);
    const bases = log.segmentBaseOffsets;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
    expect(files).toEqual(bases.map((b) => `${String(b).padStart(20, '0')}.log`));
    for (const file of files) expect((await stat(join(dir, file))).size).toBeLessThanOrEqual(2048);
    expect((await readAll(log)).length).toBe(60);
    await log.close();
  });

  it('rolls by age using the first batch timestamp', async () => {
    let now = 1_700_000_000_000;
    const log = await PartitionLog.open(await tempDir(), { config: { segmentMs: 1000 }, now: () => now });
    await log.appendAsLeader(makeBatch(1, { timestamp: now }), { leaderEpoch: 0 });
    now += 500;
    await log.appendAsLeader(makeBatch(1, { timestamp: now }), { leaderEpoch: 0 });
    expect(log.segmentCount).toBe(1);
    now += 600;
    await log.appendAsLeader(makeBatch(1, { timestamp: now }), { leaderEpoch: 0 });
    expect(log.segmentBaseOffsets).toEqual([0, 2]);
    await log.close();
  });

  it('measures segment age by record timestamps, so back-dated records do not roll every append', async () => {
    const log = await PartitionLog.open(await tempDir(), { config: { segmentMs: 60_000 } });
    const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
    for (let i = 0; i < 5; i++)
      await log.appendAsLeader(makeBatch(1, { timestamp: weekAgo + i }), { leaderEpoch: 0 });
    expect(log.segmentCount).toBe(1);
    await log.appendAsLeader(makeBatch(1, { timestamp: weekAgo + 61_000 }), { leaderEpoch: 0 });
    expect(log.segmentBaseOffsets).toEqual([0, 5]);
    await log.close();
  });

  it('removes index files whose segment log is gone', async () => {
    const dir = await tempDir();
    let log = await PartitionLog.open(dir);
    await log.appendAsLeader(makeBatch(1), { leaderEpoch: 0 });
    await log.close();
    const orphan = join(dir, `${'7'.padStart(20, '0')}.index`);
    await writeFile(orphan, Buffer.alloc(8));
    log = await PartitionLog.open(dir);
    expect(await readdir(dir)).not.toContain(`${'7'.padStart(20, '0')}.index`);
    expect(log.logEndOffset).toBe(1);
    await log.close();
  });

  it('finds offsets by timestamp across segments, compressed batches and LogAppendTime', async () => {
    const log = await PartitionLog.open(await tempDir(), {
      config: { segmentBytes: 1024, indexIntervalBytes: 100 },
    });
    const base = Date.now();
    for (let i = 0; i < 20; i++) {
      // Batch i holds timestamps base + 10i .. base + 10i + 4.
      await log.appendAsLeader(
        makeBatch(5, { timestamp: base + 10 * i, compression: i % 2 ? CompressionType.Lz4 : 0 }),
        {
          leaderEpoch: 0,
        },
      );
    }
    expect(await log.offsetForTimestamp(base)).toEqual({ offset: 0, timestamp: base });
    expect(await log.offsetForTimestamp(base + 73)).toEqual({ offset: 38, timestamp: base + 73 });
    expect(await log.offsetForTimestamp(base + 75)).toEqual({ offset: 40, timestamp: base + 80 });
    expect(await log.offsetForTimestamp(base + 10_000)).toBeNull();
    expect(log.segmentCount).toBeGreaterThan(2);
    await log.close();
  });

  it('truncates to an offset, cutting whole batches, and appends again after', async () => {
    const log = await PartitionLog.open(await tempDir(), { config: { segmentBytes: 1024 } });
    for (let i = 0; i < 30; i++)
      await log.appendAsLeader(makeBatch(3, { label: `t${i}` }), { leaderEpoch: i < 15 ? 1 : 2 });
    expect(await log.truncateTo(50)).toBe(48); // 50 sits in the batch 48..50
    expect(log.logEndOffset).toBe(48);
    expect(log.leaderEpochs.all).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 45 },
    ]);
    expect(await log.truncateTo(30)).toBe(30);
    expect(log.leaderEpochs.all).toEqual([{ epoch: 1, startOffset: 0 }]);
    await log.appendAsLeader(makeBatch(2, { label: 'new' }), { leaderEpoch: 3 });
    const all = await readAll(log);
    expect(all.length).toBe(32);
    expect(all.at(-1)).toEqual([31, 'new-1']);
    await log.close();
  });

  it('truncating to the log end forgets an epoch that starts there (led without writing)', async () => {
    const log = await PartitionLog.open(await tempDir());
    await log.appendAsLeader(makeBatch(5), { leaderEpoch: 0 });
    await log.assignLeaderEpoch(1);
    expect(log.leaderEpochs.latest).toEqual({ epoch: 1, startOffset: 5 });
    expect(await log.truncateTo(5)).toBe(5);
    expect(log.leaderEpochs.all).toEqual([{ epoch: 0, startOffset: 0 }]);
    expect(await readAll(log)).toHaveLength(5);
    await log.close();
  });

  it('deletes segments before an offset, advances the log start offset and keeps it across restarts', async () => {
    const dir = await tempDir();
    let log = await PartitionLog.open(dir, { config: { segmentBytes: 1024 } });
    for (let i = 0; i < 30; i++) await log.appendAsLeader(makeBatch(3), { leaderEpoch: 0 });
    const bases = log.segmentBaseOffsets;
    const deleted = await log.deleteSegmentsBefore(bases[2]! + 1);
    expect(deleted).toBe(2);
    expect(log.logStartOffset).toBe(bases[2]! + 1);
    await expect(log.read(bases[2]!, 100)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await log.close();
    log = await PartitionLog.open(dir, { config: { segmentBytes: 1024 } });
    expect(log.logStartOffset).toBe(bases[2]! + 1);
    expect(log.segmentBaseOffsets[0]).toBe(bases[2]);
    // Deleting past the end rolls and empties the log but keeps offsets moving forward.
    await log.deleteSegmentsBefore(1_000);
    expect(log.logStartOffset).toBe(90);
    expect(log.segmentBaseOffsets).toEqual([90]);
    expect((await log.appendAsLeader(makeBatch(1), { leaderEpoch: 0 })).firstOffset).toBe(90);
    await log.close();
  });

  it('reopens after a clean close with the same offsets, epochs and contents', async () => {
    const dir = await tempDir();
    let log = await PartitionLog.open(dir, { config: { segmentBytes: 4096, indexIntervalBytes: 256 } });
    for (let i = 0; i < 100; i++)
      await log.appendAsLeader(makeBatch(2, { label: `p${i}` }), { leaderEpoch: i < 50 ? 0 : 4 });
    const before = await readAll(log);
    await log.close();
    log = await PartitionLog.open(dir, { config: { segmentBytes: 4096, indexIntervalBytes: 256 } });
    expect(log.logEndOffset).toBe(200);
    expect(log.leaderEpochs.all).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 4, startOffset: 100 },
    ]);
    expect(await readAll(log, 1000)).toEqual(before);
    expect(await readFile(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n0 0\n4 100\n');
    await log.close();
  });
});

describe('PartitionLog flushing', () => {
  it('every-batch: the recovery point follows every append', async () => {
    const log = await PartitionLog.open(await tempDir(), { config: { flush: { mode: 'every-batch' } } });
    await log.appendAsLeader(makeBatch(3), { leaderEpoch: 0 });
    expect(log.recoveryPoint).toBe(3);
    await log.close();
  });

  it('interval: the recovery point catches up within the interval', async () => {
    const log = await PartitionLog.open(await tempDir(), {
      config: { flush: { mode: 'interval', intervalMs: 20 } },
    });
    await log.appendAsLeader(makeBatch(3), { leaderEpoch: 0 });
    const deadline = Date.now() + 2000;
    while (log.recoveryPoint < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(log.recoveryPoint).toBe(3);
    await log.close();
  });

  it('os: nothing is fsynced until flush() is called', async () => {
    const log = await PartitionLog.open(await tempDir(), { config: { flush: { mode: 'os' } } });
    await log.appendAsLeader(makeBatch(3), { leaderEpoch: 0 });
    expect(log.recoveryPoint).toBe(0);
    await log.flush();
    expect(log.recoveryPoint).toBe(3);
    await log.close();
  });

  it('rejects invalid configuration with a clear error', async () => {
    const dir = await tempDir();
    await expect(PartitionLog.open(dir, { config: { segmentBytes: 10 } })).rejects.toBeInstanceOf(
      LogConfigError,
    );
    await expect(
      PartitionLog.open(dir, { config: { flush: { mode: 'interval', intervalMs: -1 } } }),
    ).rejects.toThrow(/flush.intervalMs/);
  });

  it('ignores stray temporary files left by an interrupted checkpoint write', async () => {
    const dir = await tempDir();
    let log = await PartitionLog.open(dir);
    await log.appendAsLeader(makeBatch(2), { leaderEpoch: 0 });
    await log.close();
    await writeFile(join(dir, 'leader-epoch-checkpoint.tmp'), 'garbage');
    log = await PartitionLog.open(dir);
    expect(log.logEndOffset).toBe(2);
    expect(await readdir(dir)).not.toContain('leader-epoch-checkpoint.tmp');
    await log.close();
  });
});
