import { describe, expect, it } from 'vitest';
import { type E2eProducer, runEndToEndPerf } from '../../../../bench/perf/end-to-end-perf.js';

describe('runEndToEndPerf', () => {
  /** A "cluster" that delivers each sent value to the consumer `delayMs` later, dropping `drop`. */
  function loopback(consumed: { onValue?: (value: Buffer) => void }, delayMs: number, drop?: number) {
    let sent = 0;
    const producer: E2eProducer = {
      async send(_topic, record) {
        const n = sent++;
        setTimeout(() => {
          if (n === drop) return;
          consumed.onValue?.(record.value);
          consumed.onValue?.(record.value); // a redelivery is not counted twice
        }, delayMs);
      },
      async flush() {},
    };
    return producer;
  }

  it('measures send-to-delivery latency for every record at the requested pace', async () => {
    const consumed: { onValue?: (value: Buffer) => void } = {};
    const result = await runEndToEndPerf(loopback(consumed, 5), consumed, {
      topic: 't',
      records: 50,
      recordSize: 8, // raised to the 16-byte stamp
      throughput: 500,
    });
    expect(result).toMatchObject({ records: 50, recordSize: 16, missing: 0 });
    expect(result.latencyMs.count).toBe(50);
    expect(result.latencyMs.min).toBeGreaterThanOrEqual(4);
    expect(result.latencyMs.max).toBeLessThan(1000);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(90); // 50 records at 500/s
    expect(consumed.onValue).toBeUndefined();
  });

  it('reports records that never arrive once the drain timeout passes', async () => {
    const consumed: { onValue?: (value: Buffer) => void } = {};
    const result = await runEndToEndPerf(loopback(consumed, 1, 7), consumed, {
      topic: 't',
      records: 20,
      recordSize: 32,
      throughput: -1,
      drainTimeoutMs: 200,
    });
    expect(result).toMatchObject({ records: 19, missing: 1 });
  });
});
