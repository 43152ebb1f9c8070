import { field, message } from '../wire/schema.js';

/** DeleteTopics (key 20): delete topics by name (or, from v6, by topic ID). Versions 0-6, flexible from 4. */
export const DeleteTopicsRequest = message({
  name: 'DeleteTopicsRequest',
  apiKey: 20,
  kind: 'request',
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: [
    field.array('topics', '6+', [
      field.string('name', '6+', { nullable: '6+', default: null }),
      field.uuid('topicId', '6+'),
    ]),
    field.primitiveArray('topicNames', 'string', '0-5'),
    field.int32('timeoutMs', '0+'),
  ],
});

export const DeleteTopicsResponse = message({
  name: 'DeleteTopicsResponse',
  apiKey: 20,
  kind: 'response',
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.array('responses', '0+', [
      field.string('name', '0+', { nullable: '6+' }),
      field.uuid('topicId', '6+'),
      field.int16('errorCode', '0+'),
      field.string('errorMessage', '5+', { nullable: '5+', default: null }),
    ]),
  ],
});
