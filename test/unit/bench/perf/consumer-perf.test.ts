import { describe, expect, it } from 'vitest';
import { type PerfBatch, type PerfConsumer, runConsumerPerf } from '../../../../bench/perf/consumer-perf.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hands out `batches` batches of `size` records (10-byte values, 2-byte keys), one every
 * `intervalMs`; afterwards it waits, as a consumer on a quiet topic does, until close().
 */
function fakeConsumer(batches: number, size: number, intervalMs: number) {
  let closed = false;
  let wake = () => {};
  const handedOut = { batches: 0 };
  const consumer: PerfConsumer & { closed: () => boolean } = {
    closed: () => closed,
    async close() {
      closed = true;
      wake();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<PerfBatch> {
      while (!closed) {
        if (handedOut.batches === batches) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        await sleep(intervalMs);
        handedOut.batches++;
        yield {
          records: Array.from({ length: size }, () => ({ key: Buffer.from('kk'), value: Buffer.alloc(10) })),
        };
      }
    },
  };
  return { consumer, handedOut };
}

describe('runConsumerPerf', () => {
  it('stops after the requested records, counts key and value bytes and closes the consumer', async () => {
    const { consumer, handedOut } = fakeConsumer(100, 10, 2);
    const result = await runConsumerPerf(consumer, { records: 95 });
    // 95 records end in the 10th batch; the whole batch counts, as it was delivered.
    expect(handedOut.batches).toBe(10);
    expect(result).toMatchObject({ records: 100, bytes: 1200, timedOut: false });
    expect(consumer.closed()).toBe(true);
    expect(result.firstRecordMs).toBeGreaterThanOrEqual(1);
    expect(result.pollWaitMs.count).toBe(9); // the wait for the first batch is firstRecordMs
    expect(result.recordsPerSec).toBeGreaterThan(0);
  });

  it('gives up after the idle timeout, closing the consumer, and leaves the idle tail out of the rate', async () => {
    const { consumer } = fakeConsumer(3, 5, 1);
    const windows: number[] = [];
    const result = await runConsumerPerf(consumer, {
      records: 1000,
      idleTimeoutMs: 300,
      reportIntervalMs: 50,
      onProgress: (w) => windows.push(w.records),
    });
    expect(result).toMatchObject({ records: 15, bytes: 180, timedOut: true });
    expect(consumer.closed()).toBe(true);
    expect(result.elapsedMs).toBeLessThan(250);
    expect(windows.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(15);
  });

  it('rejects a record count below one', async () => {
    const { consumer } = fakeConsumer(1, 1, 1);
    await expect(runConsumerPerf(consumer, { records: 0 })).rejects.toThrow(RangeError);
  });
});
