import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { filterRecordBatches } from '../../../broker/filter/batch-filter.js';
import { FetchTagFiltering, topicTagFilter } from '../../../broker/filter/fetch-tag-filter.js';
import {
  type BatchRecord,
  CompressionType,
  ControlRecordType,
  CRC_OFFSET,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  RECORD_BATCH_OVERHEAD,
  type RecordBatch,
  TimestampType,
} from '../../../protocol/record-batch/index.js';
import { TagFilter, tagsHeader } from '../../../protocol/tag-filter/index.js';
import { ALL_COMPRESSION_TYPES, recordBatchArb } from '../protocol/arbitraries.js';

const TAGS = ['a', 'b', 'c', 'd'];

/** Record i carries tag TAGS[i % 4], except every fifth, which has no tags header at all. */
function taggedBatch(
  compression: CompressionType,
  count = 20,
  extra: Partial<RecordBatch> = {},
): RecordBatch {
  const records: BatchRecord[] = Array.from({ length: count }, (_, i) => ({
    attributes: 0,
    timestampDelta: i * 3,
    offsetDelta: i,
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`value-${i}`.repeat(4)),
    headers: i % 5 === 4 ? [{ key: 'n', value: Buffer.from(String(i)) }] : [tagsHeader([TAGS[i % 4]!])],
  }));
  return {
    baseOffset: 1000,
    partitionLeaderEpoch: 7,
    compression,
    timestampType: TimestampType.CreateTime,
    isTransactional: false,
    isControl: false,
    hasDeleteHorizonMs: false,
    lastOffsetDelta: count - 1,
    baseTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + (count - 1) * 3,
    producerId: 4242,
    producerEpoch: 3,
    baseSequence: 100,
    records,
    ...extra,
  };
}

/** Every batch-level field except the records and their codec. */
function frame({ records: _records, compression: _compression, ...rest }: RecordBatch) {
  return rest;
}

const aOrB = TagFilter.parse('a || b');

describe('filterRecordBatches', () => {
  it.each(ALL_COMPRESSION_TYPES)(
    'rewrites a batch compressed with codec %i, keeping offsets and fields',
    (codec) => {
      const original = taggedBatch(codec);
      const input = encodeRecordBatch(original);
      const result = filterRecordBatches(input, aOrB);
      // decodeRecordBatch verifies the fresh CRC.
      const rewritten = decodeRecordBatch(result.records);
      expect(frame(rewritten)).toEqual(frame(original));
      expect(rewritten.compression).toBe(codec);
      const kept = original.records.filter((_, i) => i % 5 !== 4 && i % 4 < 2);
      expect(rewritten.records).toEqual(kept);
      expect(rewritten.records.map((r) => r.offsetDelta)).toEqual([0, 1, 5, 8, 12, 13, 16, 17]);
      expect(result.removedRecords).toBe(original.records.length - kept.length);
      expect(result.removedBytes).toBe(input.length - result.records.length);
      expect(result.records.length).toBeLessThan(input.length);
    },
  );

  it.each(ALL_COMPRESSION_TYPES)('leaves an empty batch spanning the same offsets (codec %i)', (codec) => {
    const original = taggedBatch(codec);
    const result = filterRecordBatches(encodeRecordBatch(original), TagFilter.parse('nothing-has-this'));
    // As Kafka's cleaner writes one: header only, no payload, compression none.
    expect(result.records.length).toBe(RECORD_BATCH_OVERHEAD);
    const empty = decodeRecordBatch(result.records);
    expect(empty.records).toEqual([]);
    expect(empty.compression).toBe(CompressionType.None);
    expect(frame(empty)).toEqual(frame(original));
    expect(empty.baseOffset + empty.lastOffsetDelta).toBe(1019);
    expect(result.removedRecords).toBe(20);
  });

  it('returns batches whose records all match as the very same bytes', () => {
    const input = encodeRecordBatch(taggedBatch(CompressionType.Gzip));
    expect(filterRecordBatches(input, TagFilter.parse('!zzz')).records).toBe(input);
    expect(filterRecordBatches(input, TagFilter.parse('*')).records).toBe(input);
  });

  it('passes control batches, corrupt batches and a partial tail through untouched', () => {
    const control = encodeRecordBatch({
      ...taggedBatch(CompressionType.None, 1, { baseOffset: 1020, isControl: true, isTransactional: true }),
      records: [
        {
          attributes: 0,
          timestampDelta: 0,
          offsetDelta: 0,
          key: Buffer.from([0, 0, 0, ControlRecordType.Commit]),
          value: Buffer.from([0, 0, 0, 0, 0, 0]),
          headers: [],
        },
      ],
    });
    const corrupt = encodeRecordBatch(taggedBatch(CompressionType.None, 5, { baseOffset: 1021 }));
    corrupt.writeUInt32BE(corrupt.readUInt32BE(CRC_OFFSET) ^ 1, CRC_OFFSET);
    const good = encodeRecordBatch(taggedBatch(CompressionType.Lz4, 8, { baseOffset: 1026 }));
    const tail = encodeRecordBatch(taggedBatch(CompressionType.None, 8, { baseOffset: 1034 })).subarray(
      0,
      70,
    );
    const result = filterRecordBatches(Buffer.concat([control, corrupt, good, tail]), aOrB);
    const out = result.records;
    expect(out.subarray(0, control.length)).toEqual(control);
    expect(out.subarray(control.length, control.length + corrupt.length)).toEqual(corrupt);
    expect(out.subarray(out.length - tail.length)).toEqual(tail);
    expect(result.undecodableBatches).toBe(1);
    expect(result.firstDecodeError).toBeInstanceOf(Error);
    const rewrittenGood = decodeRecordBatch(out, control.length + corrupt.length);
    expect(rewrittenGood.records.map((r) => r.offsetDelta)).toEqual([0, 1, 5]);
    expect(result.removedRecords).toBe(5);
  });

  it('over random batches and codecs: same frames, exactly the matching records, valid CRCs', () => {
    const expressions = ['a', 'a || b', '!a', 'a && !b', '(a || c) && !d', '!(a || b || c || d)'];
    const taggedRecordBatch = recordBatchArb({ maxRecords: 8 }).chain((batch) =>
      fc
        .array(fc.option(fc.subarray(TAGS), { nil: null }), {
          minLength: batch.records.length,
          maxLength: batch.records.length,
        })
        .map((tagLists) => ({
          batch: {
            ...batch,
            records: batch.records.map((record, i) => ({
              ...record,
              headers: [...(tagLists[i] === null ? [] : [tagsHeader(tagLists[i]!)]), ...record.headers],
            })),
          },
          tags: tagLists.map((list) => new Set(list ?? [])),
        })),
    );
    fc.assert(
      fc.property(
        fc.array(taggedRecordBatch, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...expressions),
        (batches, expression) => {
          const filter = TagFilter.parse(expression);
          const inputs = batches.map(({ batch }) => encodeRecordBatch(batch));
          const input = Buffer.concat(inputs);
          const result = filterRecordBatches(input, filter);
          const output = decodeRecordBatches(result.records);
          expect(output).toHaveLength(batches.length);
          let removed = 0;
          batches.forEach(({ batch, tags }, i) => {
            const out = output[i]!;
            expect(frame(out)).toEqual(frame(batch));
            if (batch.isControl) {
              expect(out.records).toEqual(batch.records);
              return;
            }
            const kept = batch.records.filter((_, r) => filter.matches(tags[r]!));
            removed += batch.records.length - kept.length;
            expect(out.records).toEqual(kept);
            const allRemoved = kept.length === 0 && batch.records.length > 0;
            expect(out.compression).toBe(allRemoved ? CompressionType.None : batch.compression);
          });
          expect(result.removedRecords).toBe(removed);
          if (removed === 0) expect(result.records).toBe(input);
          expect(result.removedBytes).toBeGreaterThanOrEqual(input.length - result.records.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('FetchTagFiltering', () => {
  it('treats null and * as no filter, and turns a syntax error into its message', () => {
    expect(topicTagFilter(null)).toEqual({ kind: 'none' });
    expect(topicTagFilter(' * ')).toEqual({ kind: 'none' });
    expect(topicTagFilter('a || b')).toMatchObject({ kind: 'filter' });
    expect(topicTagFilter('a |')).toEqual({
      kind: 'invalid',
      message: 'invalid tag filter at position 2: single "|"; the operator is "||"',
    });
  });

  it('reports what it dropped and logs an undecodable batch once', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const counted: Array<[number, number]> = [];
    const filtering = new FetchTagFiltering(logger, {
      onFilteredRecords: (records, bytes) => counted.push([records, bytes]),
    });
    const corrupt = encodeRecordBatch(taggedBatch(CompressionType.None, 5));
    corrupt.writeUInt32BE(corrupt.readUInt32BE(CRC_OFFSET) ^ 1, CRC_OFFSET);
    const good = encodeRecordBatch(taggedBatch(CompressionType.None));
    const where = { topic: 't', partition: 0 };
    const out = filtering.apply(Buffer.concat([corrupt, good]), aOrB, where);
    filtering.apply(corrupt, aOrB, where);
    expect(out.subarray(0, corrupt.length)).toEqual(corrupt);
    expect(counted).toEqual([[12, good.length - (out.length - corrupt.length)]]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ topic: 't', partition: 0, batches: 1 });
  });
});
