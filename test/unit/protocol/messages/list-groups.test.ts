import { describe } from 'vitest';
import { ListGroupsRequest, ListGroupsResponse } from '../../../../protocol/messages/list-groups.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('ListGroups', () => {
  roundTripEveryVersion([ListGroupsRequest, ListGroupsResponse]);
});
