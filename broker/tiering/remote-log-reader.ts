import type { ArchiveObjects } from '../../archive/archive-objects.js';
import type { RemoteSegment } from '../../archive/remote-segment.js';
import { decodeRecordBatch } from '../../protocol/record-batch/decode.js';
import { type BatchSpan, scanRecordBatches } from '../../protocol/record-batch/header.js';
import type { BoundedPool } from './bounded-pool.js';
import type { RemoteIndexCache } from './remote-index-cache.js';

/** The first ranged GET is at least this large, so small fetches still get a useful chunk. */
const MIN_READ_BYTES = 64 * 1024;
const OFFSET_ENTRY = 8;
const TIME_ENTRY = 12;

/**
 * Reads record batches of archived segments with ranged GETs: the cached offset index gives the
 * byte position of the last indexed batch at or before the offset, and one GET (two if a batch is
 * larger than the first guess) returns whole batches from there. Every batch served from S3 has
 * its CRC checked first. All reads go through the bounded pool.
 */
export class RemoteLogReader {
  constructor(
    private readonly objects: ArchiveObjects,
    private readonly indexes: RemoteIndexCache,
    private readonly pool: BoundedPool,
  ) {}

  /**
   * Whole batches of `segment` holding offsets >= `offset`, about `maxBytes` of them but at least
   * one (as a local read does). Empty when the segment has nothing at or after `offset`.
   */
  read(segment: RemoteSegment, offset: number, maxBytes: number): Promise<Buffer> {
    return this.pool.run(async () => {
      const index = await this.indexes.get(segment, 'index');
      let position = floorPosition(index, segment.baseOffset, offset);
      let want = Math.max(MIN_READ_BYTES, maxBytes);
      for (;;) {
        const length = Math.min(want, segment.sizeBytes - position);
        if (length <= 0) return Buffer.alloc(0);
        const chunk = await this.objects.getRange(segment.keys.log, position, length);
        const spans = scanRecordBatches(chunk, { verifyCrc: true, allowPartialTail: true });
        const first = spans.findIndex((s) => s.baseOffset + s.lastOffsetDelta >= offset);
        if (first < 0) {
          // Every whole batch in the chunk ends before `offset`: go on after the last of them.
          const last = spans[spans.length - 1];
          if (!last)
            want *= 2; // not even one whole batch fit: read more
          else position += last.position + last.sizeInBytes;
          continue;
        }
        return sliceBatches(chunk, spans.slice(first), maxBytes);
      }
    });
  }

  /**
   * The first offset in `segment` whose record timestamp is >= `timestamp`, with its timestamp,
   * or null if none is. The time index narrows the scan to the batches after its last entry below
   * the target.
   */
  offsetForTimestamp(
    segment: RemoteSegment,
    timestamp: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    return this.pool.run(async () => {
      const timeIndex = await this.indexes.get(segment, 'timeindex');
      let from = segment.baseOffset;
      for (let p = 0; p + TIME_ENTRY <= timeIndex.length; p += TIME_ENTRY) {
        if (Number(timeIndex.readBigInt64BE(p)) >= timestamp) break;
        from = segment.baseOffset + timeIndex.readUInt32BE(p + 8);
      }
      const index = await this.indexes.get(segment, 'index');
      let position = floorPosition(index, segment.baseOffset, from);
      while (position < segment.sizeBytes) {
        const chunk = await this.objects.getRange(
          segment.keys.log,
          position,
          Math.min(1024 * 1024, segment.sizeBytes - position),
        );
        const spans = scanRecordBatches(chunk, { verifyCrc: true, allowPartialTail: true });
        if (spans.length === 0) throw new RangeError(`batch at ${position} exceeds 1 MiB read`);
        for (const span of spans) {
          if (span.maxTimestamp < timestamp) continue;
          const batch = decodeRecordBatch(chunk, span.position, { verifyCrc: false });
          for (const record of batch.records) {
            const ts = batch.baseTimestamp + record.timestampDelta;
            if (ts >= timestamp) return { offset: batch.baseOffset + record.offsetDelta, timestamp: ts };
          }
        }
        const last = spans[spans.length - 1]!;
        position += last.position + last.sizeInBytes;
      }
      return null;
    });
  }
}

/** Byte position of the last offset-index entry at or below `offset` (0 if none). */
function floorPosition(index: Buffer, baseOffset: number, offset: number): number {
  let low = 0;
  let high = Math.floor(index.length / OFFSET_ENTRY) - 1;
  let position = 0;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (baseOffset + index.readUInt32BE(mid * OFFSET_ENTRY) <= offset) {
      position = index.readUInt32BE(mid * OFFSET_ENTRY + 4);
      low = mid + 1;
    } else high = mid - 1;
  }
  return position;
}

/** The batches from spans[0] on, up to `maxBytes` in total but at least the first. */
function sliceBatches(chunk: Buffer, spans: readonly BatchSpan[], maxBytes: number): Buffer {
  const start = spans[0]!.position;
  let end = start + spans[0]!.sizeInBytes;
  for (const span of spans.slice(1)) {
    if (span.position + span.sizeInBytes - start > maxBytes) break;
    end = span.position + span.sizeInBytes;
  }
  return chunk.subarray(start, end);
}
