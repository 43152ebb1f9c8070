import { field, message } from '../wire/schema.js';

/**
 * ListGroups (key 16): the groups a broker coordinates. v4 adds a state filter and each group's
 * state (KIP-518); v5 adds a type filter and each group's type (KIP-848).
 */
export const ListGroupsRequest = message({
  name: 'ListGroupsRequest',
  apiKey: 16,
  kind: 'request',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    field.primitiveArray('statesFilter', 'string', '4+'),
    field.primitiveArray('typesFilter', 'string', '5+'),
  ],
});

export const ListGroupsResponse = message({
  name: 'ListGroupsResponse',
  apiKey: 16,
  kind: 'response',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    field.int32('throttleTimeMs', '1+'),
    field.int16('errorCode', '0+'),
    field.array('groups', '0+', [
      field.string('groupId', '0+'),
      field.string('protocolType', '0+'),
      field.string('groupState', '4+'),
      field.string('groupType', '5+'),
    ]),
  ],
});
