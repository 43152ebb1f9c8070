import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../../../bench/perf/latency-recorder.js';

describe('LatencyRecorder', () => {
  it('is all zeros when empty', () => {
    expect(new LatencyRecorder().summary()).toEqual({
      count: 0,
      min: 0,
      avg: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
    });
  });

  it('reports percentiles of 1..1000 ms within the histogram precision', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 1000; ms++) recorder.record(ms);
    const s = recorder.summary();
    expect(s.count).toBe(1000);
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    expect(s.avg).toBeCloseTo(500.5, 0);
    expect(s.p50).toBeCloseTo(500, -0.5); // 3 significant digits: within 0.1 %
    expect(s.p95).toBeCloseTo(950, -0.5);
    expect(s.p99).toBeCloseTo(990, -0.5);
    expect(s.p999).toBeCloseTo(999, -0.5);
  });

  it('keeps sub-millisecond resolution and clamps to 1 µs', () => {
    const recorder = new LatencyRecorder();
    recorder.record(0.25);
    recorder.record(0);
    recorder.record(-3); // a clock step backwards must not throw
    expect(recorder.count).toBe(3);
    expect(recorder.summary().max).toBe(0.25);
    expect(recorder.summary().min).toBe(0.001);
  });

  it('never reports a percentile above the maximum or out of order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 120_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (values) => {
          const recorder = new LatencyRecorder();
          for (const v of values) recorder.record(v);
          const s = recorder.summary();
          expect(s.count).toBe(values.length);
          expect(s.min).toBeLessThanOrEqual(s.p50);
          expect(s.p50).toBeLessThanOrEqual(s.p95);
          expect(s.p95).toBeLessThanOrEqual(s.p99);
          expect(s.p99).toBeLessThanOrEqual(s.p999);
          expect(s.p999).toBeLessThanOrEqual(s.max);
          expect(s.max).toBeCloseTo(Math.max(0.001, Math.max(...values)), 2);
        },
      ),
    );
  });

  it('starts over after reset', () => {
    const recorder = new LatencyRecorder();
    recorder.record(5);
    recorder.reset();
    expect(recorder.count).toBe(0);
    recorder.record(2);
    expect(recorder.summary()).toMatchObject({ count: 1, max: 2, p50: 2 });
  });
});
