import { describe, expect, it } from 'vitest';
import { formatWindow, rates, ThroughputMeter } from '../../../../bench/perf/progress.js';

function fakeClock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ThroughputMeter', () => {
  it('reports windows that reset and totals that do not', () => {
    const clock = fakeClock();
    const meter = new ThroughputMeter(clock.now);
    for (let i = 0; i < 100; i++) meter.record(1024, i % 2 === 0 ? 2 : 4);
    clock.advance(500);
    const first = meter.window();
    expect(first).toMatchObject({ records: 100, bytes: 102_400, elapsedMs: 500, recordsPerSec: 200 });
    expect(first.mibPerSec).toBeCloseTo(0.1953125, 9);
    expect(first.avgLatencyMs).toBe(3);
    expect(first.maxLatencyMs).toBe(4);

    meter.record(1024, 10);
    clock.advance(1000);
    expect(meter.window()).toMatchObject({ records: 1, elapsedMs: 1000, avgLatencyMs: 10, maxLatencyMs: 10 });
    clock.advance(250);
    expect(meter.window()).toMatchObject({
      records: 0,
      recordsPerSec: 0,
      avgLatencyMs: null,
      maxLatencyMs: null,
    });

    expect(meter.records).toBe(101);
    expect(meter.bytes).toBe(101 * 1024);
    expect(meter.elapsedMs()).toBe(1750);
    const total = meter.total();
    expect(total).toMatchObject({ records: 101, elapsedMs: 1750, maxLatencyMs: 10 });
    expect(total.avgLatencyMs).toBeCloseTo((50 * 2 + 50 * 4 + 10) / 101, 9);
  });

  it('counts records without latencies (e.g. acks=0 or consumed records)', () => {
    const clock = fakeClock();
    const meter = new ThroughputMeter(clock.now);
    meter.record(10);
    clock.advance(100);
    expect(meter.total()).toMatchObject({ records: 1, recordsPerSec: 10, avgLatencyMs: null });
  });
});

describe('rates and formatWindow', () => {
  it('is zero over an empty interval', () => {
    expect(rates(5, 5, 0)).toEqual({ recordsPerSec: 0, mibPerSec: 0 });
  });

  it('formats a window as Kafka perf tools do', () => {
    const stats = {
      records: 50_000,
      bytes: 5_000_000,
      elapsedMs: 5000,
      recordsPerSec: 10_000,
      mibPerSec: 0.9536,
      avgLatencyMs: 2.14,
      maxLatencyMs: 12.34,
    };
    expect(formatWindow(stats)).toBe(
      '50000 records sent, 10000.0 records/sec (0.95 MiB/sec), 2.1 ms avg latency, 12.3 ms max latency.',
    );
    expect(formatWindow({ ...stats, avgLatencyMs: null, maxLatencyMs: null }, 'consumed')).toBe(
      '50000 records consumed, 10000.0 records/sec (0.95 MiB/sec).',
    );
  });
});
