import { describe, expect, it } from 'vitest';
import { PartScheduler } from '../../../../client/archive/part-scheduler.js';

interface Job {
  bytes: number;
  lane: number;
  index: number;
}

/** A fetch whose downloads finish after a pseudo-random delay, recording concurrency and budget. */
function instrumented(seed: number) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const stats = { inFlight: 0, maxInFlight: 0, aborted: 0 };
  const fetch = (job: Job, signal: AbortSignal) =>
    new Promise<Buffer>((resolve, reject) => {
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      const timer = setTimeout(
        () => {
          stats.inFlight--;
          resolve(Buffer.from(`${job.lane}:${job.index}`));
        },
        Math.floor(random() * 5),
      );
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        stats.inFlight--;
        stats.aborted++;
        reject(new Error('aborted'));
      });
    });
  return { fetch, stats };
}

function lanes(count: number, parts: number, bytes = 10): Job[][] {
  return Array.from({ length: count }, (_, lane) =>
    Array.from({ length: parts }, (_, index) => ({ bytes, lane, index })),
  );
}

describe('PartScheduler', () => {
  it('hands out every part, in order within each lane, within the concurrency and byte budget', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { fetch, stats } = instrumented(seed);
      const scheduler = new PartScheduler<Job>(fetch, 3, 50);
      for (const jobs of lanes(4, 12)) scheduler.addLane(jobs);
      const seen = new Map<number, number[]>();
      let held = 0;
      for (;;) {
        const next = await scheduler.next();
        if (!next) break;
        if ('error' in next) throw next.error;
        expect(next.data.toString()).toBe(`${next.job.lane}:${next.job.index}`);
        seen.set(next.job.lane, [...(seen.get(next.job.lane) ?? []), next.job.index]);
        held++;
        scheduler.release(next.job);
      }
      expect(held).toBe(48);
      for (const [, indexes] of seen) expect(indexes).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    }
  });

  it('stops downloading while the consumer holds the budget', async () => {
    const { fetch, stats } = instrumented(7);
    const scheduler = new PartScheduler<Job>(fetch, 8, 30);
    scheduler.addLane(lanes(1, 10)[0]!);
    const first = await scheduler.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // 30 bytes of budget: the part in hand and two more.
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    scheduler.release(first!.job);
    scheduler.close();
  });

  it('hands out a failed part in its place, after the parts before it', async () => {
    const scheduler = new PartScheduler<Job>(
      async (job) => {
        if (job.index === 2) throw new Error('boom');
        return Buffer.alloc(1);
      },
      4,
      1000,
    );
    scheduler.addLane(lanes(1, 5)[0]!);
    const results: string[] = [];
    for (let next = await scheduler.next(); next; next = await scheduler.next()) {
      results.push('error' in next ? `error ${next.job.index}` : `ok ${next.job.index}`);
      scheduler.release(next.job);
      if ('error' in next) break;
    }
    expect(results).toEqual(['ok 0', 'ok 1', 'error 2']);
    scheduler.close();
  });

  it('drops a lane: aborts its downloads and forgets its queue', async () => {
    const { fetch, stats } = instrumented(9);
    const scheduler = new PartScheduler<Job>(fetch, 4, 1000);
    const [a, b] = lanes(2, 6);
    scheduler.addLane(a!);
    scheduler.addLane(b!);
    const first = await scheduler.next();
    scheduler.release(first!.job);
    scheduler.drop(first!.lane);
    const rest: number[] = [];
    for (let next = await scheduler.next(); next; next = await scheduler.next()) {
      rest.push(next.job.lane);
      scheduler.release(next.job);
    }
    expect(new Set(rest).size).toBe(1);
    expect(rest).toHaveLength(6);
    expect(stats.aborted).toBeGreaterThan(0);
  });
});
