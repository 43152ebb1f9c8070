import { describe, expect, it } from 'vitest';
import {
  formatProducerPerfResult,
  type PerfProducer,
  randomPayload,
  runProducerPerf,
} from '../../../../bench/perf/producer-perf.js';
import type { ThroughputStats } from '../../../../bench/perf/progress.js';

/** Acknowledges each send after `delayMs` (real timers), tracking how many were outstanding. */
function fakeProducer(delayMs: number, failAt?: number) {
  let sent = 0;
  let outstanding = 0;
  let maxOutstanding = 0;
  const producer: PerfProducer & { connected: boolean; flushed: boolean } = {
    connected: false,
    flushed: false,
    async connect() {
      producer.connected = true;
    },
    send(_topic, record) {
      const n = sent++;
      expect(record.key).toBeNull();
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      return new Promise((resolve, reject) =>
        setTimeout(() => {
          outstanding--;
          if (n === failAt) reject(new Error(`record ${n} failed`));
          else resolve({ offset: n });
        }, delayMs),
      );
    },
    async flush() {
      producer.flushed = true;
    },
  };
  return { producer, stats: () => ({ sent, maxOutstanding }) };
}

describe('runProducerPerf', () => {
  it('sends every record, caps outstanding sends and measures latency', async () => {
    const { producer, stats } = fakeProducer(5);
    const windows: ThroughputStats[] = [];
    const result = await runProducerPerf(producer, {
      topic: 't',
      records: 500,
      recordSize: 64,
      throughput: -1,
      maxInFlight: 50,
      reportIntervalMs: 20,
      onProgress: (w) => windows.push(w),
    });
    expect(producer.connected).toBe(true);
    expect(producer.flushed).toBe(true);
    expect(stats()).toEqual({ sent: 500, maxOutstanding: 50 });
    expect(result).toMatchObject({ topic: 't', records: 500, recordSize: 64, bytes: 500 * 64 });
    expect(result.latencyMs.count).toBe(500);
    expect(result.latencyMs.min).toBeGreaterThanOrEqual(3); // timers may fire a little early by performance.now()
    expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.max);
    expect(result.recordsPerSec).toBeGreaterThan(0);
    expect(windows.length).toBeGreaterThan(0);
    expect(windows.reduce((sum, w) => sum + w.records, 0)).toBeLessThanOrEqual(500);
    expect(formatProducerPerfResult(result)).toMatch(
      /^500 records sent, [\d.]+ records\/sec \([\d.]+ MiB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.$/,
    );
  });

  it('holds a throughput cap', async () => {
    const { producer } = fakeProducer(1);
    const started = performance.now();
    const result = await runProducerPerf(producer, {
      topic: 't',
      records: 100,
      recordSize: 10,
      throughput: 1000,
    });
    // 100 records at 1000/s: record 99 is due 99 ms after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(result.recordsPerSec).toBeLessThanOrEqual(1100);
  });

  it('stops at the first failed send and throws it once the others settled', async () => {
    const { producer, stats } = fakeProducer(2, 10);
    await expect(
      runProducerPerf(producer, {
        topic: 't',
        records: 10_000,
        recordSize: 1,
        throughput: -1,
        maxInFlight: 20,
      }),
    ).rejects.toThrow('record 10 failed');
    expect(stats().sent).toBeLessThan(100);
  });

  it('makes payloads of upper-case letters', () => {
    const payload = randomPayload(1000);
    expect(payload).toHaveLength(1000);
    expect(/^[A-Z]+$/.test(payload.toString('latin1'))).toBe(true);
  });
});
