import { field, message } from '../wire/schema.js';

/**
 * SyncGroup (key 14): after a JoinGroup round the leader sends every member's assignment and every
 * member receives its own. v3 adds static membership; v5 adds protocol type and name (KIP-559).
 */
export const SyncGroupRequest = message({
  name: 'SyncGroupRequest',
  apiKey: 14,
  kind: 'request',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    field.string('groupId', '0+'),
    field.int32('generationId', '0+'),
    field.string('memberId', '0+'),
    field.string('groupInstanceId', '3+', { nullable: '3+', default: null }),
    field.string('protocolType', '5+', { nullable: '5+', default: null }),
    field.string('protocolName', '5+', { nullable: '5+', default: null }),
    field.array('assignments', '0+', [field.string('memberId', '0+'), field.bytes('assignment', '0+')]),
  ],
});

export const SyncGroupResponse = message({
  name: 'SyncGroupResponse',
  apiKey: 14,
  kind: 'response',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.int16('errorCode', '0+'),
    field.string('protocolType', '5+', { nullable: '5+', default: null }),
    field.string('protocolName', '5+', { nullable: '5+', default: null }),
    field.bytes('assignment', '0+'),
  ],
});
