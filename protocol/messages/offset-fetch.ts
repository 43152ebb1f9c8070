import { field, message } from '../wire/schema.js';

/**
 * OffsetFetch (key 9): a group's committed offsets. Up to v7 one group per request (v2+: null
 * topics means every topic, plus a top-level error code); v7 adds RequireStable; v8 batches
 * several groups; v9 adds the member id and epoch of the new consumer protocol (KIP-848).
 */
export const OffsetFetchRequest = message({
  name: 'OffsetFetchRequest',
  apiKey: 9,
  kind: 'request',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    field.string('groupId', '0-7'),
    field.array(
      'topics',
      '0-7',
      [field.string('name', '0-7'), field.primitiveArray('partitionIndexes', 'int32', '0-7')],
      { nullable: '2-7' },
    ),
    field.array('groups', '8+', [
      field.string('groupId', '8+'),
      field.string('memberId', '9+', { nullable: '9+', default: null }),
      field.int32('memberEpoch', '9+', { default: -1 }),
      field.array(
        'topics',
        '8+',
        [field.string('name', '8+'), field.primitiveArray('partitionIndexes', 'int32', '8+')],
        { nullable: '8+' },
      ),
    ]),
    field.bool('requireStable', '7+', { default: false }),
  ],
});

export const OffsetFetchResponse = message({
  name: 'OffsetFetchResponse',
  apiKey: 9,
  kind: 'response',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    field.int32('throttleTimeMs', '3+'),
    field.array('topics', '0-7', [
      field.string('name', '0-7'),
      field.array('partitions', '0-7', [
        field.int32('partitionIndex', '0-7'),
        field.int64('committedOffset', '0-7'),
        field.int32('committedLeaderEpoch', '5-7', { default: -1 }),
        field.string('metadata', '0-7', { nullable: '0-7' }),
        field.int16('errorCode', '0-7'),
      ]),
    ]),
    field.int16('errorCode', '2-7', { default: 0 }),
    field.array('groups', '8+', [
      field.string('groupId', '8+'),
      field.array('topics', '8+', [
        field.string('name', '8+'),
        field.array('partitions', '8+', [
          field.int32('partitionIndex', '8+'),
          field.int64('committedOffset', '8+'),
          field.int32('committedLeaderEpoch', '8+', { default: -1 }),
          field.string('metadata', '8+', { nullable: '8+' }),
          field.int16('errorCode', '8+'),
        ]),
      ]),
      field.int16('errorCode', '8+', { default: 0 }),
    ]),
  ],
});
