import { field, message } from '../wire/schema.js';

/**
 * Tag number of Spool's own tagged fields in Fetch (request: FetchTopic.spoolTagFilter; response:
 * PartitionData.spoolErrorMessage). These are Spool extensions, NOT part of Apache Kafka's
 * schema. 0x5350 ("SP") sits far above Kafka's tags (0-2 here), so a future Kafka tag cannot
 * collide with it soon; it is written as a 3-byte unsigned varint. Kafka brokers and clients skip
 * unknown tags, so a Spool client talking to Kafka loses only the filtering, never the fetch, and
 * Kafka clients never send it. Both fields default to null, which is left off the wire: a Fetch
 * without them is byte-identical to Kafka's.
 */
export const SPOOL_FETCH_TAG = 0x5350;

/**
 * Fetch (key 1): read record batches from partitions. Versions 0-17, flexible from 12.
 *
 * The non-nullable tagged structs (`replicaState`, `divergingEpoch`, `currentLeader`,
 * `snapshotId`) default to the struct of their field defaults, as Kafka reads an absent one;
 * the defaults are frozen because the decoder hands out the same object every time.
 */
export const FetchRequest = message({
  name: 'FetchRequest',
  apiKey: 1,
  kind: 'request',
  validVersions: '0-17',
  flexibleVersions: '12+',
  fields: [
    field.string('clusterId', '12+', { nullable: '12+', default: null, tag: 0, taggedVersions: '12+' }),
    field.int32('replicaId', '0-14', { default: -1 }),
    field.struct(
      'replicaState',
      '15+',
      [field.int32('replicaId', '15+', { default: -1 }), field.int64('replicaEpoch', '15+', { default: -1 })],
      { tag: 1, taggedVersions: '15+', default: Object.freeze({ replicaId: -1, replicaEpoch: -1 }) },
    ),
    field.int32('maxWaitMs', '0+'),
    field.int32('minBytes', '0+'),
    field.int32('maxBytes', '3+', { default: 0x7fffffff }),
    field.int8('isolationLevel', '4+', { default: 0 }),
    field.int32('sessionId', '7+', { default: 0 }),
    field.int32('sessionEpoch', '7+', { default: -1 }),
    field.array('topics', '0+', [
      field.string('topic', '0-12'),
      field.uuid('topicId', '13+'),
      field.array('partitions', '0+', [
        field.int32('partition', '0+'),
        field.int32('currentLeaderEpoch', '9+', { default: -1 }),
        field.int64('fetchOffset', '0+'),
        field.int32('lastFetchedEpoch', '12+', { default: -1 }),
        field.int64('logStartOffset', '5+', { default: -1 }),
        field.int32('partitionMaxBytes', '0+'),
        field.uuid('replicaDirectoryId', '17+', { tag: 0, taggedVersions: '17+' }),
      ]),
      // Spool extension (not Kafka's): a tag filter expression (protocol/tag-filter) for a
      // consumer's fetch; the broker returns only matching records. Null: no filter.
      field.string('spoolTagFilter', '12+', {
        nullable: '12+',
        default: null,
        tag: SPOOL_FETCH_TAG,
        taggedVersions: '12+',
      }),
    ]),
    field.array('forgottenTopicsData', '7+', [
      field.string('topic', '7-12'),
      field.uuid('topicId', '13+'),
      field.primitiveArray('partitions', 'int32', '7+'),
    ]),
    field.string('rackId', '11+', { default: '' }),
  ],
});

export const FetchResponse = message({
  name: 'FetchResponse',
  apiKey: 1,
  kind: 'response',
  validVersions: '0-17',
  flexibleVersions: '12+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.int16('errorCode', '7+'),
    field.int32('sessionId', '7+', { default: 0 }),
    field.array('responses', '0+', [
      field.string('topic', '0-12'),
      field.uuid('topicId', '13+'),
      field.array('partitions', '0+', [
        field.int32('partitionIndex', '0+'),
        field.int16('errorCode', '0+'),
        field.int64('highWatermark', '0+'),
        field.int64('lastStableOffset', '4+', { default: -1 }),
        field.int64('logStartOffset', '5+', { default: -1 }),
        field.struct(
          'divergingEpoch',
          '12+',
          [field.int32('epoch', '12+', { default: -1 }), field.int64('endOffset', '12+', { default: -1 })],
          { tag: 0, taggedVersions: '12+', default: Object.freeze({ epoch: -1, endOffset: -1 }) },
        ),
        field.struct(
          'currentLeader',
          '12+',
          [
            field.int32('leaderId', '12+', { default: -1 }),
            field.int32('leaderEpoch', '12+', { default: -1 }),
          ],
          { tag: 1, taggedVersions: '12+', default: Object.freeze({ leaderId: -1, leaderEpoch: -1 }) },
        ),
        field.struct(
          'snapshotId',
          '12+',
          [field.int64('endOffset', '0+', { default: -1 }), field.int32('epoch', '0+', { default: -1 })],
          { tag: 2, taggedVersions: '12+', default: Object.freeze({ endOffset: -1, epoch: -1 }) },
        ),
        field.array(
          'abortedTransactions',
          '4+',
          [field.int64('producerId', '4+'), field.int64('firstOffset', '4+')],
          { nullable: '4+' },
        ),
        field.int32('preferredReadReplica', '11+', { default: -1 }),
        field.records('records', '0+', { nullable: '0+' }),
        // Spool extension (not Kafka's): why the partition failed, e.g. an invalid spoolTagFilter
        // (Kafka's PartitionData has no error message). Null: none.
        field.string('spoolErrorMessage', '12+', {
          nullable: '12+',
          default: null,
          tag: SPOOL_FETCH_TAG,
          taggedVersions: '12+',
        }),
      ]),
    ]),
    field.array(
      'nodeEndpoints',
      '16+',
      [
        field.int32('nodeId', '16+'),
        field.string('host', '16+'),
        field.int32('port', '16+'),
        field.string('rack', '16+', { nullable: '16+', default: null }),
      ],
      { tag: 0, taggedVersions: '16+' },
    ),
  ],
});
