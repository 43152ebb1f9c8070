import {
  ATTRIBUTES_OFFSET,
  batchSizeAt,
  CONTROL_BIT,
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  type RecordBatch,
} from '../../protocol/record-batch/index.js';
import type { TagFilter } from '../../protocol/tag-filter/index.js';

/**
 * Drops the records a tag filter rejects from a run of record batches (a fetch response's
 * `records`), keeping every batch in place so offsets stay intact. Pure: bytes in, bytes out.
 *
 * Invariants of the output, batch by batch:
 * - Every input batch has exactly one output batch with the same baseOffset, lastOffsetDelta,
 *   partitionLeaderEpoch, producer id/epoch, base sequence, timestamps and attributes. So the
 *   batch still spans the same offsets, and a consumer moves to lastOffset + 1 after it whatever
 *   it kept; kept records keep their offsetDelta and timestampDelta (gaps are fine in Kafka, as
 *   after compaction).
 * - A batch whose records all match is returned byte for byte (no re-encoding).
 * - A batch where some match is re-encoded with the kept records, recompressed with its codec,
 *   with a fresh CRC.
 * - A batch where none match becomes an empty batch (record count 0, no payload, compression
 *   none), exactly as Kafka's log cleaner writes one (DefaultRecordBatch.writeEmptyHeader):
 *   nothing to decompress, 61 bytes, and consumers still advance past it.
 * - Control batches (transaction markers), batches that fail to decode (including a bad CRC: a
 *   fresh CRC must never launder corruption) and a partial trailing batch (fetches may end with
 *   one) are passed through untouched.
 */

export interface BatchFilterResult {
  records: Buffer;
  /** Records dropped. */
  removedRecords: number;
  /** Input bytes minus output bytes (never negative per batch: see below). */
  removedBytes: number;
  /** Batches passed through unfiltered because they did not decode; the first failure is kept. */
  undecodableBatches: number;
  firstDecodeError: unknown;
}

export function filterRecordBatches(records: Buffer, filter: TagFilter): BatchFilterResult {
  const result: BatchFilterResult = {
    records,
    removedRecords: 0,
    removedBytes: 0,
    undecodableBatches: 0,
    firstDecodeError: undefined,
  };
  if (filter.matchesEverything || records.length === 0) return result;
  const parts: Buffer[] = [];
  let changed = false;
  let position = 0;
  while (position < records.length) {
    const size = records.length - position >= LOG_OVERHEAD ? batchSizeAt(records, position) : -1;
    if (size < RECORD_BATCH_OVERHEAD || position + size > records.length) {
      parts.push(records.subarray(position)); // a partial tail: clients drop it and fetch it again
      break;
    }
    const original = records.subarray(position, position + size);
    position += size;
    const filtered = filterBatch(original, filter, result);
    if (filtered !== original) changed = true;
    parts.push(filtered);
  }
  if (changed) result.records = Buffer.concat(parts);
  return result;
}

function filterBatch(batch: Buffer, filter: TagFilter, totals: BatchFilterResult): Buffer {
  if ((batch.readInt16BE(ATTRIBUTES_OFFSET) & CONTROL_BIT) !== 0) return batch;
  let decoded: RecordBatch;
  try {
    decoded = decodeRecordBatch(batch, 0, { verifyCrc: true });
  } catch (error) {
    totals.undecodableBatches++;
    totals.firstDecodeError ??= error;
    return batch;
  }
  const kept = decoded.records.filter((record) => filter.matchesHeaders(record.headers));
  if (kept.length === decoded.records.length) return batch;
  const rewritten =
    kept.length === 0
      ? encodeRecordBatch({ ...decoded, compression: CompressionType.None, records: [] })
      : encodeRecordBatch({ ...decoded, records: kept });
  totals.removedRecords += decoded.records.length - kept.length;
  // Recompressing fewer records can, for a tiny batch, come out a few bytes larger than the
  // original; the metric counts savings only.
  totals.removedBytes += Math.max(0, batch.length - rewritten.length);
  return rewritten;
}
