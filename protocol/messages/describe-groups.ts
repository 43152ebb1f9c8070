import { field, message } from '../wire/schema.js';

/**
 * DescribeGroups (key 15): state, protocol and members of classic groups. v3 can ask for the
 * authorized operations; v4 adds members' group instance ids; v5 is the first flexible version.
 */
export const DescribeGroupsRequest = message({
  name: 'DescribeGroupsRequest',
  apiKey: 15,
  kind: 'request',
  validVersions: '0-5',
  flexibleVersions: '5+',
  fields: [field.primitiveArray('groups', 'string', '0+'), field.bool('includeAuthorizedOperations', '3+')],
});

export const DescribeGroupsResponse = message({
  name: 'DescribeGroupsResponse',
  apiKey: 15,
  kind: 'response',
  validVersions: '0-5',
  flexibleVersions: '5+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.array('groups', '0+', [
      field.int16('errorCode', '0+'),
      field.string('groupId', '0+'),
      field.string('groupState', '0+'),
      field.string('protocolType', '0+'),
      // Only filled in while the group is Stable; a Dead group always has no members.
      field.string('protocolData', '0+'),
      field.array('members', '0+', [
        field.string('memberId', '0+'),
        field.string('groupInstanceId', '4+', { nullable: '4+', default: null }),
        field.string('clientId', '0+'),
        field.string('clientHost', '0+'),
        field.bytes('memberMetadata', '0+'),
        field.bytes('memberAssignment', '0+'),
      ]),
      // INT32_MIN means "not requested".
      field.int32('authorizedOperations', '3+', { default: -2147483648 }),
    ]),
  ],
});
