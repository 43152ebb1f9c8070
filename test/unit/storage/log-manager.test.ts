import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LogConfigError } from '../../../broker/storage/errors.js';
import { LogManager } from '../../../broker/storage/log-manager.js';
import { makeBatch, recordsOf } from '../../helpers/batches.js';
import { useTempDirs } from '../../helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('LogManager', () => {
  it('holds many partitions under one directory within a bounded number of open files', async () => {
    const dataDir = await tempDir();
    const manager = await LogManager.open(dataDir, { maxOpenFiles: 8, defaults: { segmentBytes: 2048 } });
    for (let round = 0; round < 3; round++) {
      for (let partition = 0; partition < 40; partition++) {
        const log = await manager.getOrCreate({ topic: 'orders', partition });
        await log.appendAsLeader(makeBatch(2, { label: `p${partition}r${round}`, valueBytes: 200 }), {
          leaderEpoch: 0,
        });
        expect(manager.pool.openCount).toBeLessThanOrEqual(8);
      }
    }
    for (let partition = 0; partition < 40; partition++) {
      const log = (await manager.get({ topic: 'orders', partition }))!;
      const values = recordsOf((await log.read(0, 1 << 20)).records).map(([, v]) => v.replace(/\.+$/, ''));
      expect(values).toEqual([
        `p${partition}r0-0`,
        `p${partition}r0-1`,
        `p${partition}r1-0`,
        `p${partition}r1-1`,
        `p${partition}r2-0`,
        `p${partition}r2-1`,
      ]);
      expect(manager.pool.openCount).toBeLessThanOrEqual(8);
    }
    // The bound forced handles to be closed and reopened.
    expect(manager.pool.stats.closed).toBeGreaterThan(0);
    await manager.close();
    expect((await readdir(dataDir)).length).toBe(40);
  });

  it('lists logs found on disk and opens them only on first use', async () => {
    const dataDir = await tempDir();
    let manager = await LogManager.open(dataDir);
    await (await manager.getOrCreate({ topic: 'a.b-c', partition: 0 })).appendAsLeader(makeBatch(3), {
      leaderEpoch: 0,
    });
    await manager.getOrCreate({ topic: 'a.b-c', partition: 11 });
    await manager.close();

    manager = await LogManager.open(dataDir);
    expect(manager.partitions()).toEqual([
      { topic: 'a.b-c', partition: 0 },
      { topic: 'a.b-c', partition: 11 },
    ]);
    expect(manager.pool.stats.opened).toBe(0);
    const log = await manager.get({ topic: 'a.b-c', partition: 0 });
    expect(log?.logEndOffset).toBe(3);
    expect(await manager.get({ topic: 'missing', partition: 0 })).toBeUndefined();
    await manager.close();
  });

  it('deletes a partition log and its directory', async () => {
    const dataDir = await tempDir();
    const manager = await LogManager.open(dataDir);
    await manager.getOrCreate({ topic: 't', partition: 0 });
    await manager.delete({ topic: 't', partition: 0 });
    expect(manager.has({ topic: 't', partition: 0 })).toBe(false);
    expect(await readdir(dataDir)).toEqual([]);
    await manager.close();
  });

  it('rejects illegal topic names and partitions', async () => {
    const manager = await LogManager.open(await tempDir());
    await expect(manager.getOrCreate({ topic: '../etc', partition: 0 })).rejects.toBeInstanceOf(
      LogConfigError,
    );
    await expect(manager.getOrCreate({ topic: 'ok', partition: -1 })).rejects.toBeInstanceOf(LogConfigError);
    await expect(manager.getOrCreate({ topic: 'x'.repeat(250), partition: 0 })).rejects.toBeInstanceOf(
      LogConfigError,
    );
    await manager.close();
  });

  it('applies topic-level config overrides', async () => {
    const manager = await LogManager.open(await tempDir(), {
      defaults: { segmentBytes: 1 << 20 },
      configFor: ({ topic }) => (topic === 'small' ? { segmentBytes: 1024 } : undefined),
    });
    expect((await manager.getOrCreate({ topic: 'small', partition: 0 })).config.segmentBytes).toBe(1024);
    expect((await manager.getOrCreate({ topic: 'big', partition: 0 })).config.segmentBytes).toBe(1 << 20);
    await manager.close();
  });
});
