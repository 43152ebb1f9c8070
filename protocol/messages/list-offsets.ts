import { field, message } from '../wire/schema.js';

/** ListOffsets (key 2): find the offset for a timestamp (or earliest/latest). Versions 0-10, flexible from 6. */
export const ListOffsetsRequest = message({
  name: 'ListOffsetsRequest',
  apiKey: 2,
  kind: 'request',
  validVersions: '0-10',
  flexibleVersions: '6+',
  fields: [
    field.int32('replicaId', '0+'),
    field.int8('isolationLevel', '2+'),
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.array('partitions', '0+', [
        field.int32('partitionIndex', '0+'),
        field.int32('currentLeaderEpoch', '4+', { default: -1 }),
        field.int64('timestamp', '0+'),
        field.int32('maxNumOffsets', '0', { default: 1 }),
      ]),
    ]),
    field.int32('timeoutMs', '10+'),
  ],
});

export const ListOffsetsResponse = message({
  name: 'ListOffsetsResponse',
  apiKey: 2,
  kind: 'response',
  validVersions: '0-10',
  flexibleVersions: '6+',
  fields: [
    field.int32('throttleTimeMs', '2+'),
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.array('partitions', '0+', [
        field.int32('partitionIndex', '0+'),
        field.int16('errorCode', '0+'),
        field.primitiveArray('oldStyleOffsets', 'int64', '0'),
        field.int64('timestamp', '1+', { default: -1 }),
        field.int64('offset', '1+', { default: -1 }),
        field.int32('leaderEpoch', '4+', { default: -1 }),
      ]),
    ]),
  ],
});
