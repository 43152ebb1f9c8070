import { field, message } from '../wire/schema.js';

/** DeleteGroups (key 42): delete empty groups and their committed offsets. */
export const DeleteGroupsRequest = message({
  name: 'DeleteGroupsRequest',
  apiKey: 42,
  kind: 'request',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [field.primitiveArray('groupsNames', 'string', '0+')],
});

export const DeleteGroupsResponse = message({
  name: 'DeleteGroupsResponse',
  apiKey: 42,
  kind: 'response',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    field.int32('throttleTimeMs', '0+'),
    field.array('results', '0+', [field.string('groupId', '0+'), field.int16('errorCode', '0+')]),
  ],
});
