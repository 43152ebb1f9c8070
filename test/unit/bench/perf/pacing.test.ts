import { describe, expect, it } from 'vitest';
import { InFlightLimit } from '../../../../bench/perf/in-flight-limit.js';
import { type Clock, Throttle } from '../../../../bench/perf/throttle.js';

/** A clock whose sleeps advance time instantly and are logged. */
function fakeClock(): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('Throttle', () => {
  it('paces records to the target rate, sleeping only once the deficit is worth it', async () => {
    const clock = fakeClock();
    const throttle = new Throttle(1000, clock); // one record per ms
    for (let i = 0; i < 1000; i++) await throttle.wait(i);
    // Sending takes no time here: record i is due at i ms, so the clock ends near 999 ms.
    expect(clock.now()).toBeGreaterThanOrEqual(997);
    expect(clock.now()).toBeLessThanOrEqual(999);
    expect(Math.min(...clock.sleeps)).toBeGreaterThanOrEqual(2);
  });

  it('does not sleep when the sender is slower than the target', async () => {
    const clock = fakeClock();
    const throttle = new Throttle(100, clock);
    for (let i = 0; i < 10; i++) {
      await throttle.wait(i);
      clock.advance(20); // 50 records/s
    }
    expect(clock.sleeps).toEqual([]);
  });

  it('never sleeps when unlimited and rejects a zero rate', async () => {
    const clock = fakeClock();
    const throttle = new Throttle(-1, clock);
    for (let i = 0; i < 100; i++) await throttle.wait(i);
    expect(throttle.unlimited).toBe(true);
    expect(clock.sleeps).toEqual([]);
    expect(() => new Throttle(0, clock)).toThrow(RangeError);
  });
});

describe('InFlightLimit', () => {
  it('hands slots out first come, first served and drains', async () => {
    const limit = new InFlightLimit(2);
    expect(limit.tryAcquire()).toBe(true);
    await limit.acquire();
    expect(limit.tryAcquire()).toBe(false);
    const order: number[] = [];
    const third = limit.acquire().then(() => order.push(3));
    const fourth = limit.acquire().then(() => order.push(4));
    // A waiter is queued: tryAcquire must not jump the queue even after a release.
    limit.release();
    expect(limit.tryAcquire()).toBe(false);
    await third;
    expect(order).toEqual([3]);
    limit.release();
    await fourth;
    expect(order).toEqual([3, 4]);
    expect(limit.inFlight).toBe(2);

    let drained = false;
    const drain = limit.drain().then(() => {
      drained = true;
    });
    limit.release();
    await Promise.resolve();
    expect(drained).toBe(false);
    limit.release();
    await drain;
    expect(drained).toBe(true);
    expect(limit.inFlight).toBe(0);
    await limit.drain(); // nothing in flight: resolves at once
  });

  it('rejects a release without a slot and a limit below 1', () => {
    expect(() => new InFlightLimit(2).release()).toThrow();
    expect(() => new InFlightLimit(0)).toThrow(RangeError);
  });
});
