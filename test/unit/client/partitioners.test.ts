import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  createDefaultPartitioner,
  keyPartition,
  murmur2,
  type Partitioner,
  StickyPartitioner,
  toPositive,
} from '../../../client/partitioners.js';

// kafkajs 2.x's DefaultPartitioner is the Java-compatible one; its murmur2 is not exported
// publicly, so reach into the package (no `exports` map, so the deep path resolves).
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

/** The partition kafkajs's default partitioner chooses for `key` in a topic of `count` partitions. */
function kafkajsPartition(key: Buffer | string, count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('murmur2', () => {
  it('matches pinned values (the Java client UtilsTest vectors, confirmed against kafkajs)', () => {
    const pinned: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of pinned) {
      expect(murmur2(key), key).toBe(hash);
      expect(kafkajsMurmur2(key), key).toBe(hash);
    }
  });

  it('pins partitions for short and multibyte keys', () => {
    // [key, hash, partition of 12]
    const cases: [string, number, number][] = [
      ['', 275646681, 9],
      ['a', -1563381124, 4],
      ['foo', 597841616, 8],
      ['héllo', 614509002, 6],
      ['日本語キー', 1445825182, 10],
      ['🚀', 761778625, 1],
    ];
    for (const [key, hash, partition] of cases) {
      expect(murmur2(key), key).toBe(hash);
      expect(kafkajsMurmur2(key), key).toBe(hash);
      expect(keyPartition(key, 12), key).toBe(partition);
      expect(kafkajsPartition(key, 12), key).toBe(partition);
    }
  });

  it('hashes strings as their UTF-8 bytes', () => {
    expect(murmur2('naïve ✓')).toBe(murmur2(Buffer.from('naïve ✓', 'utf8')));
    expect(murmur2(new Uint8Array([1, 2, 3, 4, 5]))).toBe(murmur2(Buffer.from([1, 2, 3, 4, 5])));
  });

  it('agrees with kafkajs on random byte keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (bytes, count) => {
        const key = Buffer.from(bytes);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
        expect(keyPartition(key, count)).toBe(kafkajsPartition(key, count));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with kafkajs on random unicode string keys', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (key, count) => {
          expect(murmur2(key)).toBe(kafkajsMurmur2(key));
          expect(keyPartition(key, count)).toBe(kafkajsPartition(key, count));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('toPositive masks the sign bit instead of negating', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(42)).toBe(42);
  });
});

/** A random source replaying `values` in order, so sticky choices are deterministic. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('StickyPartitioner', () => {
  it('sticks to one partition per topic until a new batch is reported', () => {
    const sticky = new StickyPartitioner(sequence(0.5, 0.0, 0.99));
    const first = sticky.partition('a', [0, 1, 2, 3], 4);
    expect(first).toBe(2);
    for (let i = 0; i < 10; i++) expect(sticky.partition('a', [0, 1, 2, 3], 4)).toBe(first);
    // Another topic keeps its own choice.
    expect(sticky.partition('b', [0, 1, 2, 3], 4)).toBe(0);
    expect(sticky.partition('a', [0, 1, 2, 3], 4)).toBe(first);
  });

  it('moves to a different available partition after onNewBatch', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 31 }), { minLength: 2, maxLength: 32 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1 }),
        (available, draws) => {
          const sticky = new StickyPartitioner(sequence(...draws));
          let previous = sticky.partition('t', available, 32);
          for (let batch = 0; batch < 10; batch++) {
            expect(available).toContain(previous);
            sticky.onNewBatch('t', previous);
            const next = sticky.partition('t', available, 32);
            expect(next).not.toBe(previous);
            previous = next;
          }
        },
      ),
    );
  });

  it('ignores a stale onNewBatch for a partition it already left', () => {
    const sticky = new StickyPartitioner(sequence(0.0, 0.99));
    const first = sticky.partition('t', [0, 1, 2], 3);
    sticky.onNewBatch('t', first);
    const second = sticky.partition('t', [0, 1, 2], 3);
    sticky.onNewBatch('t', first); // a second batch of the old partition completing
    expect(sticky.partition('t', [0, 1, 2], 3)).toBe(second);
  });

  it('uses the only available partition, or any partition when none is available', () => {
    const sticky = new StickyPartitioner(sequence(0.7));
    expect(sticky.partition('one', [5], 8)).toBe(5);
    sticky.onNewBatch('one', 5);
    expect(sticky.partition('one', [5], 8)).toBe(5);
    expect(sticky.partition('none', [], 8)).toBe(5); // floor(0.7 * 8)
  });

  it('spreads over available partitions over many batches', () => {
    const sticky = new StickyPartitioner();
    const seen = new Set<number>();
    let p = sticky.partition('t', [0, 1, 2, 3], 6);
    for (let i = 0; i < 200; i++) {
      seen.add(p);
      sticky.onNewBatch('t', p);
      p = sticky.partition('t', [0, 1, 2, 3], 6);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('createDefaultPartitioner', () => {
  const context = { topic: 't', partitionCount: 6, availablePartitions: [0, 1, 2, 3, 4, 5] };

  it('prefers an explicit partition, then the key, then sticky', () => {
    const partitioner = createDefaultPartitioner(new StickyPartitioner(sequence(0.5)));
    const key = Buffer.from('order-1');
    expect(partitioner({ key, partition: 4 }, context)).toBe(4);
    expect(partitioner({ key }, context)).toBe(kafkajsPartition(key, 6));
    expect(partitioner({ key: null }, context)).toBe(3);
    expect(partitioner({}, context)).toBe(3);
  });

  it('forwards onNewBatch to its sticky partitioner', () => {
    const partitioner = createDefaultPartitioner(new StickyPartitioner(sequence(0.5, 0.0)));
    expect(partitioner({}, context)).toBe(3);
    partitioner.onNewBatch?.('t', 3);
    expect(partitioner({}, context)).toBe(0);
  });

  it('hashes keys over all partitions, even unavailable ones, like the Java client', () => {
    const partitioner = createDefaultPartitioner();
    const key = Buffer.from('k');
    expect(partitioner({ key }, { ...context, availablePartitions: [] })).toBe(keyPartition(key, 6));
  });

  it('rejects a topic without partitions', () => {
    expect(() =>
      createDefaultPartitioner()({ key: Buffer.from('k') }, { ...context, partitionCount: 0 }),
    ).toThrow(RangeError);
  });

  it('accepts a plain function as a custom partitioner', () => {
    const lastPartition: Partitioner = (_record, { partitionCount }) => partitionCount - 1;
    expect(lastPartition({ key: null }, context)).toBe(5);
  });
});
