import { describe, expect, it } from 'vitest';
import type { ArchiveHead } from '../../../../archive/remote-segment.js';
import { ArchiveReplay, type PlannedReplay } from '../../../../client/archive/archive-replay.js';
import { ArchiveChecksumError } from '../../../../client/archive/errors.js';
import { type ReplayBounds, selectSegments, windowBounds } from '../../../../client/archive/replay-plan.js';
import { buffer, type Deserializer, string } from '../../../../client/serializers.js';
import { type MemorySegment, memorySegment, TOPIC_ID } from './segments.js';

/** A replay over in-memory objects, with downloads finishing in a shuffled order. */
function replayOf<V>(
  partitions: MemorySegment[][],
  bounds: ReplayBounds = {},
  options: { partBytes?: number; valueDeserializer?: Deserializer<V> } = {},
) {
  const objects = new Map(partitions.flat().map((m) => [m.segment.keys.log, m.bytes]));
  const plan = async (): Promise<PlannedReplay> => ({
    topic: 't',
    topicId: TOPIC_ID,
    partitions: partitions.map((memories, partition) => {
      const ends = memories.map((m) => m.segment.endOffset);
      const head: ArchiveHead = {
        topic: 't',
        topicId: TOPIC_ID,
        partition,
        logStartOffset: Math.min(...memories.map((m) => m.segment.baseOffset)),
        nextOffset: Math.max(...ends) + 1,
      };
      const window = windowBounds(head, bounds);
      return {
        partition,
        logStartOffset: head.logStartOffset,
        window,
        reads: selectSegments(
          memories.map((m) => m.segment),
          window,
        ),
      };
    }),
  });
  let n = 0;
  return new ArchiveReplay<Buffer, V>({
    plan,
    fetch: async (key, start, end) => {
      await new Promise((resolve) => setTimeout(resolve, (n++ * 7) % 5));
      return objects.get(key)!.subarray(start, end);
    },
    keyDeserializer: buffer,
    valueDeserializer: options.valueDeserializer ?? (buffer as unknown as Deserializer<V>),
    concurrency: 4,
    partBytes: options.partBytes ?? 100,
    maxBufferedBytes: 1000,
    maxBatchRecords: 25,
  });
}

async function collect<V>(
  replay: AsyncIterable<{ partition: number; records: { offset: number; value: V | null }[] }>,
) {
  const byPartition = new Map<number, number[]>();
  for await (const batch of replay) {
    expect(batch.records.length).toBeLessThanOrEqual(25);
    for (const r of batch.records)
      byPartition.set(batch.partition, [...(byPartition.get(batch.partition) ?? []), r.offset]);
  }
  return byPartition;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('ArchiveReplay', () => {
  it('hands out each partition in offset order, once, across overlapping segments', async () => {
    const p0 = [memorySegment(0, 0, 100), memorySegment(0, 50, 150), memorySegment(0, 200, 40)];
    const p1 = [memorySegment(1, 0, 90), memorySegment(1, 90, 90)];
    const replay = replayOf([p0, p1], {}, { valueDeserializer: string });
    const byPartition = await collect(replay);
    expect(byPartition.get(0)).toEqual(range(0, 240));
    expect(byPartition.get(1)).toEqual(range(0, 180));
    const progress = replay.progress();
    expect(progress).toMatchObject({
      partitions: 2,
      partitionsDone: 2,
      segments: 5,
      segmentsDone: 5,
      records: 420,
    });
    expect(progress.bytesDone).toBe(progress.totalBytes);
  });

  it('deserializes values and ends a partition at its time bound, dropping the rest of its plan', async () => {
    const memories = [memorySegment(0, 0, 100), memorySegment(0, 100, 100), memorySegment(0, 200, 100)];
    const replay = replayOf(
      [memories],
      { from: { timestamp: 1000 + 30 }, to: { timestamp: 1000 + 130 } },
      {
        valueDeserializer: string,
      },
    );
    const values: string[] = [];
    for await (const batch of replay) for (const r of batch.records) values.push(r.value!);
    expect(values).toEqual(range(30, 130).map((o) => `v${o}`));
    const progress = replay.progress();
    expect(progress.segments).toBe(2);
    expect(progress.bytesDone).toBe(progress.totalBytes);
    expect(progress.partitionsDone).toBe(1);
  });

  it('hands out what comes before a damaged batch, then throws ArchiveChecksumError', async () => {
    const memory = memorySegment(0, 0, 200);
    memory.bytes[memory.positions[12]! + 70]! ^= 0x10;
    const replay = replayOf([[memory]], {}, { partBytes: 64 });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const batch of replay) seen.push(...batch.records.map((r) => r.offset));
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveChecksumError);
    expect(error).toMatchObject({ bytePosition: memory.positions[12], segmentBaseOffset: 0 });
    expect(seen).toEqual(range(0, 120));
  });

  it('throws ArchiveCorruptSegmentError when an object is shorter than its row says', async () => {
    const memory = memorySegment(0, 0, 50);
    const short = { ...memory, bytes: memory.bytes.subarray(0, memory.bytes.length - 30) };
    const replay = replayOf([[{ ...short, segment: memory.segment }]], {}, { partBytes: 10_000 });
    await expect(collect(replay)).rejects.toThrow(
      expect.objectContaining({
        name: 'ArchiveCorruptSegmentError',
        bytePosition: memory.bytes.length - 30,
      }),
    );
  });

  it('can be iterated once', async () => {
    const replay = replayOf([[memorySegment(0, 0, 10)]]);
    await collect(replay);
    expect(() => replay[Symbol.asyncIterator]()).toThrow(TypeError);
  });
});
