import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileHandlePool } from '../../../broker/storage/file-handle-pool.js';
import { LeaderEpochCheckpoint } from '../../../broker/storage/leader-epoch-checkpoint.js';
import { offsetIndexCodec, SparseIndex, timeIndexCodec } from '../../../broker/storage/sparse-index.js';
import { useTempDirs } from '../../helpers/temp-dir.js';

const tempDir = useTempDirs();

async function touch(path: string): Promise<void> {
  await (await open(path, 'w')).close();
}

describe('SparseIndex', () => {
  it('answers floor and strictly-below lookups and ignores non-increasing keys', () => {
    const index = new SparseIndex('/unused', offsetIndexCodec, 100);
    index.append(100, 0);
    index.append(110, 500);
    index.append(110, 900); // ignored: not above the last key
    index.append(130, 1000);
    expect(index.size).toBe(3);
    expect(index.floor(99)).toBeUndefined();
    expect(index.floor(100)).toEqual({ key: 100, value: 0 });
    expect(index.floor(129)).toEqual({ key: 110, value: 500 });
    expect(index.floor(1e9)).toEqual({ key: 130, value: 1000 });
    expect(index.below(110)).toEqual({ key: 100, value: 0 });
    expect(index.below(100)).toBeUndefined();
  });

  it('persists in append-only fashion, cutting a stale tail after truncation', async () => {
    const dir = await tempDir();
    const pool = new FileHandlePool(4);
    const path = join(dir, 'x.timeindex');
    await touch(path);
    const index = new SparseIndex(path, timeIndexCodec, 1000);
    for (let i = 0; i < 10; i++) index.append(1_700_000_000_000 + i, 1000 + i * 3);
    await index.persist(pool, true);
    index.truncateFromValue(1000 + 5 * 3);
    index.append(1_800_000_000_000, 2000);
    await index.persist(pool, false);

    const reloaded = new SparseIndex(path, timeIndexCodec, 1000);
    expect(await reloaded.load(pool)).toBe(true);
    expect(reloaded.size).toBe(6);
    expect(reloaded.lastEntry).toEqual({ key: 1_800_000_000_000, value: 2000 });
    await pool.closeAll();
  });

  it('refuses to load files that are torn or out of order', async () => {
    const dir = await tempDir();
    const pool = new FileHandlePool(4);
    const torn = join(dir, 'torn.index');
    await writeFile(torn, Buffer.alloc(13));
    expect(await new SparseIndex(torn, offsetIndexCodec, 0).load(pool)).toBe(false);
    const unordered = join(dir, 'unordered.index');
    const buf = Buffer.alloc(16);
    buf.writeUInt32BE(5, 0);
    buf.writeUInt32BE(3, 8);
    await writeFile(unordered, buf);
    const index = new SparseIndex(unordered, offsetIndexCodec, 0);
    expect(await index.load(pool)).toBe(false);
    expect(index.size).toBe(0);
    expect(await new SparseIndex(join(dir, 'missing.index'), offsetIndexCodec, 0).load(pool)).toBe(false);
    await pool.closeAll();
  });
});

describe('FileHandlePool', () => {
  it('never keeps more than maxOpen idle handles and reuses cached ones', async () => {
    const dir = await tempDir();
    const pool = new FileHandlePool(3);
    const paths = Array.from({ length: 10 }, (_, i) => join(dir, `f${i}`));
    for (const path of paths) await touch(path);
    for (const path of paths) {
      await pool.withHandle(path, (handle) => handle.write(Buffer.from('x'), 0, 1, 0));
      expect(pool.openCount).toBeLessThanOrEqual(3);
    }
    const before = pool.stats.opened;
    await pool.withHandle(paths[9]!, async () => undefined);
    expect(pool.stats.opened).toBe(before);
    await pool.closeAll();
    expect(pool.openCount).toBe(0);
  });

  it('does not close a handle that is in use', async () => {
    const dir = await tempDir();
    const pool = new FileHandlePool(1);
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    await touch(a);
    await touch(b);
    await pool.withHandle(a, async (handle) => {
      await pool.withHandle(b, async () => undefined);
      // `a` is still in use, so it must still work.
      await handle.write(Buffer.from('ok'), 0, 2, 0);
    });
    await pool.closeAll();
  });
});

describe('LeaderEpochCheckpoint', () => {
  it('tracks epoch start offsets, answers end-offset queries and survives reload', async () => {
    const path = join(await tempDir(), 'leader-epoch-checkpoint');
    const cache = await LeaderEpochCheckpoint.load(path);
    expect(cache.assign(1, 0)).toBe(true);
    expect(cache.assign(1, 10)).toBe(false);
    expect(cache.assign(3, 50)).toBe(true);
    expect(cache.endOffsetFor(1, 80)).toEqual({ epoch: 1, endOffset: 50 });
    expect(cache.endOffsetFor(2, 80)).toEqual({ epoch: 1, endOffset: 50 });
    expect(cache.endOffsetFor(3, 80)).toEqual({ epoch: 3, endOffset: 80 });
    expect(cache.endOffsetFor(0, 80)).toBeUndefined();
    await cache.persist();
    const reloaded = await LeaderEpochCheckpoint.load(path);
    expect(reloaded.all).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 50 },
    ]);
    expect(reloaded.truncateFromEnd(50)).toBe(true);
    expect(reloaded.all).toEqual([{ epoch: 1, startOffset: 0 }]);
    expect(reloaded.truncateFromStart(20)).toBe(true);
    expect(reloaded.all).toEqual([{ epoch: 1, startOffset: 20 }]);
  });
});
