import CRC32C from 'crc-32/crc32c.js';
import fc from 'fast-check';
import createSnappyCodec from 'kafkajs-snappy';
import { compressSync as nativeSnappyCompress } from 'snappy';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../protocol/crc32c.js';
import {
  CorruptRecordBatchError,
  ProtocolError,
  UnsupportedCompressionError,
  UnsupportedMagicError,
} from '../../../protocol/errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_BIT,
  CompressionType,
  ControlRecordType,
  CRC_OFFSET,
  compress,
  createControlBatch,
  createRecordBatch,
  DELETE_HORIZON_BIT,
  decodeRecordBatch,
  decodeRecordBatches,
  decodeRecords,
  encodeRecordBatch,
  encodeRecords,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  parseControlRecord,
  RECORD_BATCH_OVERHEAD,
  RECORDS_OFFSET,
  type RecordBatch,
  readRecordBatchHeader,
  scanRecordBatches,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  TIMESTAMP_TYPE_BIT,
  TimestampType,
  TRANSACTIONAL_BIT,
  verifyRecordBatch,
} from '../../../protocol/record-batch/index.js';
import {
  ALL_COMPRESSION_TYPES,
  batchWithPayload,
  bytesArb,
  EMPTY_BATCH,
  flipBit,
  recomputeCrc,
  recordBatchArb,
} from './arbitraries.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const sampleBatch: RecordBatch = createRecordBatch({
  baseOffset: 1000,
  partitionLeaderEpoch: 7,
  producerId: 4242,
  producerEpoch: 3,
  baseSequence: 17,
  timestamp: 1_700_000_000_000,
  records: [
    { key: Buffer.from('k1'), value: Buffer.from('v1') },
    { key: null, value: Buffer.from('v2'), timestamp: 1_699_999_999_000 },
    {
      value: null,
      headers: [
        { key: 'trace-id', value: Buffer.from('abc') },
        { key: 'ключ', value: null },
      ],
      timestamp: 1_700_000_000_500,
    },
  ],
});

describe('encodeRecordBatch / decodeRecordBatch', () => {
  it('round-trips arbitrary batches exactly, for every codec', () => {
    fc.assert(
      fc.property(recordBatchArb(), (batch) => {
        const encoded = encodeRecordBatch(batch);
        expect(verifyRecordBatch(encoded)).toBe(encoded.length);
        const decoded = decodeRecordBatch(encoded);
        expect(decoded).toEqual(batch);
        // The offset bookkeeping the broker relies on, read without decoding records.
        const header = readRecordBatchHeader(encoded);
        expect(header.sizeInBytes).toBe(encoded.length);
        expect(header.recordCount).toBe(batch.records.length);
        expect(header.lastOffsetDelta).toBe(batch.lastOffsetDelta);
        for (const record of decoded.records)
          expect(record.offsetDelta).toBeLessThanOrEqual(header.lastOffsetDelta);
        // Encoding is a pure function of the batch.
        expect(encodeRecordBatch(decoded)).toEqual(encoded);
      }),
      { numRuns: 250 },
    );
  });

  it('writes the documented fixed layout', () => {
    const encoded = encodeRecordBatch({ ...sampleBatch, compression: CompressionType.None });
    expect(encoded.readBigInt64BE(0)).toBe(1000n);
    expect(encoded.readInt32BE(8)).toBe(encoded.length - 12);
    expect(encoded.readInt32BE(12)).toBe(7);
    expect(encoded.readInt8(16)).toBe(2);
    expect(encoded.readUInt32BE(17)).toBe(crc32c(encoded.subarray(21)));
    expect(encoded.readInt16BE(21)).toBe(0);
    expect(encoded.readInt32BE(23)).toBe(2);
    expect(encoded.readBigInt64BE(27)).toBe(1_700_000_000_000n);
    expect(encoded.readBigInt64BE(35)).toBe(1_700_000_000_500n);
    expect(encoded.readBigInt64BE(43)).toBe(4242n);
    expect(encoded.readInt16BE(51)).toBe(3);
    expect(encoded.readInt32BE(53)).toBe(17);
    expect(encoded.readInt32BE(57)).toBe(3);
    expect(encoded.subarray(RECORDS_OFFSET)).toEqual(encodeRecords(sampleBatch.records));
    // First record: length 10, attributes 0, timestampDelta 0, offsetDelta 0, key "k1", value "v1", 0 headers.
    expect(encoded.subarray(RECORDS_OFFSET, RECORDS_OFFSET + 11).toString('hex')).toBe(
      '14000000046b3104763100',
    );
  });

  it('encodes every attribute flag in its own bit', () => {
    const flags: Array<[Partial<RecordBatch>, number]> = [
      [{ compression: CompressionType.Zstd }, 0x04],
      [{ timestampType: TimestampType.LogAppendTime }, 0x08],
      [{ isTransactional: true }, 0x10],
      [{ isControl: true }, 0x20],
      [{ hasDeleteHorizonMs: true }, 0x40],
    ];
    for (const [fields, bits] of flags) {
      const encoded = encodeRecordBatch({ ...EMPTY_BATCH, ...fields });
      expect(encoded.readInt16BE(ATTRIBUTES_OFFSET)).toBe(bits);
      expect(decodeRecordBatch(encoded)).toMatchObject(fields);
    }
  });

  it('decodes a batch sitting after other bytes', () => {
    const encoded = encodeRecordBatch(sampleBatch);
    const buf = Buffer.concat([Buffer.alloc(13, 0xab), encoded, Buffer.alloc(5)]);
    expect(decodeRecordBatch(buf, 13)).toEqual(sampleBatch);
  });

  it('decodeRecordBatches decodes every complete batch and ignores a partial tail', () => {
    const batches = [sampleBatch, { ...sampleBatch, baseOffset: 1003, compression: CompressionType.Gzip }];
    const encoded = batches.map(encodeRecordBatch);
    const partial = encodeRecordBatch({ ...sampleBatch, baseOffset: 1006 }).subarray(0, 40);
    expect(decodeRecordBatches(Buffer.concat([...encoded, partial]))).toEqual(batches);
    expect(decodeRecordBatches(Buffer.concat([...encoded, partial.subarray(0, 5)]))).toEqual(batches);
  });

  it('decodeRecordBatches rejects a present but negative length instead of treating it as a tail', () => {
    const bad = Buffer.alloc(RECORD_BATCH_OVERHEAD);
    bad.writeInt32BE(-100, BATCH_LENGTH_OFFSET);
    const buf = Buffer.concat([encodeRecordBatch(sampleBatch), bad]);
    expect(() => decodeRecordBatches(buf)).toThrow(CorruptRecordBatchError);
    expect(() => decodeRecordBatches(buf, { verifyCrc: false })).toThrow(CorruptRecordBatchError);
  });

  it('refuses unknown codecs', () => {
    const encoded = encodeRecordBatch(EMPTY_BATCH);
    encoded.writeInt16BE(5, ATTRIBUTES_OFFSET);
    recomputeCrc(encoded);
    expect(() => decodeRecordBatch(encoded)).toThrow(UnsupportedCompressionError);
    expect(() => compress(6 as CompressionType, Buffer.alloc(1))).toThrow(UnsupportedCompressionError);
  });
});

describe('CRC-32C coverage', () => {
  it('computes the same CRC-32C natively and with the JavaScript fallback the Lambdas use', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        expect(crc32c(data)).toBe(CRC32C.buf(data) >>> 0);
      }),
      { numRuns: 300 },
    );
    // The standard check value: CRC-32C of "123456789".
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(CRC32C.buf(Buffer.from('123456789')) >>> 0).toBe(0xe3069283);
  });

  const encodedBatchArb = recordBatchArb({ maxRecords: 4 }).map(encodeRecordBatch);

  it('detects any single-bit flip from the attributes to the end', () => {
    fc.assert(
      fc.property(encodedBatchArb, fc.nat(), (encoded, seed) => {
        const coveredBits = (encoded.length - ATTRIBUTES_OFFSET) * 8;
        const corrupted = flipBit(encoded, ATTRIBUTES_OFFSET * 8 + (seed % coveredBits));
        const error = thrown(() => verifyRecordBatch(corrupted));
        expect(error).toBeInstanceOf(CorruptRecordBatchError);
        expect(() => decodeRecordBatch(corrupted)).toThrow(CorruptRecordBatchError);
      }),
      { numRuns: 500 },
    );
  });

  it('detects every single-bit flip in a small batch, and in the stored CRC itself', () => {
    const encoded = encodeRecordBatch({ ...sampleBatch, compression: CompressionType.None });
    for (let bit = CRC_OFFSET * 8; bit < encoded.length * 8; bit++) {
      const error = thrown(() => verifyRecordBatch(flipBit(encoded, bit)));
      expect(error, `bit ${bit}`).toBeInstanceOf(CorruptRecordBatchError);
    }
    const error = thrown(() => verifyRecordBatch(flipBit(encoded, CRC_OFFSET * 8 + 3)));
    expect((error as CorruptRecordBatchError).details).toMatchObject({
      expectedCrc: (encoded.readUInt32BE(CRC_OFFSET) ^ (1 << 27)) >>> 0,
      actualCrc: encoded.readUInt32BE(CRC_OFFSET),
    });
  });

  it('does not cover baseOffset or partitionLeaderEpoch', () => {
    const outsideBits = fc.oneof(
      fc.integer({ min: BASE_OFFSET_OFFSET * 8, max: BATCH_LENGTH_OFFSET * 8 - 1 }),
      fc.integer({ min: PARTITION_LEADER_EPOCH_OFFSET * 8, max: MAGIC_OFFSET * 8 - 1 }),
    );
    fc.assert(
      fc.property(encodedBatchArb, outsideBits, (encoded, bit) => {
        const flipped = flipBit(encoded, bit);
        expect(verifyRecordBatch(flipped)).toBe(encoded.length);
        expect(flipped.readUInt32BE(CRC_OFFSET)).toBe(encoded.readUInt32BE(CRC_OFFSET));
      }),
      { numRuns: 300 },
    );
  });

  it('reports a bad magic byte as UnsupportedMagicError', () => {
    const encoded = encodeRecordBatch(sampleBatch);
    for (const magic of [0, 1, 3, -1]) {
      const buf = Buffer.from(encoded);
      buf.writeInt8(magic, MAGIC_OFFSET);
      const error = thrown(() => verifyRecordBatch(buf));
      expect(error).toBeInstanceOf(UnsupportedMagicError);
      expect((error as UnsupportedMagicError).magic).toBe(magic);
      expect(() => decodeRecordBatch(buf)).toThrow(UnsupportedMagicError);
      expect(() => scanRecordBatches(buf)).toThrow(UnsupportedMagicError);
    }
  });
});

describe('scanRecordBatches', () => {
  it('walks concatenated batches and reports their spans', () => {
    fc.assert(
      fc.property(fc.array(recordBatchArb({ maxRecords: 3 }), { maxLength: 5 }), (batches) => {
        const encoded = batches.map(encodeRecordBatch);
        const spans = scanRecordBatches(Buffer.concat(encoded));
        expect(spans).toHaveLength(batches.length);
        let position = 0;
        spans.forEach((span, i) => {
          const batch = batches[i]!;
          expect(span).toEqual({
            position,
            sizeInBytes: encoded[i]!.length,
            baseOffset: batch.baseOffset,
            lastOffsetDelta: batch.lastOffsetDelta,
            recordCount: batch.records.length,
            maxTimestamp: batch.maxTimestamp,
            partitionLeaderEpoch: batch.partitionLeaderEpoch,
            attributes:
              batch.compression |
              (batch.timestampType === TimestampType.LogAppendTime ? TIMESTAMP_TYPE_BIT : 0) |
              (batch.isTransactional ? TRANSACTIONAL_BIT : 0) |
              (batch.isControl ? CONTROL_BIT : 0) |
              (batch.hasDeleteHorizonMs ? DELETE_HORIZON_BIT : 0),
            producerId: batch.producerId,
            producerEpoch: batch.producerEpoch,
            baseSequence: batch.baseSequence,
          });
          position += encoded[i]!.length;
        });
      }),
      { numRuns: 100 },
    );
  });

  it('returns no spans for an empty buffer', () => {
    expect(scanRecordBatches(Buffer.alloc(0))).toEqual([]);
  });

  it('ignores a partial tail only when asked to', () => {
    fc.assert(
      fc.property(
        fc.array(recordBatchArb({ maxRecords: 2 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (batches, cut) => {
          const encoded = batches.map(encodeRecordBatch);
          const complete = encoded.slice(0, -1);
          const last = encoded.at(-1)!;
          const buf = Buffer.concat([...complete, last.subarray(0, 1 + (cut % (last.length - 1)))]);
          expect(scanRecordBatches(buf, { allowPartialTail: true })).toHaveLength(complete.length);
          expect(() => scanRecordBatches(buf)).toThrow(CorruptRecordBatchError);
          expect(() => scanRecordBatches(buf, { allowPartialTail: false, verifyCrc: false })).toThrow(
            CorruptRecordBatchError,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('treats a length field that overruns the buffer as a partial batch', () => {
    const first = encodeRecordBatch(sampleBatch);
    for (const length of [first.length - LOG_OVERHEAD + 1, 0x7fffffff]) {
      const second = Buffer.from(first);
      second.writeInt32BE(length, BATCH_LENGTH_OFFSET);
      const buf = Buffer.concat([first, second]);
      expect(() => scanRecordBatches(buf)).toThrow(CorruptRecordBatchError);
      expect(scanRecordBatches(buf, { allowPartialTail: true })).toHaveLength(1);
      expect(() => verifyRecordBatch(second)).toThrow(CorruptRecordBatchError);
    }
  });

  it('rejects a length field below the minimum batch size, even with allowPartialTail', () => {
    const first = encodeRecordBatch(sampleBatch);
    for (const length of [-1_000_000, -13, -12, -1, 0, RECORD_BATCH_OVERHEAD - LOG_OVERHEAD - 1]) {
      const second = Buffer.from(first);
      second.writeInt32BE(length, BATCH_LENGTH_OFFSET);
      const buf = Buffer.concat([first, second]);
      for (const options of [{}, { allowPartialTail: true }, { verifyCrc: false }]) {
        expect(() => scanRecordBatches(buf, options), `length ${length}`).toThrow(CorruptRecordBatchError);
      }
      expect(() => verifyRecordBatch(second)).toThrow(CorruptRecordBatchError);
    }
  });

  it('rejects a batch that is shorter than its header', () => {
    const encoded = encodeRecordBatch(sampleBatch);
    expect(() => verifyRecordBatch(encoded.subarray(0, RECORD_BATCH_OVERHEAD - 1))).toThrow(
      CorruptRecordBatchError,
    );
    expect(() => readRecordBatchHeader(encoded.subarray(0, 30))).toThrow(CorruptRecordBatchError);
    expect(() => decodeRecordBatch(encoded.subarray(0, encoded.length - 1))).toThrow(CorruptRecordBatchError);
  });

  it('skips CRC verification only when told to', () => {
    const first = encodeRecordBatch(sampleBatch);
    const corrupt = flipBit(first, (first.length - 1) * 8);
    const buf = Buffer.concat([first, corrupt]);
    expect(() => scanRecordBatches(buf)).toThrow(CorruptRecordBatchError);
    expect(scanRecordBatches(buf, { verifyCrc: false })).toHaveLength(2);
  });
});

describe('in-place header patches', () => {
  it('setBaseOffset and setPartitionLeaderEpoch keep the CRC valid', () => {
    fc.assert(
      fc.property(
        fc.array(recordBatchArb({ maxRecords: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (batches, baseOffset, epoch) => {
          const buf = Buffer.concat(batches.map(encodeRecordBatch));
          const spans = scanRecordBatches(buf);
          const crcs = spans.map((span) => buf.readUInt32BE(span.position + CRC_OFFSET));
          spans.forEach((span, i) => {
            setBaseOffset(buf, span.position, baseOffset + i);
            setPartitionLeaderEpoch(buf, span.position, epoch);
          });
          const patched = scanRecordBatches(buf);
          expect(patched.map((s) => s.baseOffset)).toEqual(spans.map((_, i) => baseOffset + i));
          expect(patched.map((s) => s.partitionLeaderEpoch)).toEqual(spans.map(() => epoch));
          expect(spans.map((span) => buf.readUInt32BE(span.position + CRC_OFFSET))).toEqual(crcs);
          const decoded = decodeRecordBatches(buf);
          expect(decoded).toEqual(
            batches.map((batch, i) => ({
              ...batch,
              baseOffset: baseOffset + i,
              partitionLeaderEpoch: epoch,
            })),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('setLogAppendTime sets the timestamp type and maxTimestamp and recomputes the CRC', () => {
    fc.assert(
      fc.property(
        recordBatchArb({ maxRecords: 3 }),
        fc.maxSafeInteger(),
        bytesArb(20),
        (batch, appendTime, padding) => {
          const encoded = encodeRecordBatch({ ...batch, timestampType: TimestampType.CreateTime });
          const buf = Buffer.concat([padding, encoded]);
          const position = padding.length;
          setLogAppendTime(buf, position, encoded.length, appendTime);
          expect(verifyRecordBatch(buf, position)).toBe(encoded.length);
          expect(buf.readUInt32BE(position + CRC_OFFSET)).toBe(
            crc32c(buf.subarray(position + ATTRIBUTES_OFFSET, position + encoded.length)),
          );
          expect(buf.readBigInt64BE(position + MAX_TIMESTAMP_OFFSET)).toBe(BigInt(appendTime));
          const header = readRecordBatchHeader(buf, position);
          expect(header.timestampType).toBe(TimestampType.LogAppendTime);
          // Every other attribute bit is untouched.
          expect(header.compression).toBe(batch.compression);
          expect(header.isTransactional).toBe(batch.isTransactional);
          expect(header.isControl).toBe(batch.isControl);
          expect(decodeRecordBatch(buf, position)).toEqual({
            ...batch,
            timestampType: TimestampType.LogAppendTime,
            maxTimestamp: appendTime,
          });
          expect(buf.subarray(0, position)).toEqual(padding);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('builders', () => {
  it('createRecordBatch derives offset and timestamp deltas from the first record', () => {
    const batch = createRecordBatch({
      timestamp: 5_000,
      records: [
        { value: Buffer.from('a'), timestamp: 1_005 },
        { value: Buffer.from('b'), timestamp: 1_000 },
        { value: Buffer.from('c') },
        { value: null, key: Buffer.from('k'), timestamp: 1_010 },
      ],
    });
    expect(batch.baseTimestamp).toBe(1_005);
    expect(batch.maxTimestamp).toBe(5_000);
    expect(batch.records.map((r) => r.timestampDelta)).toEqual([0, -5, 3_995, 5]);
    expect(batch.records.map((r) => r.offsetDelta)).toEqual([0, 1, 2, 3]);
    expect(batch.records.map((r) => r.key)).toEqual([null, null, null, Buffer.from('k')]);
    expect(batch.lastOffsetDelta).toBe(3);
    expect(batch).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: NO_PARTITION_LEADER_EPOCH,
      compression: CompressionType.None,
      timestampType: TimestampType.CreateTime,
      isTransactional: false,
      isControl: false,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
      baseSequence: NO_SEQUENCE,
    });
    expect(decodeRecordBatch(encodeRecordBatch(batch))).toEqual(batch);
  });

  it('createRecordBatch reconstructs the absolute timestamps it was given', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        (timestamps, now) => {
          const batch = createRecordBatch({
            timestamp: now,
            records: timestamps.map((timestamp) => ({ value: null, timestamp })),
          });
          const absolute = timestamps.map((t) => t ?? now);
          expect(batch.records.map((r) => batch.baseTimestamp + r.timestampDelta)).toEqual(absolute);
          expect(batch.maxTimestamp).toBe(Math.max(...absolute));
          expect(batch.lastOffsetDelta).toBe(timestamps.length - 1);
        },
      ),
    );
  });

  it('createRecordBatch handles batches too large to spread into Math.max', () => {
    const count = 300_000;
    const batch = createRecordBatch({
      timestamp: 1,
      records: Array.from({ length: count }, (_, i) => ({ value: null, timestamp: i === 1234 ? 99 : 1 })),
    });
    expect(batch.maxTimestamp).toBe(99);
    expect(batch.lastOffsetDelta).toBe(count - 1);
  });

  it('createRecordBatch refuses an empty batch', () => {
    expect(() => createRecordBatch({ records: [] })).toThrow(ProtocolError);
  });

  it('createControlBatch / parseControlRecord round-trip through the wire format', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(ControlRecordType.Abort, ControlRecordType.Commit),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        (type, coordinatorEpoch, producerId, producerEpoch, timestamp) => {
          const batch = createControlBatch({
            marker: { type, coordinatorEpoch },
            producerId,
            producerEpoch,
            timestamp,
            baseOffset: 77,
          });
          const decoded = decodeRecordBatch(encodeRecordBatch(batch));
          expect(decoded).toEqual(batch);
          expect(decoded).toMatchObject({
            isControl: true,
            isTransactional: true,
            producerId,
            producerEpoch,
            baseTimestamp: timestamp,
            maxTimestamp: timestamp,
          });
          expect(decoded.records).toHaveLength(1);
          expect(parseControlRecord(decoded.records[0]!)).toEqual({ type, coordinatorEpoch });
        },
      ),
    );
  });

  it('writes control record keys and values as Kafka does', () => {
    const batch = createControlBatch({
      marker: { type: ControlRecordType.Commit, coordinatorEpoch: 5 },
      producerId: 1,
      producerEpoch: 0,
      timestamp: 0,
    });
    const record = batch.records[0]!;
    expect(record.key!.toString('hex')).toBe('00000001');
    expect(record.value!.toString('hex')).toBe('000000000005');
    expect(encodeRecordBatch(batch).readInt16BE(ATTRIBUTES_OFFSET)).toBe(0x30);
  });

  it('parseControlRecord rejects records that are not markers', () => {
    const base = { attributes: 0, timestampDelta: 0, offsetDelta: 0, headers: [], value: null };
    expect(() => parseControlRecord({ ...base, key: null })).toThrow(ProtocolError);
    expect(() => parseControlRecord({ ...base, key: Buffer.from('0000', 'hex') })).toThrow(ProtocolError);
    expect(() => parseControlRecord({ ...base, key: Buffer.from('00000002', 'hex') })).toThrow(ProtocolError);
  });
});

describe('malformed records sections', () => {
  /** Decodes `buf`; any failure must be a CorruptRecordBatchError. Returns whether it failed. */
  function expectOnlyCorrupt(buf: Buffer): boolean {
    try {
      decodeRecordBatch(buf);
      return false;
    } catch (error) {
      expect(error).toBeInstanceOf(CorruptRecordBatchError);
      return true;
    }
  }

  it('random payloads behind a valid CRC throw CorruptRecordBatchError or decode', () => {
    let rejected = 0;
    fc.assert(
      fc.property(
        bytesArb(120),
        fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
        fc.constantFrom(...ALL_COMPRESSION_TYPES),
        fc.boolean(),
        (payload, recordCount, compression, compressPayload) => {
          // Either garbage the codec must reject, or garbage records inside a valid compressed stream.
          const body = compressPayload ? compress(compression, payload) : payload;
          if (expectOnlyCorrupt(batchWithPayload(body, recordCount, compression))) rejected++;
        },
      ),
      { numRuns: 1000 },
    );
    // The inputs are overwhelmingly invalid: make sure the error path is what was exercised.
    expect(rejected).toBeGreaterThan(500);
  });

  it('mutated and truncated valid records sections throw CorruptRecordBatchError or decode', () => {
    let rejected = 0;
    fc.assert(
      fc.property(
        recordBatchArb({ compression: fc.constant(CompressionType.None), maxRecords: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: -2, max: 2 }),
        fc.constantFrom(...ALL_COMPRESSION_TYPES),
        (batch, edits, cut, countSkew, compression) => {
          const section = encodeRecords(batch.records);
          if (section.length === 0) return;
          const mutated = Buffer.from(section);
          for (const [index, byte] of edits) mutated[index % mutated.length] = byte;
          const truncated = mutated.subarray(0, cut % (mutated.length + 1));
          const count = Math.max(0, batch.records.length + countSkew);
          if (expectOnlyCorrupt(batchWithPayload(compress(compression, mutated), count, compression)))
            rejected++;
          if (expectOnlyCorrupt(batchWithPayload(compress(compression, truncated), count, compression)))
            rejected++;
        },
      ),
      { numRuns: 500 },
    );
    expect(rejected).toBeGreaterThan(250);
  });

  it('specific malformations are reported as CorruptRecordBatchError', () => {
    const section = encodeRecords(sampleBatch.records);
    const cases: Array<[string, Buffer, number]> = [
      ['too few records', section, 4],
      ['trailing bytes', section, 2],
      ['truncated', section.subarray(0, section.length - 1), 3],
      ['record length past the end', Buffer.from('800100000000', 'hex'), 1],
      ['negative record length', Buffer.from('0300', 'hex'), 1],
      ['negative header count', Buffer.from('0c000000010101', 'hex'), 1],
      ['null header key', Buffer.from('100000000101020101', 'hex'), 1],
      ['over-long varint', Buffer.from('ffffffffffff', 'hex'), 1],
      ['fields overrun the record length', Buffer.from('0a0000000a0101000000', 'hex'), 1],
    ];
    for (const [name, payload, count] of cases) {
      const error = thrown(() => decodeRecordBatch(batchWithPayload(payload, count)));
      expect(error, name).toBeInstanceOf(CorruptRecordBatchError);
    }
    expect(decodeRecordBatch(batchWithPayload(section, 3)).records).toEqual(sampleBatch.records);
  });

  it('decodeRecords reads what encodeRecords writes', () => {
    fc.assert(
      fc.property(recordBatchArb({ maxRecords: 8 }), (batch) => {
        expect(decodeRecords(encodeRecords(batch.records), batch.records.length)).toEqual(batch.records);
      }),
    );
  });
});

describe('snappy', () => {
  const records = createRecordBatch({
    timestamp: 1_700_000_000_000,
    records: Array.from({ length: 600 }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: Buffer.from(`value-${i}-`.repeat(15)),
    })),
  }).records;
  const section = encodeRecords(records);

  it('writes xerial framing with 32 KiB blocks and reads it back', () => {
    expect(section.length).toBeGreaterThan(64 * 1024);
    const framed = compress(CompressionType.Snappy, section);
    expect(framed.subarray(0, 16).toString('hex')).toBe('82534e41505059000000000100000001');
    let blocks = 0;
    for (let pos = 16; pos < framed.length; pos += 4 + framed.readInt32BE(pos)) blocks++;
    expect(blocks).toBe(Math.ceil(section.length / 32768));
    const batch = { ...EMPTY_BATCH, compression: CompressionType.Snappy, lastOffsetDelta: 599, records };
    expect(decodeRecordBatch(encodeRecordBatch(batch))).toEqual(batch);
  });

  /** kafkajs-snappy compresses with snappyjs, a pure-JS Snappy independent of Spool's native one. */
  const pureJsSnappy = (data: Buffer): Promise<Buffer> => createSnappyCodec().compress({ buffer: data });

  it('reads raw (unframed) snappy from two encoders', async () => {
    for (const raw of [nativeSnappyCompress(section), await pureJsSnappy(section)]) {
      expect(raw.subarray(0, 8).toString('hex')).not.toBe('82534e4150505900');
      const decoded = decodeRecordBatch(batchWithPayload(raw, records.length, CompressionType.Snappy));
      expect(decoded.records).toEqual(records);
    }
  });

  it('reads xerial framing with arbitrary block boundaries', async () => {
    const few = records.slice(0, 30);
    const fewSection = encodeRecords(few);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), async (blockSize) => {
        const parts: Buffer[] = [Buffer.from('82534e41505059000000000100000001', 'hex')];
        for (let start = 0; start < fewSection.length; start += blockSize) {
          const block = await pureJsSnappy(fewSection.subarray(start, start + blockSize));
          const length = Buffer.alloc(4);
          length.writeInt32BE(block.length);
          parts.push(length, block);
        }
        const buf = batchWithPayload(Buffer.concat(parts), few.length, CompressionType.Snappy);
        expect(decodeRecordBatch(buf).records).toEqual(few);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects truncated xerial blocks', () => {
    const framed = compress(CompressionType.Snappy, section);
    for (const cut of [18, 21, framed.length - 1]) {
      const buf = batchWithPayload(framed.subarray(0, cut), records.length, CompressionType.Snappy);
      expect(() => decodeRecordBatch(buf)).toThrow(CorruptRecordBatchError);
    }
  });
});

describe('int64 header fields beyond 2^53', () => {
  const batch = () =>
    encodeRecordBatch(
      createRecordBatch({ records: [{ value: Buffer.from('v') }], timestamp: 1_700_000_000_000 }),
    );

  it('are reported as a corrupt batch, even where the CRC does not cover them', () => {
    const hugeOffset = batch();
    hugeOffset.writeBigInt64BE(2n ** 60n, 0); // baseOffset: outside the CRC
    expect(() => scanRecordBatches(hugeOffset)).toThrow(CorruptRecordBatchError);
    expect(() => decodeRecordBatch(hugeOffset)).toThrow(CorruptRecordBatchError);

    const hugeTimestamp = batch();
    hugeTimestamp.writeBigInt64BE(2n ** 60n, 27); // baseTimestamp, then re-checksum
    hugeTimestamp.writeUInt32BE(crc32c(hugeTimestamp.subarray(21)), 17);
    expect(() => decodeRecordBatch(hugeTimestamp)).toThrow(CorruptRecordBatchError);
  });

  it('check the magic byte even when the CRC check is skipped', () => {
    const v1 = batch();
    v1.writeInt8(1, 16);
    expect(() => scanRecordBatches(v1, { verifyCrc: false })).toThrow(UnsupportedMagicError);
  });
});
