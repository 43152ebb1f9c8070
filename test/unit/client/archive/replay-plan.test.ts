import { describe, expect, it } from 'vitest';
import type { ArchiveHead } from '../../../../archive/remote-segment.js';
import { tableName } from '../../../../broker/cluster/tables.js';
import { archiveTableName, topicsTableName } from '../../../../client/archive/archive-settings.js';
import {
  narrowRead,
  parseOffsetIndex,
  selectSegments,
  splitRange,
  timeIndexStart,
  windowBounds,
} from '../../../../client/archive/replay-plan.js';
import { memorySegment, offsetIndexOf, TOPIC_ID, timeIndexOf } from './segments.js';

const head: ArchiveHead = { topic: 't', topicId: TOPIC_ID, partition: 0, logStartOffset: 0, nextOffset: 400 };
/** Four segments of 100 offsets, timestamps 1000 + offset. */
const segments = [0, 100, 200, 300].map((base) => memorySegment(0, base, 100).segment);

describe('replay planning', () => {
  it('names the same tables as the brokers', () => {
    expect(archiveTableName('p')).toBe(tableName('p', 'archive'));
    expect(topicsTableName('p')).toBe(tableName('p', 'topics'));
  });

  it('bounds the window by the head: log start offset and archive end', () => {
    const moved = { ...head, logStartOffset: 150 };
    expect(windowBounds(moved, {})).toEqual({ startOffset: 150, endOffset: 400 });
    expect(windowBounds(moved, { from: { offset: 10 }, to: { offset: 999 } })).toEqual({
      startOffset: 150,
      endOffset: 400,
    });
    expect(windowBounds(head, { from: { timestamp: 5 }, to: { offset: 250 } })).toEqual({
      startOffset: 0,
      endOffset: 250,
      fromTimestamp: 5,
    });
  });

  it('selects the segments holding an offset range', () => {
    const reads = selectSegments(segments, { startOffset: 150, endOffset: 250 });
    expect(reads.map((r) => [r.segment.baseOffset, r.fromOffset, r.toOffset])).toEqual([
      [100, 150, 200],
      [200, 200, 250],
    ]);
  });

  it('selects by segment maxTimestamp: skips older segments, ends in the first reaching `to`', () => {
    const reads = selectSegments(segments, {
      startOffset: 0,
      endOffset: 400,
      fromTimestamp: 1000 + 120,
      toTimestamp: 1000 + 210,
    });
    expect(reads.map((r) => r.segment.baseOffset)).toEqual([100, 200]);
    const unknown = segments.map((s) => ({ ...s, maxTimestamp: -1 }));
    expect(selectSegments(unknown, { startOffset: 0, endOffset: 400, fromTimestamp: 5000 })).toHaveLength(4);
  });

  it('reads overlapping segments (a leader change) from where the previous one ended', () => {
    const a = memorySegment(0, 0, 100).segment;
    const b = memorySegment(0, 50, 150).segment; // 50..199
    const c = memorySegment(0, 120, 30).segment; // 120..149, inside b: ends first
    const reads = selectSegments([b, a, c], { startOffset: 0, endOffset: 200 });
    expect(reads.map((r) => [r.segment.baseOffset, r.fromOffset, r.toOffset])).toEqual([
      [0, 0, 100],
      [120, 120, 150],
      [50, 150, 200],
    ]);
  });

  it('narrows the first and last read with the offset index', () => {
    const memory = memorySegment(0, 100, 100);
    const index = offsetIndexOf(memory, 2);
    const [read] = selectSegments([memory.segment], { startOffset: 135, endOffset: 165 });
    const narrowed = narrowRead(read!, { startOffset: 135, endOffset: 165 }, { index });
    // Entries every 2 batches (offsets 100, 120, 140, ...): the floor of 135 is 120, the ceiling of 165 is 180.
    expect(narrowed.fromPosition).toBe(memory.positions[2]);
    expect(narrowed.toPosition).toBe(memory.positions[8]);
  });

  it('ignores an index that is not sane, reading the whole segment', () => {
    const memory = memorySegment(0, 100, 100);
    const index = offsetIndexOf(memory);
    index.writeUInt32BE(memory.segment.sizeBytes + 10, 12); // a position past the end
    expect(parseOffsetIndex(index, memory.segment)).toBeNull();
    const [read] = selectSegments([memory.segment], { startOffset: 150, endOffset: 160 });
    expect(narrowRead(read!, { startOffset: 150, endOffset: 160 }, { index })).toEqual(read);
  });

  it('starts a time range after the last time-index entry below it', () => {
    const memory = memorySegment(0, 100, 100);
    const timeindex = timeIndexOf([
      [1010, 10],
      [1030, 30],
      [1060, 60],
    ]);
    expect(timeIndexStart(timeindex, memory.segment, 1031)).toBe(130);
    expect(timeIndexStart(timeindex, memory.segment, 1000)).toBe(100);
    expect(
      timeIndexStart(
        timeIndexOf([
          [1030, 30],
          [1010, 40],
        ]),
        memory.segment,
        2000,
      ),
    ).toBe(100);
    const window = { startOffset: 0, endOffset: 400, fromTimestamp: 1031 };
    const [read] = selectSegments([memory.segment], window);
    const narrowed = narrowRead(read!, window, { index: offsetIndexOf(memory), timeindex });
    expect(narrowed.fromPosition).toBe(memory.positions[3]);
  });

  it('splits a byte range into parts', () => {
    expect(splitRange(10, 35, 10)).toEqual([
      { start: 10, end: 20 },
      { start: 20, end: 30 },
      { start: 30, end: 35 },
    ]);
    expect(splitRange(5, 5, 10)).toEqual([]);
  });
});
