import { createRequire } from 'node:module';
import fc from 'fast-check';
import { decompress as fzstdDecompress } from 'fzstd';
import createSnappyCodec from 'kafkajs-snappy';
import lz4js from 'lz4js';
import { describe, expect, it, vi } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import {
  type BatchRecord,
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordBatch,
  type RecordHeader,
  TimestampType,
  verifyRecordBatch,
} from '../../../protocol/record-batch/index.js';
import { ALL_COMPRESSION_TYPES, headerKeyArb, recordBatchArb } from './arbitraries.js';

/**
 * Interop with kafkajs 2.2.4's own RecordBatch v2 encoder and decoder (its internals, loaded with
 * require since kafkajs is CommonJS and does not export them), with every codec. kafkajs ships only
 * gzip; the other codecs are registered here on implementations independent of Spool's:
 * snappy via kafkajs-snappy (snappyjs), lz4 via lz4js, and zstd decoded by fzstd.
 */

// ---- kafkajs internals, typed as far as the tests use them -------------------------------------

interface KafkaEncoder {
  readonly buffer: Buffer;
}
type KafkaHeaderValue = Buffer | string;
type KafkaHeaders = Record<string, KafkaHeaderValue | KafkaHeaderValue[]>;
interface KafkaRecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: KafkaHeaders;
}
interface KafkaRecordBatchInput {
  compression?: number;
  firstOffset?: number;
  firstTimestamp?: number;
  maxTimestamp?: number;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: number;
  producerEpoch?: number;
  firstSequence?: number;
  records: KafkaEncoder[];
}
type DecodedHeaders = Record<string, Buffer | null | Array<Buffer | null>>;
interface KafkaDecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: DecodedHeaders;
  isControlRecord: boolean;
}
interface KafkaDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkaDecodedRecord[];
}
interface KafkaCodec {
  compress(encoder: KafkaEncoder): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
interface KafkaMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: KafkaHeaders;
  timestamp?: number;
}
interface ProduceRequestV3 {
  encode(): Promise<KafkaEncoder>;
}
type ProduceRequestFactory = (options: {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: number;
  producerEpoch?: number;
  compression?: number;
  topicData: Array<{
    topic: string;
    partitions: Array<{ partition: number; firstSequence?: number; messages: KafkaMessage[] }>;
  }>;
}) => ProduceRequestV3;

const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs') as typeof import('kafkajs');
const { RecordBatch: kafkaRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(input: KafkaRecordBatchInput): Promise<KafkaEncoder>;
};
const kafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  input: KafkaRecordInput,
) => KafkaEncoder;
const kafkaDecodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: object,
) => Promise<KafkaDecodedBatch>;
const KafkaDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => object;
const kafkaProduceRequestV3 =
  require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceRequestFactory;

// ---- codec registration --------------------------------------------------------------------------

const { CompressionTypes, CompressionCodecs } = kafkajs;
const lz4Codec: KafkaCodec = {
  compress: async (encoder) => Buffer.from(lz4js.compress(encoder.buffer)),
  decompress: async (buffer) => Buffer.from(lz4js.decompress(buffer)),
};
const zstdCodec: KafkaCodec = {
  compress: async (encoder) => zstdCompress(encoder.buffer),
  decompress: async (buffer) => Buffer.from(fzstdDecompress(buffer)),
};
CompressionCodecs[CompressionTypes.Snappy] = createSnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;

// ---- what kafkajs writes, expressed as a Spool RecordBatch ---------------------------------------

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function toNullableBuffer(value: Buffer | string | null | undefined): Buffer | null {
  return value === null || value === undefined ? null : toBuffer(value);
}

/**
 * kafkajs takes headers as an object and writes them in Object.keys order (integer-like keys first,
 * ascending, then insertion order), with an array value expanding into repeated keys.
 */
function kafkajsHeaderOrder(headers: KafkaHeaders): RecordHeader[] {
  return Object.keys(headers).flatMap((key) => {
    const value = headers[key]!;
    return (Array.isArray(value) ? value : [value]).map((v) => ({ key, value: toBuffer(v) }));
  });
}

/** Builds a kafkajs headers object from entries, folding repeated keys into arrays as kafkajs users do. */
function toKafkajsHeaders(entries: Array<[string, KafkaHeaderValue]>): KafkaHeaders {
  const headers = Object.create(null) as KafkaHeaders;
  for (const [key, value] of entries) {
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else headers[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

interface KafkaRecordSpec {
  timestampDelta: number;
  key: Buffer | string | null | undefined;
  value: Buffer | string | null;
  headers: KafkaHeaders;
}

interface KafkaBatchSpec {
  firstOffset: number;
  partitionLeaderEpoch: number;
  firstTimestamp: number;
  maxTimestamp: number;
  lastOffsetDelta: number;
  transactional: boolean;
  producerId: number;
  producerEpoch: number;
  firstSequence: number;
  records: KafkaRecordSpec[];
}

function kafkajsEncode(spec: KafkaBatchSpec, compression: CompressionType): Promise<KafkaEncoder> {
  return kafkaRecordBatch({
    compression,
    firstOffset: spec.firstOffset,
    partitionLeaderEpoch: spec.partitionLeaderEpoch,
    firstTimestamp: spec.firstTimestamp,
    maxTimestamp: spec.maxTimestamp,
    lastOffsetDelta: spec.lastOffsetDelta,
    transactional: spec.transactional,
    producerId: spec.producerId,
    producerEpoch: spec.producerEpoch,
    firstSequence: spec.firstSequence,
    records: spec.records.map((record, offsetDelta) =>
      kafkaRecord({
        offsetDelta,
        timestampDelta: record.timestampDelta,
        key: record.key,
        value: record.value,
        headers: record.headers,
      }),
    ),
  });
}

/**
 * The Spool batch equivalent to a kafkajs RecordBatch call. kafkajs writes every header field it is
 * given verbatim; it never sets the LogAppendTime, control or delete-horizon bits; it numbers
 * records 0..n-1; record attributes are always 0; keys and string values are UTF-8.
 */
function spoolEquivalent(spec: KafkaBatchSpec, compression: CompressionType): RecordBatch {
  return {
    baseOffset: spec.firstOffset,
    partitionLeaderEpoch: spec.partitionLeaderEpoch,
    compression,
    timestampType: TimestampType.CreateTime,
    isTransactional: spec.transactional,
    isControl: false,
    hasDeleteHorizonMs: false,
    lastOffsetDelta: spec.lastOffsetDelta,
    baseTimestamp: spec.firstTimestamp,
    maxTimestamp: spec.maxTimestamp,
    producerId: spec.producerId,
    producerEpoch: spec.producerEpoch,
    baseSequence: spec.firstSequence,
    records: spec.records.map(
      (record, offsetDelta): BatchRecord => ({
        attributes: 0,
        timestampDelta: record.timestampDelta,
        offsetDelta,
        key: toNullableBuffer(record.key),
        value: toNullableBuffer(record.value),
        headers: kafkajsHeaderOrder(record.headers),
      }),
    ),
  };
}

// ---- what kafkajs reads back, computed from a Spool RecordBatch ----------------------------------

/** kafkajs folds decoded headers into an object, with repeated keys becoming arrays. */
function kafkajsHeadersView(headers: RecordHeader[]): DecodedHeaders {
  const view: DecodedHeaders = {};
  for (const { key, value } of headers) {
    const existing = Object.hasOwn(view, key) ? view[key] : undefined;
    const folded =
      existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    // defineProperty, like kafkajs's computed-key spread, makes even "__proto__" an own property.
    Object.defineProperty(view, key, { value: folded, enumerable: true, writable: true, configurable: true });
  }
  return view;
}

function kafkajsView(batch: RecordBatch) {
  const sum = (a: number, b: number) => (BigInt(a) + BigInt(b)).toString();
  return {
    firstOffset: String(batch.baseOffset),
    firstTimestamp: String(batch.baseTimestamp),
    maxTimestamp: String(batch.maxTimestamp),
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    inTransaction: batch.isTransactional,
    isControlBatch: batch.isControl,
    lastOffsetDelta: batch.lastOffsetDelta,
    producerId: String(batch.producerId),
    producerEpoch: batch.producerEpoch,
    firstSequence: batch.baseSequence,
    timestampType: batch.timestampType,
    records: batch.records.map((record) => ({
      magicByte: 2,
      attributes: record.attributes,
      timestamp:
        batch.timestampType === TimestampType.LogAppendTime
          ? String(batch.maxTimestamp)
          : sum(batch.baseTimestamp, record.timestampDelta),
      offset: sum(batch.baseOffset, record.offsetDelta),
      key: record.key,
      value: record.value,
      headers: kafkajsHeadersView(record.headers),
      isControlRecord: batch.isControl,
    })),
  };
}

async function kafkajsDecode(buf: Buffer) {
  const decoded = await kafkaDecodeRecordBatch(new KafkaDecoder(buf));
  const { records, ...header } = decoded;
  return {
    ...header,
    records: records.map(
      ({ magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord }) => ({
        magicByte,
        attributes,
        timestamp,
        offset,
        key,
        value,
        headers,
        isControlRecord,
      }),
    ),
  };
}

// ---- arbitraries ---------------------------------------------------------------------------------

const int32Arb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const payloadArb = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes));
const stringOrBytesArb = fc.oneof(payloadArb, fc.string({ unit: 'binary', maxLength: 20 }));

/** kafkajs cannot write a null header value (its size computation calls Buffer.byteLength(null)). */
const kafkaHeadersArb = fc
  .array(fc.tuple(fc.oneof(headerKeyArb, fc.constantFrom('0', '7', '42', 'dup')), stringOrBytesArb), {
    maxLength: 5,
  })
  .map(toKafkajsHeaders);

const kafkaRecordArb: fc.Arbitrary<KafkaRecordSpec> = fc.record({
  timestampDelta: fc.oneof(
    fc.integer({ min: -100_000, max: 100_000 }),
    fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
  ),
  key: fc.oneof(fc.constant(undefined), fc.constant(null), stringOrBytesArb),
  value: fc.option(stringOrBytesArb, { nil: null }),
  headers: kafkaHeadersArb,
});

const kafkaBatchArb = (maxRecords = 6): fc.Arbitrary<KafkaBatchSpec> =>
  fc
    .record({
      firstOffset: fc.integer({ min: 0, max: 2 ** 48 }),
      partitionLeaderEpoch: int32Arb,
      firstTimestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.maxSafeInteger()),
      maxTimestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.maxSafeInteger()),
      transactional: fc.boolean(),
      producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 52 })),
      producerEpoch: fc.integer({ min: -1, max: 2 ** 15 - 1 }),
      firstSequence: int32Arb,
      records: fc.array(kafkaRecordArb, { maxLength: maxRecords }),
    })
    .map((spec) => ({ ...spec, lastOffsetDelta: Math.max(0, spec.records.length - 1) }));

/**
 * Spool batches for kafkajs to decode: any flags, CreateTime or LogAppendTime, null header values.
 * Header keys that name Object.prototype members ("toString", "__proto__", ...) are renamed: kafkajs
 * folds headers with `obj[key] === undefined`, so it mangles those (see the quirks below).
 */
const spoolBatchArb = (compression: CompressionType) =>
  recordBatchArb({ compression: fc.constant(compression), maxRecords: 5 }).map((batch) => ({
    ...batch,
    records: batch.records.map((record) => ({
      ...record,
      headers: record.headers.map((h) => (h.key in Object.prototype ? { ...h, key: `_${h.key}` } : h)),
    })),
  }));

// ---- fixed cases ---------------------------------------------------------------------------------

const FIXED_CASES: Array<[string, KafkaBatchSpec]> = [
  [
    'headers, null and string keys, empty values',
    {
      firstOffset: 0,
      partitionLeaderEpoch: 0,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_250,
      lastOffsetDelta: 3,
      transactional: false,
      producerId: -1,
      producerEpoch: 0,
      firstSequence: 0,
      records: [
        {
          timestampDelta: 0,
          key: 'user-1',
          value: '{"a":1}',
          headers: { 'content-type': 'application/json' },
        },
        { timestampDelta: 250, key: null, value: Buffer.alloc(0), headers: {} },
        {
          timestampDelta: -40,
          key: undefined,
          value: null,
          headers: { trace: ['a', 'b'], '1': 'one', z: '' },
        },
        {
          timestampDelta: 7,
          key: Buffer.from([0, 255]),
          value: 'ünïcødé ✓',
          headers: { ключ: Buffer.from([1]) },
        },
      ],
    },
  ],
  [
    'idempotent transactional producer at a high offset',
    {
      firstOffset: 2 ** 40 + 3,
      partitionLeaderEpoch: 12,
      firstTimestamp: 1_600_000_000_000,
      maxTimestamp: 1_600_000_000_000,
      lastOffsetDelta: 0,
      transactional: true,
      producerId: 987_654_321_012,
      producerEpoch: 32767,
      firstSequence: 2 ** 31 - 1,
      records: [{ timestampDelta: 0, key: 'k', value: 'v'.repeat(5000), headers: {} }],
    },
  ],
  [
    'negative timestamps and a record with many headers',
    {
      firstOffset: 5,
      partitionLeaderEpoch: -1,
      firstTimestamp: -1,
      maxTimestamp: -1,
      lastOffsetDelta: 1,
      transactional: false,
      producerId: 0,
      producerEpoch: -1,
      firstSequence: -1,
      records: [
        { timestampDelta: 0, key: null, value: null, headers: {} },
        {
          timestampDelta: -(2 ** 40),
          key: 'x',
          value: 'y',
          headers: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`h${i}`, `v${i}`])),
        },
      ],
    },
  ],
];

// ---- tests ---------------------------------------------------------------------------------------

describe('kafkajs interop: byte-identical uncompressed batches', () => {
  it.each(FIXED_CASES)('%s', async (_name, spec) => {
    const kafkajsBytes = (await kafkajsEncode(spec, CompressionType.None)).buffer;
    const spoolBytes = encodeRecordBatch(spoolEquivalent(spec, CompressionType.None));
    expect(spoolBytes.toString('hex')).toBe(kafkajsBytes.toString('hex'));
  });

  it('for arbitrary batches', async () => {
    await fc.assert(
      fc.asyncProperty(kafkaBatchArb(), async (spec) => {
        const kafkajsBytes = (await kafkajsEncode(spec, CompressionType.None)).buffer;
        const spoolBytes = encodeRecordBatch(spoolEquivalent(spec, CompressionType.None));
        expect(spoolBytes.equals(kafkajsBytes)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('orders headers as Object.keys does: integer-like keys first, repeated keys from arrays', async () => {
    const headers = toKafkajsHeaders([
      ['b', 'first'],
      ['10', 'ten'],
      ['a', 'x'],
      ['2', 'two'],
      ['b', 'second'],
    ]);
    const spec: KafkaBatchSpec = {
      ...FIXED_CASES[0]![1],
      lastOffsetDelta: 0,
      records: [{ timestampDelta: 0, key: null, value: null, headers }],
    };
    const decoded = decodeRecordBatch((await kafkajsEncode(spec, CompressionType.None)).buffer);
    expect(decoded.records[0]!.headers.map((h) => `${h.key}=${h.value}`)).toEqual([
      '2=two',
      '10=ten',
      'b=first',
      'b=second',
      'a=x',
    ]);
  });

  it('matches what the kafkajs producer sends: min/max timestamps, epoch 0, sequence as given', async () => {
    // The kafkajs producer (produce request v3) derives the header from the messages: the base
    // timestamp is the smallest timestamp (not the first record's, as the Java client does), records
    // without a timestamp get Date.now(), partitionLeaderEpoch is 0 and lastOffsetDelta is n - 1.
    const now = 1_700_000_009_999;
    const messages: KafkaMessage[] = [
      { key: 'a', value: '1', timestamp: 1_700_000_000_500 },
      { key: 'b', value: '2', timestamp: 1_700_000_000_100, headers: { h: 'v' } },
      { key: null, value: '3' },
      { value: '4', timestamp: 1_700_000_000_900 },
    ];
    const kafkajsBytes = await kafkajsProducedBatch(messages, now);
    const base = 1_700_000_000_100;
    const expected: RecordBatch = {
      baseOffset: 0,
      partitionLeaderEpoch: 0,
      compression: CompressionType.None,
      timestampType: TimestampType.CreateTime,
      isTransactional: true,
      isControl: false,
      hasDeleteHorizonMs: false,
      lastOffsetDelta: 3,
      baseTimestamp: base,
      maxTimestamp: 1_700_000_000_900,
      producerId: 4000,
      producerEpoch: 2,
      baseSequence: 77,
      records: messages.map((m, i) => ({
        attributes: 0,
        timestampDelta: (m.timestamp ?? now) - base,
        offsetDelta: i,
        key: toNullableBuffer(m.key),
        value: toNullableBuffer(m.value),
        headers: kafkajsHeaderOrder(m.headers ?? {}),
      })),
    };
    expect(encodeRecordBatch(expected).toString('hex')).toBe(kafkajsBytes.toString('hex'));
    expect(decodeRecordBatch(kafkajsBytes)).toEqual(expected);
  });

  it('the kafkajs producer sorts timestamps as strings, and Spool reads the result faithfully', async () => {
    // messages.map(m => m.timestamp).sort() compares numbers as strings: 10 sorts before 9, so the
    // batch claims baseTimestamp 10 and maxTimestamp 9. Only matters below 13-digit timestamps.
    const decoded = decodeRecordBatch(
      await kafkajsProducedBatch(
        [
          { value: 'x', timestamp: 9 },
          { value: 'y', timestamp: 10 },
        ],
        1_700_000_000_000,
      ),
    );
    expect(decoded.baseTimestamp).toBe(10);
    expect(decoded.maxTimestamp).toBe(9);
    expect(decoded.records.map((r) => decoded.baseTimestamp + r.timestampDelta)).toEqual([9, 10]);
  });
});

/** Encodes a produce request v3 as the kafkajs producer would and cuts out its record batch. */
async function kafkajsProducedBatch(messages: KafkaMessage[], now: number): Promise<Buffer> {
  const dateNow = vi.spyOn(Date, 'now').mockReturnValue(now);
  try {
    const request = kafkaProduceRequestV3({
      acks: -1,
      timeout: 30000,
      transactionalId: 'tx',
      producerId: 4000,
      producerEpoch: 2,
      compression: CompressionTypes.None,
      topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 77, messages }] }],
    });
    const body = (await request.encode()).buffer;
    // transactional_id "tx", acks, timeout, topic count, topic "t", partition count, partition.
    const sizeOffset = 2 + 2 + 2 + 4 + 4 + 2 + 1 + 4 + 4;
    const size = body.readInt32BE(sizeOffset);
    expect(sizeOffset + 4 + size).toBe(body.length);
    return Buffer.from(body.subarray(sizeOffset + 4));
  } finally {
    dateNow.mockRestore();
  }
}

const CODECS: Array<[string, CompressionType]> = [
  ['none', CompressionType.None],
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
];

describe.each(CODECS)('kafkajs interop with %s', (_name, compression) => {
  it('Spool decodes what kafkajs writes', async () => {
    await fc.assert(
      fc.asyncProperty(kafkaBatchArb(5), async (spec) => {
        const kafkajsBytes = Buffer.from((await kafkajsEncode(spec, compression)).buffer);
        expect(verifyRecordBatch(kafkajsBytes)).toBe(kafkajsBytes.length);
        const decoded = decodeRecordBatch(kafkajsBytes);
        expect(decoded).toEqual(spoolEquivalent(spec, compression));
        // Re-encoded without compression, Spool reproduces kafkajs's uncompressed bytes exactly.
        const uncompressed = (await kafkajsEncode(spec, CompressionType.None)).buffer;
        expect(
          encodeRecordBatch({ ...decoded, compression: CompressionType.None }).equals(uncompressed),
        ).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('kafkajs decodes what Spool writes', async () => {
    await fc.assert(
      fc.asyncProperty(spoolBatchArb(compression), async (batch) => {
        const spoolBytes = encodeRecordBatch(batch);
        expect(await kafkajsDecode(spoolBytes)).toEqual(kafkajsView(batch));
      }),
      { numRuns: 60 },
    );
  });

  it('round-trips a large batch spanning several compression blocks', async () => {
    const count = 400;
    const spec: KafkaBatchSpec = {
      ...FIXED_CASES[0]![1],
      lastOffsetDelta: count - 1,
      records: Array.from({ length: count }, (_, i) => ({
        timestampDelta: i,
        key: `key-${i}`,
        value: `value-${i}-`.repeat(40),
        headers: { index: String(i) },
      })),
    };
    const expected = spoolEquivalent(spec, compression);
    const fromKafkajs = Buffer.from((await kafkajsEncode(spec, compression)).buffer);
    expect(decodeRecordBatch(fromKafkajs)).toEqual(expected);
    expect(await kafkajsDecode(encodeRecordBatch(expected))).toEqual(kafkajsView(expected));
  });
});

describe('kafkajs quirks and conventions', () => {
  it('uses the wire codec ids that Spool uses', () => {
    expect(CODECS.map(([, id]) => id)).toEqual(ALL_COMPRESSION_TYPES);
    expect([
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ]).toEqual(ALL_COMPRESSION_TYPES);
  });

  it('kafkajs cannot encode a null header value, though it decodes one', async () => {
    expect(() => kafkaRecord({ value: null, headers: { h: null as unknown as string } })).toThrow(TypeError);
    const batch: RecordBatch = {
      ...spoolEquivalent(FIXED_CASES[0]![1], CompressionType.None),
      lastOffsetDelta: 0,
      records: [
        {
          attributes: 0,
          timestampDelta: 0,
          offsetDelta: 0,
          key: null,
          value: null,
          headers: [{ key: 'h', value: null }],
        },
      ],
    };
    const decoded = await kafkajsDecode(encodeRecordBatch(batch));
    expect(decoded.records[0]!.headers).toEqual({ h: null });
  });

  it('kafkajs mangles decoded headers named after Object.prototype members', async () => {
    const batch: RecordBatch = {
      ...spoolEquivalent(FIXED_CASES[0]![1], CompressionType.None),
      lastOffsetDelta: 0,
      records: [
        {
          attributes: 0,
          timestampDelta: 0,
          offsetDelta: 0,
          key: null,
          value: null,
          headers: [
            { key: 'constructor', value: Buffer.from('c') },
            { key: 'plain', value: Buffer.from('p') },
          ],
        },
      ],
    };
    const bytes = encodeRecordBatch(batch);
    // Spool reads the header back as written...
    expect(decodeRecordBatch(bytes).records[0]!.headers).toEqual(batch.records[0]!.headers);
    // ...while kafkajs finds Object.prototype.constructor already "present" and makes an array of both.
    const { headers } = (await kafkajsDecode(bytes)).records[0]!;
    expect(headers.plain).toEqual(Buffer.from('p'));
    expect(headers.constructor).toEqual([Object, Buffer.from('c')]);
  });
});
