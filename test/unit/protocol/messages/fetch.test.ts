import { describe, expect, it } from 'vitest';
import { FetchRequest, FetchResponse } from '../../../../protocol/messages/fetch.js';
import { decodeMessage, encodeMessage } from '../../../../protocol/wire/codec.js';
import { expectWire } from '../../../helpers/expect-wire.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

const TOPIC_ID = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex').toString('base64url');

describe('Fetch', () => {
  roundTripEveryVersion([FetchRequest, FetchResponse], { numRuns: 25 });

  it('encodes a v4 request (classic)', () => {
    expectWire(
      FetchRequest,
      4,
      {
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 1048576,
        isolationLevel: 1,
        topics: [{ topic: 'foo', partitions: [{ partition: 0, fetchOffset: 42, partitionMaxBytes: 65536 }] }],
      },
      'ffffffff', // replicaId
      '000001f4', // maxWaitMs 500
      '00000001', // minBytes
      '00100000', // maxBytes (v3+)
      '01', // isolationLevel (v4+): READ_COMMITTED
      '00000001', // topics: count 1
      '0003 666f6f', // topic
      '00000001', // partitions: count 1
      '00000000', // partition
      '000000000000002a', // fetchOffset (currentLeaderEpoch is v9+, logStartOffset v5+)
      '00010000', // partitionMaxBytes
    );
  });

  it('encodes a v12 request (flexible, with a tagged clusterId)', () => {
    expectWire(
      FetchRequest,
      12,
      {
        clusterId: 'ab',
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        topics: [
          {
            topic: 'foo',
            partitions: [
              { partition: 1, currentLeaderEpoch: 3, fetchOffset: 100, partitionMaxBytes: 1048576 },
            ],
          },
        ],
        forgottenTopicsData: [{ topic: 'bar', partitions: [1, 2] }],
      },
      'ffffffff', // replicaId
      '000001f4', // maxWaitMs
      '00000001', // minBytes
      '7fffffff', // maxBytes: default
      '00', // isolationLevel: default
      '00000000', // sessionId: default 0
      'ffffffff', // sessionEpoch: default -1
      '02', // topics: compact count 1
      '04 666f6f', // topic: compact "foo"
      '02', // partitions: compact count 1
      '00000001', // partition
      '00000003', // currentLeaderEpoch
      '0000000000000064', // fetchOffset 100
      'ffffffff', // lastFetchedEpoch: default -1
      'ffffffffffffffff', // logStartOffset: default -1
      '00100000', // partitionMaxBytes
      '00', // partition: no tagged fields
      '00', // topic: no tagged fields
      '02', // forgottenTopicsData: compact count 1
      '04 626172', // topic: "bar"
      '03 00000001 00000002', // partitions: compact []int32 [1, 2]
      '00', // forgotten topic: no tagged fields
      '01', // rackId: compact empty string
      '01', // tagged fields: 1
      '00 03 03 6162', // tag 0 (clusterId), 3 bytes: compact "ab"
    );
  });

  it('encodes a v15 request: replicaId gone, replicaState tagged, topic IDs', () => {
    expectWire(
      FetchRequest,
      15,
      {
        replicaState: { replicaId: 4, replicaEpoch: 9 },
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 0,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topicId: TOPIC_ID, partitions: [] }],
        forgottenTopicsData: [],
        rackId: '',
      },
      '00000000 00000000 00000000', // maxWaitMs, minBytes, maxBytes
      '00 00000000 ffffffff', // isolationLevel, sessionId, sessionEpoch
      '02', // topics: compact count 1
      '000102030405060708090a0b0c0d0e0f', // topicId: 16 raw bytes
      '01', // partitions: compact empty
      '00', // topic: no tagged fields
      '01', // forgottenTopicsData: compact empty
      '01', // rackId: ""
      '01', // tagged fields: 1
      '01 0d', // tag 1 (replicaState), 13 bytes
      '00000004 0000000000000009 00', // replicaId, replicaEpoch, struct's empty tagged fields
    );
  });

  it('encodes a v4 response (classic, aborted transactions)', () => {
    expectWire(
      FetchResponse,
      4,
      {
        throttleTimeMs: 0,
        responses: [
          {
            topic: 'foo',
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 10,
                lastStableOffset: 8,
                abortedTransactions: [{ producerId: 5, firstOffset: 3 }],
                records: Buffer.from([0xaa, 0xbb]),
              },
            ],
          },
        ],
      },
      '00000000', // throttleTimeMs
      '00000001', // responses: count 1
      '0003 666f6f', // topic
      '00000001', // partitions: count 1
      '00000000', // partitionIndex
      '0000', // errorCode
      '000000000000000a', // highWatermark
      '0000000000000008', // lastStableOffset (v4+)
      '00000001', // abortedTransactions: count 1
      '0000000000000005 0000000000000003', // producerId, firstOffset
      '00000002 aabb', // records: int32 length 2
    );
  });

  it('encodes a v12 response (flexible, tagged currentLeader, null abortedTransactions)', () => {
    expectWire(
      FetchResponse,
      12,
      {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 7,
        responses: [
          {
            topic: 'foo',
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 10,
                lastStableOffset: 10,
                logStartOffset: 0,
                currentLeader: { leaderId: 1, leaderEpoch: 3 },
                abortedTransactions: null,
                preferredReadReplica: -1,
                records: Buffer.from([0xaa, 0xbb]),
              },
            ],
          },
        ],
      },
      '00000000', // throttleTimeMs
      '0000', // errorCode
      '00000007', // sessionId
      '02', // responses: compact count 1
      '04 666f6f', // topic: "foo"
      '02', // partitions: compact count 1
      '00000000', // partitionIndex
      '0000', // errorCode
      '000000000000000a', // highWatermark
      '000000000000000a', // lastStableOffset
      '0000000000000000', // logStartOffset
      '00', // abortedTransactions: compact null
      'ffffffff', // preferredReadReplica
      '03 aabb', // records: compact length 2+1
      '01', // partition tagged fields: 1 (divergingEpoch, snapshotId at defaults are left out)
      '01 09 00000001 00000003 00', // tag 1 (currentLeader), 9 bytes
      '00', // topic: no tagged fields
      '00', // response: no tagged fields
    );
  });

  it('reads absent tagged structs as their defaults, and leaves them out when re-encoding', () => {
    const bytes = encodeMessage(FetchResponse, 16, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, records: null }] }],
    } as never);
    const decoded = decodeMessage(FetchResponse, 16, bytes);
    const partition = decoded.responses[0]!.partitions[0]!;
    expect(partition.divergingEpoch).toEqual({ epoch: -1, endOffset: -1 });
    expect(partition.currentLeader).toEqual({ leaderId: -1, leaderEpoch: -1 });
    expect(partition.snapshotId).toEqual({ endOffset: -1, epoch: -1 });
    expect(encodeMessage(FetchResponse, 16, decoded)).toEqual(bytes);
  });
});
