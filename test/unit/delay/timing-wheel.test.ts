import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimingWheel } from '../../../broker/delay/timing-wheel.js';

describe('TimingWheel', () => {
  it('returns each timer once and never early, across every level and the overflow', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        // Delays across all levels and the overflow (4 levels of 64 x 10 ms span ~46 hours).
        fc.array(fc.oneof(fc.integer({ min: -50, max: 2_000 }), fc.integer({ min: 0, max: 400_000_000 })), {
          maxLength: 60,
        }),
        fc.array(fc.integer({ min: 1, max: 50_000_000 }), { minLength: 1, maxLength: 40 }),
        (start, delays, steps) => {
          const wheel = new TimingWheel<number>(start);
          delays.forEach((delay, i) => {
            wheel.add(start + delay, i);
          });
          const seen = new Map<number, number>();
          let now = start;
          const drive = (to: number) => {
            // Coarse steps: each timer must still come out exactly once, and not before its due time.
            while (now < to) {
              now = Math.min(to, now + 10 * 64 * 64 * 64);
              for (const i of wheel.advance(now)) {
                expect(seen.has(i)).toBe(false);
                seen.set(i, now);
              }
            }
          };
          for (const step of steps) drive(now + step);
          drive(start + 400_000_000 + 1);
          expect(wheel.size).toBe(0);
          expect(seen.size).toBe(delays.length);
          delays.forEach((delay, i) => {
            const returnedAt = seen.get(i)!;
            expect(returnedAt).toBeGreaterThanOrEqual(start + delay);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fires within one tick when driven every tick', () => {
    const start = 1_000_000;
    const wheel = new TimingWheel<string>(start);
    const due = [5, 10, 639, 640, 641, 40_959, 40_961, 3_000_000];
    for (const d of due) wheel.add(start + d, `t${d}`);
    const firedAt = new Map<string, number>();
    for (let now = start; now <= start + 3_000_100; now += 10) {
      for (const item of wheel.advance(now)) firedAt.set(item, now);
    }
    for (const d of due) {
      const at = firedAt.get(`t${d}`)!;
      expect(at).toBeGreaterThanOrEqual(start + d);
      expect(at - (start + d)).toBeLessThan(10);
    }
  });

  it('returns overdue timers at once, in due order, and can remove a timer', () => {
    const wheel = new TimingWheel<string>(0);
    wheel.add(500, 'b');
    wheel.add(-5, 'a');
    wheel.add(700, 'c');
    expect(wheel.remove((item) => item === 'c')).toBe(true);
    expect(wheel.remove((item) => item === 'zzz')).toBe(false);
    expect(wheel.advance(0)).toEqual(['a']);
    expect(wheel.advance(10_000)).toEqual(['b']);
    expect(wheel.size).toBe(0);
    expect(wheel.nextWakeup()).toBeUndefined();
  });
});
