import { readInt64, writeInt64 } from '../bytes/varint.js';
import { crc32c } from '../crc32c.js';
import { CorruptRecordBatchError, UnsupportedMagicError, ValueOutOfRangeError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CONTROL_BIT,
  type CompressionType,
  CRC_OFFSET,
  CURRENT_MAGIC,
  DELETE_HORIZON_BIT,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORD_COUNT_OFFSET,
  TIMESTAMP_TYPE_BIT,
  type TimestampType,
  TRANSACTIONAL_BIT,
} from './layout.js';
import type { RecordBatchHeader } from './types.js';

/**
 * Header-level access to RecordBatch v2 bytes: reading, validating and patching batches without
 * decoding their records. This is the broker's hot path.
 */

/**
 * Reads an int64 header field. Offsets, timestamps and producer ids beyond 2^53 cannot be
 * represented exactly, and no real client writes them, so they count as a corrupt batch.
 */
function readInt64Field(buf: Buffer, position: number, field: string): number {
  try {
    return readInt64(buf, position);
  } catch (error) {
    if (error instanceof ValueOutOfRangeError) {
      throw new CorruptRecordBatchError(
        `${field} is outside the supported range`,
        { position },
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Total size of the batch starting at `position`, from its length field alone, or -1 if fewer
 * than 12 bytes are available. Does not validate anything else.
 */
export function batchSizeAt(buf: Buffer, position: number): number {
  if (buf.length - position < LOG_OVERHEAD) return -1;
  return buf.readInt32BE(position + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

export function readRecordBatchHeader(buf: Buffer, position = 0): RecordBatchHeader {
  if (buf.length - position < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordBatchError('record batch header is truncated', { position });
  }
  const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET);
  return {
    baseOffset: readInt64Field(buf, position, 'baseOffset'),
    sizeInBytes: buf.readInt32BE(position + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(position + MAGIC_OFFSET),
    crc: buf.readUInt32BE(position + CRC_OFFSET),
    compression: (attributes & COMPRESSION_MASK) as CompressionType,
    timestampType: ((attributes & TIMESTAMP_TYPE_BIT) !== 0 ? 1 : 0) as TimestampType,
    isTransactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    isControl: (attributes & CONTROL_BIT) !== 0,
    hasDeleteHorizonMs: (attributes & DELETE_HORIZON_BIT) !== 0,
    lastOffsetDelta: buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64Field(buf, position + BASE_TIMESTAMP_OFFSET, 'baseTimestamp'),
    maxTimestamp: readInt64Field(buf, position + MAX_TIMESTAMP_OFFSET, 'maxTimestamp'),
    producerId: readInt64Field(buf, position + PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(position + RECORD_COUNT_OFFSET),
  };
}

/**
 * Checks the framing, magic byte and CRC-32C of the batch at `position` without decoding records.
 * Returns the batch size. Throws CorruptRecordBatchError or UnsupportedMagicError.
 */
export function verifyRecordBatch(buf: Buffer, position = 0): number {
  const available = buf.length - position;
  if (available < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordBatchError(`record batch is truncated: ${available} bytes`, { position });
  }
  const size = buf.readInt32BE(position + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  if (size < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordBatchError(`record batch length ${size} is below the minimum`, { position });
  }
  if (size > available) {
    throw new CorruptRecordBatchError(`record batch of ${size} bytes overruns the ${available} available`, {
      position,
    });
  }
  const magic = buf.readInt8(position + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) throw new UnsupportedMagicError(magic);
  const expectedCrc = buf.readUInt32BE(position + CRC_OFFSET);
  const actualCrc = crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + size));
  if (expectedCrc !== actualCrc) {
    throw new CorruptRecordBatchError(
      `record batch CRC mismatch: stored ${expectedCrc.toString(16)}, computed ${actualCrc.toString(16)}`,
      { position, expectedCrc, actualCrc },
    );
  }
  const recordCount = buf.readInt32BE(position + RECORD_COUNT_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  if (recordCount < 0 || lastOffsetDelta < 0) {
    throw new CorruptRecordBatchError('record batch has a negative record count or offset delta', {
      position,
    });
  }
  return size;
}

/** Where one batch sits in a buffer of concatenated batches, with the header fields the log needs. */
export interface BatchSpan {
  position: number;
  sizeInBytes: number;
  baseOffset: number;
  lastOffsetDelta: number;
  recordCount: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  /** Raw int16 attributes (compression, timestamp type, transactional and control bits). */
  attributes: number;
  /** -1 (NO_PRODUCER_ID) for batches from non-idempotent producers. */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export interface ScanOptions {
  /** Verify each batch's CRC (default true). */
  verifyCrc?: boolean;
  /**
   * Allow the buffer to end in a partial batch, which is then ignored (Kafka fetch responses may
   * be cut mid-batch). When false (the default), trailing bytes are an error.
   */
  allowPartialTail?: boolean;
}

/**
 * Walks a buffer of concatenated batches, validating each one. This is how produce requests are
 * checked: once, by CRC, with no record decoding.
 */
export function scanRecordBatches(buf: Buffer, options: ScanOptions = {}): BatchSpan[] {
  const verifyCrc = options.verifyCrc ?? true;
  const spans: BatchSpan[] = [];
  let position = 0;
  while (position < buf.length) {
    const size = batchSizeAt(buf, position);
    // A length field that is present but below the minimum (even negative) is corruption, not a
    // partial tail: batchSizeAt's -1 also results from a batchLength of -13.
    if (buf.length - position >= LOG_OVERHEAD && size < RECORD_BATCH_OVERHEAD) {
      throw new CorruptRecordBatchError(`record batch length ${size} is below the minimum`, { position });
    }
    if (size < 0 || position + size > buf.length) {
      if (options.allowPartialTail) break;
      throw new CorruptRecordBatchError('buffer ends in a partial record batch', { position });
    }
    if (verifyCrc) verifyRecordBatch(buf, position);
    else {
      const magic = buf.readInt8(position + MAGIC_OFFSET);
      if (magic !== CURRENT_MAGIC) throw new UnsupportedMagicError(magic);
    }
    spans.push({
      position,
      sizeInBytes: size,
      baseOffset: readInt64Field(buf, position, 'baseOffset'),
      lastOffsetDelta: buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET),
      recordCount: buf.readInt32BE(position + RECORD_COUNT_OFFSET),
      maxTimestamp: readInt64Field(buf, position + MAX_TIMESTAMP_OFFSET, 'maxTimestamp'),
      partitionLeaderEpoch: buf.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
      attributes: buf.readInt16BE(position + ATTRIBUTES_OFFSET),
      producerId: readInt64Field(buf, position + PRODUCER_ID_OFFSET, 'producerId'),
      producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
      baseSequence: buf.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    });
    position += size;
  }
  return spans;
}

/** Rewrites the base offset in place. Outside the CRC, so the batch stays valid. */
export function setBaseOffset(buf: Buffer, position: number, baseOffset: number): void {
  writeInt64(buf, position, baseOffset);
}

/** Rewrites the partition leader epoch in place. Outside the CRC, so the batch stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, position: number, epoch: number): void {
  buf.writeInt32BE(epoch, position + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Stamps a batch with LogAppendTime: sets the timestamp-type bit and maxTimestamp, then recomputes
 * the CRC. Records are not touched; readers take every record's timestamp from maxTimestamp.
 */
export function setLogAppendTime(buf: Buffer, position: number, size: number, timestamp: number): void {
  const attributes = buf.readInt16BE(position + ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_BIT;
  buf.writeInt16BE(attributes, position + ATTRIBUTES_OFFSET);
  writeInt64(buf, position + MAX_TIMESTAMP_OFFSET, timestamp);
  buf.writeUInt32BE(
    crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + size)),
    position + CRC_OFFSET,
  );
}
