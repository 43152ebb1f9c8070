import { field, message } from '../wire/schema.js';

/** Heartbeat (key 12): a classic-group member tells its coordinator it is alive. */
export const HeartbeatRequest = message({
  name: 'HeartbeatRequest',
  apiKey: 12,
  kind: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    field.string('groupId', '0+'),
    field.int32('generationId', '0+'),
    field.string('memberId', '0+'),
    field.string('groupInstanceId', '3+', { nullable: '3+', default: null }),
  ],
});

export const HeartbeatResponse = message({
  name: 'HeartbeatResponse',
  apiKey: 12,
  kind: 'response',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [field.int32('throttleTimeMs', '1+'), field.int16('errorCode', '0+')],
});
