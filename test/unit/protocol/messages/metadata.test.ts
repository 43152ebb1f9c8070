import { describe, it } from 'vitest';
import { MetadataRequest, MetadataResponse } from '../../../../protocol/messages/metadata.js';
import { expectWire } from '../../../helpers/expect-wire.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

const TOPIC_ID = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex').toString('base64url');

describe('Metadata', () => {
  roundTripEveryVersion([MetadataRequest, MetadataResponse], { numRuns: 30 });

  it('encodes a v0 request (all topics is an empty array) and a v1 request (null)', () => {
    expectWire(MetadataRequest, 0, { topics: [] }, '00000000');
    expectWire(MetadataRequest, 1, { topics: null }, 'ffffffff');
  });

  it('encodes a v4 request (classic, allowAutoTopicCreation)', () => {
    expectWire(
      MetadataRequest,
      4,
      { topics: [{ name: 'foo' }], allowAutoTopicCreation: false },
      '00000001', // topics: count 1
      '0003 666f6f', // name
      '00', // allowAutoTopicCreation: false
    );
  });

  it('encodes a v9 request (flexible)', () => {
    expectWire(
      MetadataRequest,
      9,
      {
        topics: [{ name: 'foo' }],
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: true,
      },
      '02', // topics: compact count 1
      '04 666f6f 00', // name: compact "foo"; topic: no tagged fields
      '01', // allowAutoTopicCreation
      '00', // includeClusterAuthorizedOperations (v8-10)
      '01', // includeTopicAuthorizedOperations
      '00', // no tagged fields
    );
  });

  it('encodes a v12 request by topic ID (null name)', () => {
    expectWire(
      MetadataRequest,
      12,
      { topics: [{ topicId: TOPIC_ID, name: null }], includeTopicAuthorizedOperations: false },
      '02', // topics: compact count 1
      '000102030405060708090a0b0c0d0e0f', // topicId (v10+) comes before name
      '00', // name: compact null (nullable from v10)
      '00', // topic: no tagged fields
      '01', // allowAutoTopicCreation: default true
      '00', // includeTopicAuthorizedOperations (includeCluster... is gone after v10)
      '00', // no tagged fields
    );
  });

  it('encodes a v1 response (classic)', () => {
    expectWire(
      MetadataResponse,
      1,
      {
        brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 'foo',
            isInternal: false,
            partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
          },
        ],
      },
      '00000001', // brokers: count 1
      '00000001 0001 68 00002384', // nodeId, host "h", port 9092
      'ffff', // rack: null (v1+)
      '00000001', // controllerId (v1+; clusterId is v2+)
      '00000001', // topics: count 1
      '0000 0003 666f6f', // errorCode, name
      '00', // isInternal (v1+)
      '00000001', // partitions: count 1
      '0000 00000000 00000001', // errorCode, partitionIndex, leaderId
      '00000001 00000001', // replicaNodes: [1]
      '00000001 00000001', // isrNodes: [1]
    );
  });

  it('encodes a v12 response (flexible, null topic name)', () => {
    expectWire(
      MetadataResponse,
      12,
      {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: 'r1' }],
        clusterId: 'c',
        controllerId: 1,
        topics: [
          {
            errorCode: 3,
            name: null,
            topicId: TOPIC_ID,
            isInternal: false,
            partitions: [],
            topicAuthorizedOperations: -2147483648,
          },
        ],
      },
      '00000000', // throttleTimeMs
      '02', // brokers: compact count 1
      '00000001 02 68 00002384', // nodeId, host "h", port
      '03 7231 00', // rack "r1"; broker: no tagged fields
      '02 63', // clusterId "c"
      '00000001', // controllerId
      '02', // topics: compact count 1
      '0003', // errorCode: UNKNOWN_TOPIC_OR_PARTITION
      '00', // name: compact null (v12+)
      '000102030405060708090a0b0c0d0e0f', // topicId
      '00', // isInternal
      '01', // partitions: compact empty
      '80000000', // topicAuthorizedOperations: INT32_MIN
      '00', // topic: no tagged fields (clusterAuthorizedOperations is v8-10 only)
      '00', // no tagged fields
    );
  });
});
