import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordWindow, type WindowBounds } from '../../../../client/archive/record-window.js';

interface Rec {
  offset: number;
  timestamp: number;
}

/** The documented semantics, written plainly: what a replay must hand out. */
function model(records: readonly Rec[], bounds: WindowBounds): number[] {
  const out: number[] = [];
  for (const r of records) {
    if (r.offset < bounds.startOffset) continue;
    if (r.offset >= bounds.endOffset) break;
    if (bounds.toTimestamp !== undefined && r.timestamp >= bounds.toTimestamp) break;
    if (bounds.fromTimestamp !== undefined && r.timestamp < bounds.fromTimestamp) continue;
    out.push(r.offset);
  }
  return out;
}

/** Feeds batches through the window as the replay does: batch verdict first, then each record. */
function run(batches: readonly Rec[][], bounds: WindowBounds): number[] {
  const window = new RecordWindow(bounds);
  const out: number[] = [];
  outer: for (const batch of batches) {
    const maxTimestamp = Math.max(...batch.map((r) => r.timestamp));
    const verdict = window.batch(batch[0]!.offset, batch[batch.length - 1]!.offset, maxTimestamp);
    if (verdict === 'stop') break;
    if (verdict === 'skip') continue;
    for (const r of batch) {
      const v = window.record(r.offset, r.timestamp);
      if (v === 'stop') break outer;
      if (v === 'take') out.push(r.offset);
    }
  }
  return out;
}

describe('RecordWindow', () => {
  it('takes [start, end) by offset', () => {
    const records = Array.from({ length: 20 }, (_, i) => ({ offset: i, timestamp: 100 + i }));
    const batches = [records.slice(0, 7), records.slice(7, 14), records.slice(14)];
    expect(run(batches, { startOffset: 5, endOffset: 12 })).toEqual([5, 6, 7, 8, 9, 10, 11]);
  });

  it('takes [from, to) by timestamp and ends at the first record at or after to', () => {
    const ts = [5, 1, 7, 3, 9, 2, 8, 4];
    const records = ts.map((timestamp, offset) => ({ offset, timestamp }));
    // 9 at offset 4 ends the window: offset 5 (timestamp 2) is not handed out.
    expect(run([records], { startOffset: 0, endOffset: 100, fromTimestamp: 3, toTimestamp: 9 })).toEqual([
      0, 2, 3,
    ]);
  });

  it('drops offsets already passed, as an overlapping segment repeats them', () => {
    const window = new RecordWindow({ startOffset: 0, endOffset: 100 });
    for (let o = 0; o < 10; o++) expect(window.record(o, 0)).toBe('take');
    expect(window.batch(5, 14, 0)).toBe('take');
    expect(window.record(9, 0)).toBe('skip');
    expect(window.record(10, 0)).toBe('take');
    expect(window.batch(0, 10, 0)).toBe('skip');
    expect(window.position).toBe(11);
  });

  it('skips whole batches older than the time range without decoding them', () => {
    const window = new RecordWindow({ startOffset: 0, endOffset: 100, fromTimestamp: 50 });
    expect(window.batch(0, 9, 49)).toBe('skip');
    expect(window.position).toBe(10);
    expect(window.batch(10, 19, 50)).toBe('take');
  });

  it('is empty when start >= end', () => {
    const window = new RecordWindow({ startOffset: 10, endOffset: 10 });
    expect(window.done).toBe(true);
    expect(window.batch(10, 12, 0)).toBe('stop');
  });

  it('matches the documented semantics for any records, batching and bounds', () => {
    const recordsArb = fc
      .array(
        fc.record({ gap: fc.integer({ min: 1, max: 3 }), timestamp: fc.integer({ min: -1, max: 60 }) }),
        {
          maxLength: 60,
        },
      )
      .map((list) => {
        let offset = -1;
        return list.map(({ gap, timestamp }) => {
          offset += gap;
          return { offset, timestamp };
        });
      });
    fc.assert(
      fc.property(
        recordsArb,
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 200 }),
        fc.option(fc.integer({ min: 0, max: 60 })),
        fc.option(fc.integer({ min: 1, max: 61 })),
        (records, sizes, start, length, from, to) => {
          const batches: Rec[][] = [];
          for (let i = 0, s = 0; i < records.length; s++) {
            const size = sizes[s % sizes.length]!;
            batches.push(records.slice(i, i + size));
            i += size;
          }
          const bounds: WindowBounds = {
            startOffset: start,
            endOffset: start + length,
            ...(from !== null ? { fromTimestamp: from } : {}),
            ...(to !== null && (from === null || to > from) ? { toTimestamp: to } : {}),
          };
          expect(run(batches, bounds)).toEqual(model(records, bounds));
        },
      ),
      { numRuns: 500 },
    );
  });
});
