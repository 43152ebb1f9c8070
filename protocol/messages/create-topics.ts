import { field, message } from '../wire/schema.js';

/** CreateTopics (key 19): create topics with a partition count or explicit assignments. Versions 0-7, flexible from 5. */
export const CreateTopicsRequest = message({
  name: 'CreateTopicsRequest',
  apiKey: 19,
  kind: 'request',
  validVersions: '0-7',
  flexibleVersions: '5+',
  fields: [
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.int32('numPartitions', '0+'),
      field.int16('replicationFactor', '0+'),
      field.array('assignments', '0+', [
        field.int32('partitionIndex', '0+'),
        field.primitiveArray('brokerIds', 'int32', '0+'),
      ]),
      field.array('configs', '0+', [
        field.string('name', '0+'),
        field.string('value', '0+', { nullable: '0+' }),
      ]),
    ]),
    field.int32('timeoutMs', '0+', { default: 60000 }),
    field.bool('validateOnly', '1+', { default: false }),
  ],
});

export const CreateTopicsResponse = message({
  name: 'CreateTopicsResponse',
  apiKey: 19,
  kind: 'response',
  validVersions: '0-7',
  flexibleVersions: '5+',
  fields: [
    field.int32('throttleTimeMs', '2+'),
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.uuid('topicId', '7+'),
      field.int16('errorCode', '0+'),
      field.string('errorMessage', '1+', { nullable: '0+' }),
      field.int16('topicConfigErrorCode', '5+', { tag: 0, taggedVersions: '5+' }),
      field.int32('numPartitions', '5+', { default: -1 }),
      field.int16('replicationFactor', '5+', { default: -1 }),
      field.array(
        'configs',
        '5+',
        [
          field.string('name', '5+'),
          field.string('value', '5+', { nullable: '5+' }),
          field.bool('readOnly', '5+'),
          field.int8('configSource', '5+', { default: -1 }),
          field.bool('isSensitive', '5+'),
        ],
        { nullable: '5+' },
      ),
    ]),
  ],
});
