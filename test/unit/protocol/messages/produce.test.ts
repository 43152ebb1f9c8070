import { describe, expect, it } from 'vitest';
import { ProduceRequest, ProduceResponse } from '../../../../protocol/messages/produce.js';
import { decodeMessage } from '../../../../protocol/wire/codec.js';
import { expectWire } from '../../../helpers/expect-wire.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('Produce', () => {
  roundTripEveryVersion([ProduceRequest, ProduceResponse], { numRuns: 30 });

  it('encodes a v3 request (classic)', () => {
    expectWire(
      ProduceRequest,
      3,
      {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30000,
        topicData: [{ name: 'foo', partitionData: [{ index: 0, records: Buffer.from([1, 2, 3]) }] }],
      },
      'ffff', // transactionalId: null string, int16 length -1
      'ffff', // acks: int16 -1
      '00007530', // timeoutMs: int32 30000
      '00000001', // topicData: int32 count 1
      '0003 666f6f', // name: int16 length 3, "foo"
      '00000001', // partitionData: int32 count 1
      '00000000', // index: int32 0
      '00000003 010203', // records: int32 length 3, bytes
    );
  });

  it('encodes a v2 request without transactionalId (it exists from v3)', () => {
    expectWire(
      ProduceRequest,
      2,
      { acks: 1, timeoutMs: 1000, topicData: [] },
      '0001', // acks
      '000003e8', // timeoutMs
      '00000000', // topicData: empty
    );
  });

  it('encodes a v9 request (flexible: compact strings, arrays, records)', () => {
    expectWire(
      ProduceRequest,
      9,
      {
        transactionalId: 'tx',
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'foo', partitionData: [{ index: 2, records: null }] }],
      },
      '03 7478', // transactionalId: compact length 2+1, "tx"
      '0001', // acks
      '000003e8', // timeoutMs
      '02', // topicData: compact count 1+1
      '04 666f6f', // name: compact length 3+1, "foo"
      '02', // partitionData: compact count 1+1
      '00000002', // index
      '00', // records: compact null
      '00', // partition: no tagged fields
      '00', // topic: no tagged fields
      '00', // request: no tagged fields
    );
  });

  it('encodes a v7 response (classic)', () => {
    expectWire(
      ProduceResponse,
      7,
      {
        responses: [
          {
            name: 'foo',
            partitionResponses: [
              { index: 1, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1, logStartOffset: 0 },
            ],
          },
        ],
        throttleTimeMs: 5,
      },
      '00000001', // responses: count 1
      '0003 666f6f', // name
      '00000001', // partitionResponses: count 1
      '00000001', // index
      '0000', // errorCode
      '000000000000002a', // baseOffset: int64 42
      'ffffffffffffffff', // logAppendTimeMs: -1 (v2+)
      '0000000000000000', // logStartOffset: 0 (v5+)
      '00000005', // throttleTimeMs (v1+)
    );
  });

  it('encodes a v10 response with tagged currentLeader and nodeEndpoints', () => {
    expectWire(
      ProduceResponse,
      10,
      {
        responses: [
          {
            name: 't',
            partitionResponses: [
              {
                index: 0,
                errorCode: 6,
                baseOffset: -1,
                logAppendTimeMs: -1,
                logStartOffset: -1,
                recordErrors: [],
                errorMessage: null,
                currentLeader: { leaderId: 2, leaderEpoch: 5 },
              },
            ],
          },
        ],
        throttleTimeMs: 0,
        nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
      },
      '02', // responses: compact count 1
      '02 74', // name: "t"
      '02', // partitionResponses: compact count 1
      '00000000', // index
      '0006', // errorCode: NOT_LEADER_OR_FOLLOWER
      'ffffffffffffffff', // baseOffset
      'ffffffffffffffff', // logAppendTimeMs
      'ffffffffffffffff', // logStartOffset
      '01', // recordErrors: compact empty
      '00', // errorMessage: compact null
      '01', // partition tagged fields: 1
      '00 09', // tag 0 (currentLeader), 9 bytes
      '00000002 00000005 00', // leaderId, leaderEpoch, struct's own empty tagged fields
      '00', // topic: no tagged fields
      '00000000', // throttleTimeMs
      '01', // response tagged fields: 1
      '00 0d', // tag 0 (nodeEndpoints), 13 bytes
      '02', // compact count 1
      '00000002 02 68 00002384 00', // nodeId 2, host "h", port 9092, rack null
      '00', // endpoint: no tagged fields
    );
  });

  it('reads an absent tagged currentLeader as the struct of defaults', () => {
    const bytes = Buffer.from(
      '02 0274 02 00000000 0000 0000000000000000 ffffffffffffffff ffffffffffffffff 01 00 00 00 00000000 00'.replace(
        /\s+/g,
        '',
      ),
      'hex',
    );
    const decoded = decodeMessage(ProduceResponse, 10, bytes);
    expect(decoded.responses[0]?.partitionResponses[0]?.currentLeader).toEqual({
      leaderId: -1,
      leaderEpoch: -1,
    });
    expect(decoded.nodeEndpoints).toEqual([]);
  });
});
