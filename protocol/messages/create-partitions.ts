import { field, message } from '../wire/schema.js';

/** CreatePartitions (key 37): raise a topic's partition count. Versions 0-3, flexible from 2. */
export const CreatePartitionsRequest = message({
  name: 'CreatePartitionsRequest',
  apiKey: 37,
  kind: 'request',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    field.array('topics', '0+', [
      field.string('name', '0+'),
      field.int32('count', '0+'),
      field.array('assignments', '0+', [field.primitiveArray('brokerIds', 'int32', '0+')], {
        nullable: '0+',
      }),
    ]),
    field.int32('timeoutMs', '0+'),
    field.bool('validateOnly', '0+'),
  ],
});

export const CreatePartitionsResponse = message({
  name: 'CreatePartitionsResponse',
  apiKey: 37,
  kind: 'response',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    field.int32('throttleTimeMs', '0+'),
    field.array('results', '0+', [
      field.string('name', '0+'),
      field.int16('errorCode', '0+'),
      field.string('errorMessage', '0+', { nullable: '0+', default: null }),
    ]),
  ],
});
