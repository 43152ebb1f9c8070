import { field, message } from '../wire/schema.js';

/** InitProducerId (key 22): allocate a producer ID and epoch for idempotent/transactional producers. Versions 0-5, flexible from 2. */
export const InitProducerIdRequest = message({
  name: 'InitProducerIdRequest',
  apiKey: 22,
  kind: 'request',
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: [
    field.string('transactionalId', '0+', { nullable: '0+' }),
    field.int32('transactionTimeoutMs', '0+'),
    field.int64('producerId', '3+', { default: -1 }),
    field.int16('producerEpoch', '3+', { default: -1 }),
  ],
});

export const InitProducerIdResponse = message({
  name: 'InitProducerIdResponse',
  apiKey: 22,
  kind: 'response',
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: [
    field.int32('throttleTimeMs', '0+'),
    field.int16('errorCode', '0+'),
    field.int64('producerId', '0+', { default: -1 }),
    field.int16('producerEpoch', '0+'),
  ],
});
