import { describe, expect, it } from 'vitest';
import { FetchRequest, FetchResponse, SPOOL_FETCH_TAG } from '../../../../protocol/messages/fetch.js';
import { decodeMessage, encodeMessage } from '../../../../protocol/wire/codec.js';
import type { FieldSchema, MessageInput, MessageSchema } from '../../../../protocol/wire/schema.js';
import { expectWire } from '../../../helpers/expect-wire.js';

/**
 * Spool's tagged fields in Fetch (tag 0x5350): the consumer's tag filter per topic in the request,
 * and an error message per partition in the response. Kafka's own fields and bytes are unchanged.
 */

/** The schema as Apache Kafka declares it: Spool's fields removed, at any depth. */
function withoutSpoolFields<S extends MessageSchema>(schema: S): S {
  const strip = (fields: readonly FieldSchema[]): FieldSchema[] =>
    fields
      .filter((f) => f.tag !== SPOOL_FETCH_TAG)
      .map((f) =>
        f.type.kind === 'struct' || f.type.kind === 'structArray'
          ? { ...f, type: { ...f.type, fields: strip(f.type.fields) } }
          : f,
      );
  return { ...schema, fields: strip(schema.fields) };
}

const KafkaFetchRequest = withoutSpoolFields(FetchRequest);

/** Encodes a request given loosely (nested fields left out take their defaults, as on the wire). */
function encodeRequest(schema: MessageSchema, version: number, value: object): Buffer {
  return encodeMessage(schema, version, value as MessageInput<MessageSchema>);
}

const V12_REQUEST = {
  replicaId: -1,
  maxWaitMs: 500,
  minBytes: 1,
  topics: [
    {
      topic: 'foo',
      partitions: [{ partition: 1, currentLeaderEpoch: 3, fetchOffset: 100, partitionMaxBytes: 1048576 }],
    },
  ],
};

const V12_REQUEST_HEX = [
  'ffffffff 000001f4 00000001 7fffffff 00 00000000 ffffffff', // replicaId .. sessionEpoch
  '02 04 666f6f', // topics: 1, "foo"
  '02 00000001 00000003 0000000000000064 ffffffff ffffffffffffffff 00100000 00', // partition 1
];

describe('Fetch: Spool tag filter extension', () => {
  it('uses a tag far above Kafka’s, encoded as a 3-byte unsigned varint', () => {
    expect(SPOOL_FETCH_TAG).toBe(21328);
    const kafkaTags = (fields: readonly FieldSchema[]): number[] =>
      fields.flatMap((f) => [
        ...(f.tag !== undefined && f.tag !== SPOOL_FETCH_TAG ? [f.tag] : []),
        ...(f.type.kind === 'struct' || f.type.kind === 'structArray' ? kafkaTags(f.type.fields) : []),
      ]);
    expect(Math.max(...kafkaTags(FetchRequest.fields), ...kafkaTags(FetchResponse.fields))).toBeLessThan(8);
  });

  it('encodes a v12 request with a filter: one tagged field in the topic', () => {
    expectWire(
      FetchRequest,
      12,
      { ...V12_REQUEST, topics: [{ ...V12_REQUEST.topics[0], spoolTagFilter: 'a || b' }] },
      ...V12_REQUEST_HEX,
      '01', // topic: 1 tagged field
      'd0a601', // tag 21328 (0x5350) as an unsigned varint
      '07', // its size: 7 bytes
      '07 61207c7c2062', // compact string "a || b"
      '01 01 00', // forgottenTopicsData: empty, rackId: "", request: no tagged fields
    );
  });

  it('leaves a request without a filter byte-identical to Kafka’s encoding', () => {
    const hex = [...V12_REQUEST_HEX, '00', '01 01 00'].join('').replace(/\s+/g, '');
    expectWire(FetchRequest, 12, V12_REQUEST, hex);
    for (const version of [12, 13, 15, 17]) {
      const value = { ...V12_REQUEST, topics: [{ ...V12_REQUEST.topics[0], spoolTagFilter: null }] };
      expect(encodeRequest(FetchRequest, version, value)).toEqual(
        encodeRequest(KafkaFetchRequest, version, V12_REQUEST),
      );
    }
  });

  it('is skipped as an unknown tag by a decoder that follows Kafka’s schema', () => {
    const withFilter = encodeRequest(FetchRequest, 12, {
      ...V12_REQUEST,
      topics: [{ ...V12_REQUEST.topics[0], spoolTagFilter: '!test && (orders || refunds)' }],
    });
    const asKafka = decodeMessage(KafkaFetchRequest, 12, withFilter);
    expect(asKafka).toEqual(
      decodeMessage(KafkaFetchRequest, 12, encodeRequest(FetchRequest, 12, V12_REQUEST)),
    );
    expect(decodeMessage(FetchRequest, 12, withFilter).topics[0]!.spoolTagFilter).toBe(
      '!test && (orders || refunds)',
    );
  });

  it('does not exist before v12 (classic versions have no tagged fields)', () => {
    const value = { ...V12_REQUEST, topics: [{ ...V12_REQUEST.topics[0], spoolTagFilter: 'a' }] };
    const v11 = encodeRequest(FetchRequest, 11, value);
    expect(v11).toEqual(encodeRequest(FetchRequest, 11, V12_REQUEST));
    expect(decodeMessage(FetchRequest, 11, v11).topics[0]!.spoolTagFilter).toBeNull();
  });

  it('carries a partition error message in the response', () => {
    const partition = {
      partitionIndex: 0,
      errorCode: 42,
      highWatermark: -1,
      records: null,
      spoolErrorMessage: 'bad',
    };
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      responses: [{ topic: 't', partitions: [partition] }],
    };
    const bytes = encodeRequest(FetchResponse, 12, response);
    // The partition's tagged fields: 1 field, tag 0x5350, 4 bytes, compact "bad".
    expect(bytes.toString('hex')).toContain('01' + 'd0a601' + '04' + '04626164');
    expect(decodeMessage(FetchResponse, 12, bytes).responses[0]!.partitions[0]).toMatchObject(partition);
    const kafkaView = decodeMessage(withoutSpoolFields(FetchResponse), 12, bytes);
    expect(kafkaView.responses[0]!.partitions[0]).toMatchObject({ partitionIndex: 0, errorCode: 42 });
    const without = encodeRequest(FetchResponse, 12, {
      ...response,
      responses: [{ topic: 't', partitions: [{ ...partition, spoolErrorMessage: null }] }],
    });
    expect(without.length).toBe(bytes.length - 8); // tag (3) + size (1) + compact "bad" (4)
  });
});
