import type { FileHandle } from 'node:fs/promises';
import { readInt64 } from '../../protocol/bytes/varint.js';
import { crc32c } from '../../protocol/crc32c.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
} from '../../protocol/record-batch/layout.js';

/** A batch found on disk: where it is, and the header fields the log keeps track of. */
export interface ScannedBatch {
  /** File position of the batch. */
  position: number;
  sizeInBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  /** The chunk holding the whole batch, and where in it the batch starts. */
  chunk: Buffer;
  chunkPosition: number;
}

export interface ScanResult {
  /** File position just after the last valid batch visited. */
  validEnd: number;
  /** Why the scan stopped before `to`, if it did. */
  failure?: { position: number; reason: string };
}

const SCAN_CHUNK_BYTES = 1024 * 1024;

/**
 * Why the batch at `p` in `chunk` is invalid, or null if it is valid. Checks framing, magic and,
 * if asked, the CRC-32C; the caller checks offsets against what came before.
 */
export function checkBatchAt(chunk: Buffer, p: number, size: number, verifyCrc: boolean): string | null {
  if (size < RECORD_BATCH_OVERHEAD) return `batch length ${size} is below the minimum`;
  const magic = chunk.readInt8(p + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) return `unexpected magic ${magic}`;
  if (chunk.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET) < 0) return 'negative last offset delta';
  if (verifyCrc) {
    const stored = chunk.readUInt32BE(p + CRC_OFFSET);
    const computed = crc32c(chunk.subarray(p + ATTRIBUTES_OFFSET, p + size));
    if (stored !== computed)
      return `CRC mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`;
  }
  return null;
}

/**
 * Walks the batches of a segment file between `from` and `to`, reading in large chunks, and stops
 * at the first batch that is truncated, malformed, fails its CRC (when `verifyCrc`), or whose
 * offsets do not increase. `visit` may return false to stop early.
 */
export async function scanSegment(
  handle: FileHandle,
  from: number,
  to: number,
  options: { verifyCrc: boolean; minBaseOffset: number },
  visit: (batch: ScannedBatch) => boolean | undefined,
): Promise<ScanResult> {
  let position = from;
  let nextMinOffset = options.minBaseOffset;
  let chunkSize = SCAN_CHUNK_BYTES;
  while (position < to) {
    const length = Math.min(chunkSize, to - position);
    const chunk = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(chunk, 0, length, position);
    let p = 0;
    while (p < bytesRead) {
      if (bytesRead - p < RECORD_BATCH_OVERHEAD) {
        if (position + p + RECORD_BATCH_OVERHEAD > to || bytesRead < length) {
          return {
            validEnd: position + p,
            failure: { position: position + p, reason: 'truncated batch header' },
          };
        }
        break; // header straddles the chunk: re-read from here
      }
      const size = chunk.readInt32BE(p + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (size < RECORD_BATCH_OVERHEAD || position + p + size > to) {
        const reason = size < RECORD_BATCH_OVERHEAD ? `batch length ${size} is invalid` : 'truncated batch';
        return { validEnd: position + p, failure: { position: position + p, reason } };
      }
      if (p + size > bytesRead) {
        // Batch straddles the chunk: re-read from its start, with room for all of it.
        chunkSize = Math.max(SCAN_CHUNK_BYTES, size);
        break;
      }
      let problem = checkBatchAt(chunk, p, size, options.verifyCrc);
      let baseOffset = -1;
      let maxTimestamp = -1;
      try {
        if (problem === null) baseOffset = readInt64(chunk, p);
      } catch {
        problem = 'base offset outside the supported range';
      }
      try {
        if (problem === null) maxTimestamp = readInt64(chunk, p + MAX_TIMESTAMP_OFFSET);
      } catch {
        problem = 'max timestamp outside the supported range';
      }
      if (problem !== null || baseOffset < nextMinOffset) {
        const reason = problem ?? `offset ${baseOffset} does not increase past ${nextMinOffset - 1}`;
        return { validEnd: position + p, failure: { position: position + p, reason } };
      }
      const lastOffset = baseOffset + chunk.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
      const batch: ScannedBatch = {
        position: position + p,
        sizeInBytes: size,
        baseOffset,
        lastOffset,
        maxTimestamp,
        partitionLeaderEpoch: chunk.readInt32BE(p + PARTITION_LEADER_EPOCH_OFFSET),
        chunk,
        chunkPosition: p,
      };
      nextMinOffset = lastOffset + 1;
      p += size;
      if (visit(batch) === false) return { validEnd: position + p };
    }
    if (p === 0 && bytesRead === 0) {
      return { validEnd: position, failure: { position, reason: 'file is shorter than expected' } };
    }
    position += p;
  }
  return { validEnd: position };
}
