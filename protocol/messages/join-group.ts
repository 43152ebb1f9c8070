import { field, message } from '../wire/schema.js';

/**
 * JoinGroup (key 11): a member joins (or rejoins) a classic group. From v4 the first join of a
 * new member is answered with MEMBER_ID_REQUIRED and a member id to rejoin with; v5 adds static
 * membership (group.instance.id); v6 is the first flexible version; v8 adds the join reason.
 */
export const JoinGroupRequest = message({
  name: 'JoinGroupRequest',
  apiKey: 11,
  kind: 'request',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    field.string('groupId', '0+'),
    field.int32('sessionTimeoutMs', '0+'),
    // Absent in v0 (-1): the coordinator then uses the session timeout as the rebalance timeout.
    field.int32('rebalanceTimeoutMs', '1+', { default: -1 }),
    field.string('memberId', '0+'),
    field.string('groupInstanceId', '5+', { nullable: '5+', default: null }),
    field.string('protocolType', '0+'),
    field.array('protocols', '0+', [field.string('name', '0+'), field.bytes('metadata', '0+')]),
    field.string('reason', '8+', { nullable: '8+', default: null }),
  ],
});

export const JoinGroupResponse = message({
  name: 'JoinGroupResponse',
  apiKey: 11,
  kind: 'response',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: [
    field.int32('throttleTimeMs', '2+'),
    field.int16('errorCode', '0+'),
    field.int32('generationId', '0+', { default: -1 }),
    field.string('protocolType', '7+', { nullable: '7+', default: null }),
    field.string('protocolName', '0+', { nullable: '7+' }),
    field.string('leader', '0+'),
    field.bool('skipAssignment', '9+', { default: false }),
    field.string('memberId', '0+'),
    field.array('members', '0+', [
      field.string('memberId', '0+'),
      field.string('groupInstanceId', '5+', { nullable: '5+', default: null }),
      field.bytes('metadata', '0+'),
    ]),
  ],
});
