import { field, message } from '../wire/schema.js';

/**
 * LeaveGroup (key 13): members leave a classic group. Up to v2 one member leaves by member id; from
 * v3 a batch of members identified by member id and/or group instance id; v5 adds a reason.
 */
export const LeaveGroupRequest = message({
  name: 'LeaveGroupRequest',
  apiKey: 13,
  kind: 'request',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    field.string('groupId', '0+'),
    field.string('memberId', '0-2'),
    field.array('members', '3+', [
      field.string('memberId', '3+'),
      field.string('groupInstanceId', '3+', { nullable: '3+', default: null }),
      field.string('reason', '5+', { nullable: '5+', default: null }),
    ]),
  ],
});

export const LeaveGroupResponse = message({
  name: 'LeaveGroupResponse',
  apiKey: 13,
  kind: 'response',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.int16('errorCode', '0+'),
    field.array('members', '3+', [
      field.string('memberId', '3+'),
      field.string('groupInstanceId', '3+', { nullable: '3+' }),
      field.int16('errorCode', '3+'),
    ]),
  ],
});
