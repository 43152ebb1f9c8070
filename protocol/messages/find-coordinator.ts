import { field, message } from '../wire/schema.js';

/**
 * FindCoordinator (key 10): which broker coordinates a group (key type 0) or a transactional id
 * (key type 1). v4+ batches several keys in one request (KIP-699); v6 adds share groups (KIP-932).
 */
export const FindCoordinatorRequest = message({
  name: 'FindCoordinatorRequest',
  apiKey: 10,
  kind: 'request',
  validVersions: '0-6',
  flexibleVersions: '3+',
  fields: [
    field.string('key', '0-3'),
    field.int8('keyType', '1+', { default: 0 }),
    field.primitiveArray('coordinatorKeys', 'string', '4+'),
  ],
});

export const FindCoordinatorResponse = message({
  name: 'FindCoordinatorResponse',
  apiKey: 10,
  kind: 'response',
  validVersions: '0-6',
  flexibleVersions: '3+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.int16('errorCode', '0-3'),
    field.string('errorMessage', '1-3', { nullable: '1-3' }),
    field.int32('nodeId', '0-3'),
    field.string('host', '0-3'),
    field.int32('port', '0-3'),
    field.array('coordinators', '4+', [
      field.string('key', '4+'),
      field.int32('nodeId', '4+'),
      field.string('host', '4+'),
      field.int32('port', '4+'),
      field.int16('errorCode', '4+'),
      field.string('errorMessage', '4+', { nullable: '4+' }),
    ]),
  ],
});
