import { sizeOfVarint, sizeOfVarlong, writeInt64, writeVarint, writeVarlong } from '../bytes/varint.js';
import { crc32c } from '../crc32c.js';
import { ValueOutOfRangeError } from '../errors.js';
import { compress } from './compression.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CONTROL_BIT,
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
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
} from './layout.js';
import type { BatchRecord, RecordBatch, RecordBatchFields } from './types.js';

export function encodeBatchAttributes(batch: RecordBatchFields): number {
  let attributes = batch.compression & COMPRESSION_MASK;
  if (batch.timestampType === 1) attributes |= TIMESTAMP_TYPE_BIT;
  if (batch.isTransactional) attributes |= TRANSACTIONAL_BIT;
  if (batch.isControl) attributes |= CONTROL_BIT;
  if (batch.hasDeleteHorizonMs) attributes |= DELETE_HORIZON_BIT;
  return attributes;
}

function sizeOfNullableBytes(value: Buffer | null): number {
  return value === null ? sizeOfVarint(-1) : sizeOfVarint(value.length) + value.length;
}

/** Size of a record's body, i.e. everything after its own length varint. */
function sizeOfRecordBody(record: BatchRecord, headerKeys: Buffer[]): number {
  let size = 1; // attributes
  size += sizeOfVarlong(record.timestampDelta);
  size += sizeOfVarint(record.offsetDelta);
  size += sizeOfNullableBytes(record.key);
  size += sizeOfNullableBytes(record.value);
  size += sizeOfVarint(record.headers.length);
  for (let i = 0; i < record.headers.length; i++) {
    const key = headerKeys[i]!;
    size += sizeOfVarint(key.length) + key.length;
    size += sizeOfNullableBytes(record.headers[i]!.value);
  }
  return size;
}

function writeNullableBytes(buf: Buffer, position: number, value: Buffer | null): number {
  if (value === null) return writeVarint(buf, position, -1);
  const pos = writeVarint(buf, position, value.length);
  value.copy(buf, pos);
  return pos + value.length;
}

/** Encodes the records section (uncompressed): each record is length-prefixed. */
export function encodeRecords(records: readonly BatchRecord[]): Buffer {
  const headerKeys = records.map((r) => r.headers.map((h) => Buffer.from(h.key, 'utf8')));
  const bodySizes = records.map((r, i) => sizeOfRecordBody(r, headerKeys[i]!));
  let total = 0;
  for (const size of bodySizes) total += sizeOfVarint(size) + size;
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const keys = headerKeys[i]!;
    pos = writeVarint(buf, pos, bodySizes[i]!);
    buf.writeInt8(record.attributes, pos++);
    pos = writeVarlong(buf, pos, record.timestampDelta);
    pos = writeVarint(buf, pos, record.offsetDelta);
    pos = writeNullableBytes(buf, pos, record.key);
    pos = writeNullableBytes(buf, pos, record.value);
    pos = writeVarint(buf, pos, record.headers.length);
    for (let h = 0; h < record.headers.length; h++) {
      pos = writeNullableBytes(buf, pos, keys[h]!);
      pos = writeNullableBytes(buf, pos, record.headers[h]!.value);
    }
  }
  return buf;
}

/**
 * Encodes a batch exactly as given: offsets, timestamps and producer fields are written verbatim,
 * the records section is compressed with the batch's codec, and the CRC is computed last.
 */
export function encodeRecordBatch(batch: RecordBatch): Buffer {
  if (batch.records.length > 0x7fffffff) throw new ValueOutOfRangeError('recordCount', batch.records.length);
  const payload = compress(batch.compression, encodeRecords(batch.records));
  const buf = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + payload.length);
  writeInt64(buf, 0, batch.baseOffset);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(batch.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  buf.writeInt16BE(encodeBatchAttributes(batch), ATTRIBUTES_OFFSET);
  buf.writeInt32BE(batch.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, batch.baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, batch.maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, batch.producerId);
  buf.writeInt16BE(batch.producerEpoch, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(batch.baseSequence, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(batch.records.length, RECORD_COUNT_OFFSET);
  payload.copy(buf, RECORDS_OFFSET);
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}
