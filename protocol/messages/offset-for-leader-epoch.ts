import { field, message } from '../wire/schema.js';

/**
 * OffsetForLeaderEpoch (key 23): the end offset of a leader epoch, used by followers and consumers
 * to detect and truncate diverged logs. Versions 0-4, flexible from 4. v2 adds currentLeaderEpoch
 * (fencing), v3 adds replicaId (-2: a "debug" consumer, -1: an ordinary consumer).
 */
export const OffsetForLeaderEpochRequest = message({
  name: 'OffsetForLeaderEpochRequest',
  apiKey: 23,
  kind: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    field.int32('replicaId', '3+', { default: -2 }),
    field.array('topics', '0+', [
      field.string('topic', '0+'),
      field.array('partitions', '0+', [
        field.int32('partition', '0+'),
        field.int32('currentLeaderEpoch', '2+', { default: -1 }),
        field.int32('leaderEpoch', '0+'),
      ]),
    ]),
  ],
});

export const OffsetForLeaderEpochResponse = message({
  name: 'OffsetForLeaderEpochResponse',
  apiKey: 23,
  kind: 'response',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    field.int32('throttleTimeMs', '2+'),
    field.array('topics', '0+', [
      field.string('topic', '0+'),
      field.array('partitions', '0+', [
        field.int16('errorCode', '0+'),
        field.int32('partition', '0+'),
        field.int32('leaderEpoch', '1+', { default: -1 }),
        field.int64('endOffset', '0+', { default: -1 }),
      ]),
    ]),
  ],
});
