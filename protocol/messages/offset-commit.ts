import { field, message } from '../wire/schema.js';

/**
 * OffsetCommit (key 8): a group member commits consumed offsets. v1 adds the generation, member id
 * and a per-partition commit timestamp (v1 only); v2-v4 carry a retention time instead; v6 adds
 * the leader epoch; v7 static membership; v8 is the first flexible version; v9 is v8 usable with
 * the new consumer protocol (KIP-848), where the generation field carries the member epoch.
 */
export const OffsetCommitRequest = message({
  name: 'OffsetCommitRequest',
  apiKey: 8,
  kind: 'request',
  validVersions: '0-9',
  flexibleVersions: '8+',
  fields: [
    field.string('groupId', '0+'),
    field.int32('generationIdOrMemberEpoch', '1+', { default: -1 }),
    field.string('memberId', '1+'),
    field.string('groupInstanceId', '7+', { nullable: '7+', default: null }),
    field.int64('retentionTimeMs', '2-4', { default: -1 }),
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.array('partitions', '0+', [
        field.int32('partitionIndex', '0+'),
        field.int64('committedOffset', '0+'),
        field.int32('committedLeaderEpoch', '6+', { default: -1 }),
        field.int64('commitTimestamp', '1', { default: -1 }),
        field.string('committedMetadata', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
});

export const OffsetCommitResponse = message({
  name: 'OffsetCommitResponse',
  apiKey: 8,
  kind: 'response',
  validVersions: '0-9',
  flexibleVersions: '8+',
  fields: [
    field.int32('throttleTimeMs', '3+'),
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.array('partitions', '0+', [field.int32('partitionIndex', '0+'), field.int16('errorCode', '0+')]),
    ]),
  ],
});
