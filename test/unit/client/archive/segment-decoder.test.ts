import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveChecksumError, ArchiveCorruptSegmentError } from '../../../../client/archive/errors.js';
import type { SegmentRead } from '../../../../client/archive/replay-plan.js';
import { SegmentDecoder } from '../../../../client/archive/segment-decoder.js';
import { CompressionType } from '../../../../protocol/record-batch/index.js';
import { type MemorySegment, memorySegment } from './segments.js';

function fullRead(memory: MemorySegment): SegmentRead {
  const { segment } = memory;
  return {
    segment,
    fromOffset: segment.baseOffset,
    toOffset: segment.endOffset + 1,
    fromPosition: 0,
    toPosition: segment.sizeBytes,
  };
}

/** Pushes the read's bytes cut at `cuts`, returning each batch's base offset and record values. */
function decodeAll(memory: MemorySegment, cuts: number[], read = fullRead(memory)) {
  const decoder = new SegmentDecoder('t', read);
  const bytes = memory.bytes.subarray(read.fromPosition, read.toPosition);
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  const out: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++)
    for (const batch of decoder.push(bytes.subarray(bounds[i]!, bounds[i + 1]!)))
      out.push(...decoder.decode(batch).records.map((r) => r.value!.toString()));
  decoder.finish();
  return out;
}

describe('SegmentDecoder', () => {
  const memory = memorySegment(0, 500, 60, { perBatch: 7, compression: CompressionType.Lz4 });
  const expected = Array.from({ length: 60 }, (_, i) => `v${500 + i}`);

  it('decodes the same records however the bytes are cut into parts', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: memory.bytes.length }), { maxLength: 12 }), (cuts) => {
        expect(decodeAll(memory, cuts)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('throws ArchiveChecksumError at the damaged batch, whatever part it straddles', () => {
    const damaged = Buffer.from(memory.bytes);
    const victim = memory.positions[4]!;
    damaged[victim + 65]! ^= 0x40;
    for (const cut of [victim + 30, victim + 100, 0]) {
      const error = (() => {
        try {
          decodeAll({ ...memory, bytes: damaged }, [cut]);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ArchiveChecksumError);
      expect(error).toMatchObject({
        topic: 't',
        partition: 0,
        segmentBaseOffset: 500,
        bytePosition: victim,
        objectKey: memory.segment.keys.log,
      });
    }
  });

  it('reports positions in the object when the read starts inside it', () => {
    const damaged = Buffer.from(memory.bytes);
    const victim = memory.positions[6]!;
    damaged[victim + 70]! ^= 0x01;
    const read = { ...fullRead(memory), fromPosition: memory.positions[3]!, fromOffset: 521 };
    expect(() => decodeAll({ ...memory, bytes: damaged }, [50], read)).toThrow(
      expect.objectContaining({ name: 'ArchiveChecksumError', bytePosition: victim }),
    );
  });

  it('rejects broken framing, offsets outside the segment and a truncated object', () => {
    const badLength = Buffer.from(memory.bytes);
    badLength.writeInt32BE(3, memory.positions[1]! + 8);
    expect(() => decodeAll({ ...memory, bytes: badLength }, [])).toThrow(ArchiveCorruptSegmentError);

    const narrow = { ...memory.segment, endOffset: 540 };
    expect(() => decodeAll({ ...memory, segment: narrow }, [])).toThrow(/past the segment's end 540/);

    const wider = { ...memory.segment, endOffset: 600 };
    expect(() => decodeAll({ ...memory, segment: wider }, [])).toThrow(/its row says 600/);

    const cut = { ...fullRead(memory), toPosition: memory.bytes.length - 10 };
    expect(() => decodeAll(memory, [], cut)).toThrow(/ends inside a batch/);
  });
});
