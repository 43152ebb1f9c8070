import { describe, expect, it } from 'vitest';
import { BoundedPool } from '../../../broker/tiering/bounded-pool.js';
import { epochsOf } from '../../../broker/tiering/segment-uploader.js';

describe('BoundedPool', () => {
  it('never runs more than its limit at once, and runs everything in FIFO order', async () => {
    const pool = new BoundedPool(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.run(async () => {
          started.push(i);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 2 + (i % 3)));
          running--;
          return i * 2;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.active).toBe(0);
    expect(pool.queued).toBe(0);
  });

  it('frees the slot of a task that throws', async () => {
    const pool = new BoundedPool(1);
    await expect(pool.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await pool.run(async () => 'next')).toBe('next');
    expect(() => new BoundedPool(0)).toThrow(RangeError);
  });
});

describe('epochsOf', () => {
  const all = [
    { epoch: 0, startOffset: 0 },
    { epoch: 2, startOffset: 100 },
    { epoch: 5, startOffset: 250 },
  ];

  it('gives the epoch in force at the segment base, then the epochs that start inside it', () => {
    expect(epochsOf(all, 50, 99)).toEqual([{ epoch: 0, startOffset: 50 }]);
    expect(epochsOf(all, 50, 120)).toEqual([
      { epoch: 0, startOffset: 50 },
      { epoch: 2, startOffset: 100 },
    ]);
    expect(epochsOf(all, 100, 400)).toEqual([
      { epoch: 2, startOffset: 100 },
      { epoch: 5, startOffset: 250 },
    ]);
    expect(epochsOf(all, 300, 400)).toEqual([{ epoch: 5, startOffset: 300 }]);
  });
});
