/** In-memory archived segments for the ArchiveReader unit tests (no emulators). */
import { segmentObjectKeys } from '../../../../archive/layout.js';
import type { RemoteSegment } from '../../../../archive/remote-segment.js';
import {
  CompressionType,
  createRecordBatch,
  encodeRecordBatch,
} from '../../../../protocol/record-batch/index.js';

export const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

export interface MemorySegment {
  segment: RemoteSegment;
  bytes: Buffer;
  /** Byte position of each batch. */
  positions: number[];
}

/**
 * A segment holding offsets [baseOffset, baseOffset + count) in batches of `perBatch`, record i
 * with value `v<offset>` and timestamp `timestamp(offset)`.
 */
export function memorySegment(
  partition: number,
  baseOffset: number,
  count: number,
  options: { perBatch?: number; timestamp?: (offset: number) => number; compression?: CompressionType } = {},
): MemorySegment {
  const perBatch = options.perBatch ?? 10;
  const timestamp = options.timestamp ?? ((offset: number) => 1_000 + offset);
  const batches: Buffer[] = [];
  const positions: number[] = [];
  let position = 0;
  let maxTimestamp = -1;
  for (let offset = baseOffset; offset < baseOffset + count; offset += perBatch) {
    const size = Math.min(perBatch, baseOffset + count - offset);
    const batch = encodeRecordBatch(
      createRecordBatch({
        baseOffset: offset,
        compression: options.compression ?? CompressionType.None,
        records: Array.from({ length: size }, (_, i) => {
          maxTimestamp = Math.max(maxTimestamp, timestamp(offset + i));
          return { key: null, value: Buffer.from(`v${offset + i}`), timestamp: timestamp(offset + i) };
        }),
      }),
    );
    positions.push(position);
    position += batch.length;
    batches.push(batch);
  }
  const bytes = Buffer.concat(batches);
  const uploadId = `u${partition}-${baseOffset}-${count}`;
  return {
    bytes,
    positions,
    segment: {
      topic: 't',
      topicId: TOPIC_ID,
      partition,
      baseOffset,
      endOffset: baseOffset + count - 1,
      sizeBytes: bytes.length,
      maxTimestamp,
      leaderEpoch: 1,
      epochs: [{ epoch: 1, startOffset: baseOffset }],
      uploadId,
      keys: segmentObjectKeys(TOPIC_ID, partition, baseOffset, 1, uploadId),
      committedAt: 0,
    },
  };
}

/** An offset index with an entry for every `every`-th batch: (relative base offset, position). */
export function offsetIndexOf(memory: MemorySegment, every = 1, perBatch = 10): Buffer {
  const entries = memory.positions.filter((_, i) => i % every === 0);
  const buf = Buffer.alloc(entries.length * 8);
  memory.positions.forEach((position, i) => {
    if (i % every !== 0) return;
    const slot = i / every;
    buf.writeUInt32BE(i * perBatch, slot * 8);
    buf.writeUInt32BE(position, slot * 8 + 4);
  });
  return buf;
}

/** A time index from (timestamp, relative offset) pairs. */
export function timeIndexOf(entries: readonly [number, number][]): Buffer {
  const buf = Buffer.alloc(entries.length * 12);
  entries.forEach(([timestamp, relative], i) => {
    buf.writeBigInt64BE(BigInt(timestamp), i * 12);
    buf.writeUInt32BE(relative, i * 12 + 8);
  });
  return buf;
}
