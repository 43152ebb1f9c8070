import { readVarint, readVarlong, type VarintCursor } from '../bytes/varint.js';
import { CorruptRecordBatchError, ProtocolError } from '../errors.js';
import { decompress } from './compression.js';
import { batchSizeAt, readRecordBatchHeader, verifyRecordBatch } from './header.js';
import { CompressionType, LOG_OVERHEAD, RECORDS_OFFSET } from './layout.js';
import type { BatchRecord, RecordBatch, RecordHeader } from './types.js';

export interface DecodeOptions {
  /** Verify the CRC before decoding (default true). */
  verifyCrc?: boolean;
}

function readNullableBytes(buf: Buffer, cursor: VarintCursor): Buffer | null {
  const length = readVarint(buf, cursor);
  if (length < 0) return null;
  const start = cursor.position;
  const end = start + length;
  if (end > buf.length) throw new CorruptRecordBatchError('record field overruns the records section');
  cursor.position = end;
  return buf.subarray(start, end);
}

/** Decodes `count` length-prefixed records from an uncompressed records section. */
export function decodeRecords(buf: Buffer, count: number): BatchRecord[] {
  const records: BatchRecord[] = new Array(count);
  const cursor: VarintCursor = { position: 0 };
  for (let i = 0; i < count; i++) {
    const length = readVarint(buf, cursor);
    const end = cursor.position + length;
    if (length < 0 || end > buf.length) {
      throw new CorruptRecordBatchError(`record ${i} of ${count} overruns the records section`);
    }
    const attributes = buf.readInt8(cursor.position++);
    const timestampDelta = readVarlong(buf, cursor);
    const offsetDelta = readVarint(buf, cursor);
    const key = readNullableBytes(buf, cursor);
    const value = readNullableBytes(buf, cursor);
    const headerCount = readVarint(buf, cursor);
    if (headerCount < 0) throw new CorruptRecordBatchError(`record ${i} has a negative header count`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = readNullableBytes(buf, cursor);
      if (headerKey === null) throw new CorruptRecordBatchError(`record ${i} has a null header key`);
      headers.push({ key: headerKey.toString('utf8'), value: readNullableBytes(buf, cursor) });
    }
    if (cursor.position !== end) {
      throw new CorruptRecordBatchError(`record ${i} length ${length} disagrees with its contents`);
    }
    records[i] = { attributes, timestampDelta, offsetDelta, key, value, headers };
  }
  if (cursor.position !== buf.length) {
    throw new CorruptRecordBatchError(`records section has ${buf.length - cursor.position} trailing bytes`);
  }
  return records;
}

/** Decodes the single batch at `position`, decompressing its records. */
export function decodeRecordBatch(buf: Buffer, position = 0, options: DecodeOptions = {}): RecordBatch {
  const size = (options.verifyCrc ?? true) ? verifyRecordBatch(buf, position) : batchSizeAt(buf, position);
  if (size < RECORDS_OFFSET || position + size > buf.length) {
    throw new CorruptRecordBatchError('record batch is truncated', { position });
  }
  const header = readRecordBatchHeader(buf, position);
  const payload = buf.subarray(position + RECORDS_OFFSET, position + size);
  const recordsSection =
    header.compression === CompressionType.None ? payload : decompress(header.compression, payload);
  let records: BatchRecord[];
  try {
    records = decodeRecords(recordsSection, header.recordCount);
  } catch (error) {
    if (error instanceof CorruptRecordBatchError) throw error;
    // RangeError: Buffer reads past the end of a lying records section.
    if (error instanceof ProtocolError || error instanceof RangeError) {
      throw new CorruptRecordBatchError('malformed records section', { position }, { cause: error });
    }
    throw error;
  }
  const { sizeInBytes: _size, magic: _magic, crc: _crc, recordCount: _count, ...fields } = header;
  return { ...fields, records };
}

/** Decodes every complete batch in `buf`; a partial trailing batch (as in fetch responses) is ignored. */
export function decodeRecordBatches(buf: Buffer, options: DecodeOptions = {}): RecordBatch[] {
  const batches: RecordBatch[] = [];
  let position = 0;
  for (;;) {
    const size = batchSizeAt(buf, position);
    // Only a batch that runs past the end is a partial tail; a present but negative length is
    // corrupt and is left for decodeRecordBatch to reject.
    if (buf.length - position < LOG_OVERHEAD || (size >= 0 && position + size > buf.length)) break;
    batches.push(decodeRecordBatch(buf, position, options));
    position += size;
  }
  return batches;
}
