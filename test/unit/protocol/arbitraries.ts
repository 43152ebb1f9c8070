import fc from 'fast-check';
import { crc32c } from '../../../protocol/crc32c.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  type BatchRecord,
  CompressionType,
  CRC_OFFSET,
  encodeBatchAttributes,
  encodeRecordBatch,
  LOG_OVERHEAD,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  type RecordBatch,
  type RecordHeader,
  TimestampType,
} from '../../../protocol/record-batch/index.js';

/** Shared fast-check arbitraries and byte-level helpers for the RecordBatch tests. */

export const ALL_COMPRESSION_TYPES: CompressionType[] = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

export const bytesArb = (maxLength = 48): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes));

export const nullableBytesArb = (maxLength = 48): fc.Arbitrary<Buffer | null> =>
  fc.option(bytesArb(maxLength), { nil: null, freq: 4 });

/** Unicode header keys: any code point except lone surrogates (which UTF-8 cannot carry). */
export const headerKeyArb: fc.Arbitrary<string> = fc.string({ unit: 'binary', maxLength: 12 });

export const headerArb: fc.Arbitrary<RecordHeader> = fc.record({
  key: headerKeyArb,
  value: nullableBytesArb(24),
});

/** Timestamp deltas within the exactly representable varlong range, weighted towards small ones. */
export const timestampDeltaArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -100_000, max: 100_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }) },
);

const recordBodyArb = fc.record({
  timestampDelta: timestampDeltaArb,
  key: nullableBytesArb(),
  value: nullableBytesArb(),
  headers: fc.array(headerArb, { maxLength: 4 }),
});

const int32Arb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int16Arb = fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 });
const safeIntArb = fc.oneof(fc.integer({ min: -1, max: 2 ** 45 }), fc.maxSafeInteger());

export interface BatchArbOptions {
  compression?: fc.Arbitrary<CompressionType>;
  maxRecords?: number;
}

/**
 * An arbitrary RecordBatch. Offset deltas are strictly increasing with random gaps (as compaction
 * leaves them) and lastOffsetDelta is at or beyond the last record's delta, so the batch is
 * internally consistent.
 */
export function recordBatchArb(options: BatchArbOptions = {}): fc.Arbitrary<RecordBatch> {
  const records = fc
    .array(fc.tuple(recordBodyArb, fc.integer({ min: 0, max: 3 })), { maxLength: options.maxRecords ?? 6 })
    .map((items) => {
      let offsetDelta = -1;
      return items.map(([body, gap]): BatchRecord => {
        offsetDelta += 1 + gap;
        return { attributes: 0, offsetDelta, ...body };
      });
    });
  return fc
    .record({
      baseOffset: fc.integer({ min: 0, max: 2 ** 48 }),
      partitionLeaderEpoch: int32Arb,
      compression: options.compression ?? fc.constantFrom(...ALL_COMPRESSION_TYPES),
      timestampType: fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime),
      isTransactional: fc.boolean(),
      isControl: fc.boolean(),
      hasDeleteHorizonMs: fc.boolean(),
      trailingOffsetGap: fc.integer({ min: 0, max: 2 }),
      baseTimestamp: safeIntArb,
      maxTimestamp: safeIntArb,
      producerId: safeIntArb,
      producerEpoch: int16Arb,
      baseSequence: int32Arb,
      records,
    })
    .map(({ trailingOffsetGap, ...batch }) => {
      const last = batch.records.at(-1);
      return { ...batch, lastOffsetDelta: (last?.offsetDelta ?? 0) + trailingOffsetGap };
    });
}

/** A batch header with no records, for building batches around hand-made payloads. */
export const EMPTY_BATCH: RecordBatch = {
  baseOffset: 42,
  partitionLeaderEpoch: 3,
  compression: CompressionType.None,
  timestampType: TimestampType.CreateTime,
  isTransactional: false,
  isControl: false,
  hasDeleteHorizonMs: false,
  lastOffsetDelta: 0,
  baseTimestamp: 1_700_000_000_000,
  maxTimestamp: 1_700_000_000_000,
  producerId: -1,
  producerEpoch: -1,
  baseSequence: -1,
  records: [],
};

/**
 * Frames an arbitrary records payload as a batch with a correct length and CRC, so the decoder's
 * record parsing (rather than its CRC check) is what sees the payload.
 */
export function batchWithPayload(
  payload: Buffer,
  recordCount: number,
  compression: CompressionType = CompressionType.None,
  header: RecordBatch = EMPTY_BATCH,
): Buffer {
  const prefix = encodeRecordBatch({ ...header, compression: CompressionType.None, records: [] });
  const buf = Buffer.concat([prefix.subarray(0, RECORDS_OFFSET), payload]);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt16BE(encodeBatchAttributes({ ...header, compression }), ATTRIBUTES_OFFSET);
  buf.writeInt32BE(recordCount, RECORD_COUNT_OFFSET);
  return recomputeCrc(buf);
}

export function recomputeCrc(buf: Buffer, position = 0, size = buf.length - position): Buffer {
  buf.writeUInt32BE(
    crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + size)),
    position + CRC_OFFSET,
  );
  return buf;
}

export function flipBit(buf: Buffer, bitIndex: number): Buffer {
  const copy = Buffer.from(buf);
  copy[bitIndex >> 3] ^= 1 << (bitIndex & 7);
  return copy;
}
