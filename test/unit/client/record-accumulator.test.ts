import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferFullError, ConfigError } from '../../../client/errors.js';
import {
  BATCH_OVERHEAD,
  type PendingRecord,
  ProducerBatch,
  RecordAccumulator,
  type RecordMetadata,
  recordSize,
} from '../../../client/producer/record-accumulator.js';

function record(value = 'v'): PendingRecord & { results: RecordMetadata[]; errors: unknown[] } {
  const results: RecordMetadata[] = [];
  const errors: unknown[] = [];
  return {
    key: null,
    value: Buffer.from(value),
    headers: [],
    timestamp: 0,
    resolve: (m) => results.push(m),
    reject: (e) => errors.push(e),
    results,
    errors,
  };
}

function accumulator(overrides: Partial<ConstructorParameters<typeof RecordAccumulator>[0]> = {}) {
  let now = 1000;
  const acc = new RecordAccumulator({
    batchSize: 200,
    lingerMs: 10,
    bufferMemory: 1000,
    maxBlockMs: 50,
    now: () => now,
    ...overrides,
  });
  return { acc, advance: (ms: number) => (now += ms), now: () => now };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RecordAccumulator', () => {
  it('validates its configuration', () => {
    expect(() => accumulator({ batchSize: 10 })).toThrow(ConfigError);
    expect(() => accumulator({ bufferMemory: 100 })).toThrow(ConfigError);
  });

  it('holds a batch for lingerMs, then makes it ready', () => {
    const { acc, advance } = accumulator();
    acc.append('t', 0, record(), 30);
    acc.append('t', 0, record(), 30);
    expect(acc.ready()).toEqual([]);
    expect(acc.nextReadyDelay()).toBe(10);
    advance(10);
    const [batch] = acc.ready();
    expect(batch!.recordCount).toBe(2);
    acc.take(batch!);
    expect(acc.isEmpty).toBe(true);
  });

  it('closes a batch at batchSize and starts another, so the full one is ready at once', () => {
    const { acc } = accumulator();
    const results = [1, 2, 3, 4].map(() => acc.append('t', 0, record(), 46));
    // 61 + 46*3 = 199 < 200 keeps the first batch open; the fourth record (245 > 200) starts another.
    expect(results.map((r) => r.batchFull)).toEqual([false, false, false, false]);
    const ready = acc.ready();
    expect(ready).toHaveLength(1);
    expect(ready[0]!.recordCount).toBe(3);
    acc.take(ready[0]!);
    // The second batch is still lingering.
    expect(acc.ready()).toEqual([]);
  });

  it('reports a batch that reached batchSize as full', () => {
    const { acc } = accumulator();
    expect(acc.append('t', 1, record(), 150).batchFull).toBe(true);
    expect(acc.ready()).toHaveLength(1);
  });

  it('keeps partitions apart and makes everything ready during a flush', () => {
    const { acc } = accumulator();
    acc.append('t', 0, record(), 10);
    acc.append('t', 1, record(), 10);
    acc.append('u', 0, record(), 10);
    expect(acc.ready()).toEqual([]);
    const end = acc.beginFlush();
    expect(acc.ready().map((b) => `${b.topic}-${b.partition}`)).toEqual(['t-0', 't-1', 'u-0']);
    end();
    expect(acc.ready()).toEqual([]);
  });

  it('offers nothing of a partition with a batch in flight, and retries go back to the head after their backoff', () => {
    const { acc, advance } = accumulator();
    acc.append('t', 0, record('a'), 150);
    const [first] = acc.ready();
    acc.take(first!);
    acc.markInFlight('t', 0);
    acc.append('t', 0, record('b'), 150);
    expect(acc.ready()).toEqual([]);
    first!.retryAt = 1050;
    first!.attempts = 1;
    acc.reenqueue(first!);
    acc.markDone('t', 0);
    expect(acc.ready()).toEqual([]);
    expect(acc.nextReadyDelay()).toBe(50);
    advance(50);
    expect(acc.ready()).toEqual([first]);
  });

  it('pipelines up to maxInFlightPerPartition batches; retries wait until the partition is quiet, in sequence order', () => {
    const { acc } = accumulator({ maxInFlightPerPartition: 3 });
    const sent: ProducerBatch[] = [];
    for (let i = 0; i < 4; i++) {
      acc.append('t', 0, record(`r${i}`), 400); // each fills a batch
      const [head] = acc.ready();
      if (!head) break;
      acc.take(head);
      head.baseSequence = i;
      acc.markInFlight('t', 0);
      sent.push(head);
    }
    expect(sent).toHaveLength(3); // the 4th waits for a slot
    // The 2nd and then the 1st fail: they go back in sequence order, ahead of the queued 4th.
    for (const failed of [sent[1]!, sent[0]!]) {
      failed.attempts = 1;
      acc.reenqueue(failed);
      acc.markDone('t', 0);
    }
    expect(acc.ready()).toEqual([]); // the 3rd is still out
    acc.markDone('t', 0);
    expect(acc.ready()).toEqual([sent[0]]);
    acc.take(sent[0]!);
    acc.markInFlight('t', 0);
    expect(acc.ready()).toEqual([]); // the next retry waits for this one
    acc.markDone('t', 0);
    expect(acc.ready()).toEqual([sent[1]]);
  });

  it('resolves offsets from the base offset, or -1 for acks 0', () => {
    const batch = new ProducerBatch('t', 2, 0);
    const a = record();
    const b = record();
    batch.records.push(a, b);
    batch.complete(40);
    expect([...a.results, ...b.results]).toEqual([
      { topic: 't', partition: 2, offset: 40 },
      { topic: 't', partition: 2, offset: 41 },
    ]);
    const zero = new ProducerBatch('t', 0, 0);
    const c = record();
    zero.records.push(c);
    zero.complete(-1);
    expect(c.results[0]!.offset).toBe(-1);
  });

  it('applies backpressure: reserve waits for released memory, in order', async () => {
    const { acc } = accumulator({ maxBlockMs: 1000 });
    await acc.reserve(900);
    const order: string[] = [];
    const big = acc.reserve(200).then(() => order.push('big'));
    const small = acc.reserve(50).then(() => order.push('small'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    acc.release(300);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(acc.bufferedBytes).toBe(850);
  });

  it('rejects with BufferFullError after maxBlockMs, and at once when a record can never fit', async () => {
    const { acc } = accumulator({ maxBlockMs: 20 });
    await acc.reserve(1000);
    const error = await acc.reserve(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferFullError);
    expect((error as BufferFullError).retriable).toBe(true);
    expect(await acc.reserve(5000).catch((e: unknown) => e)).toBeInstanceOf(BufferFullError);
    acc.release(1000);
    await acc.reserve(10);
    expect(acc.bufferedBytes).toBe(10);
  });

  it('charges records for key, value and headers', () => {
    expect(recordSize(null, Buffer.alloc(10), [])).toBeGreaterThan(10);
    expect(
      recordSize(Buffer.alloc(5), Buffer.alloc(10), [{ key: 'h', value: Buffer.alloc(3) }]),
    ).toBeGreaterThan(recordSize(null, Buffer.alloc(10), []));
    expect(BATCH_OVERHEAD).toBe(61);
  });

  it('fails waiting sends and removes queued batches', async () => {
    const { acc } = accumulator({ maxBlockMs: 1000 });
    await acc.reserve(1000);
    const waiting = acc.reserve(10).catch((e: unknown) => e);
    acc.failWaiters(new BufferFullError(10, 1000, 0));
    expect(await waiting).toBeInstanceOf(BufferFullError);
    acc.append('t', 0, record(), 10);
    const [batch] = acc.queued();
    acc.remove(batch!);
    expect(acc.isEmpty).toBe(true);
  });
});
