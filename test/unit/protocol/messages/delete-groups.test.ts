import { describe } from 'vitest';
import { DeleteGroupsRequest, DeleteGroupsResponse } from '../../../../protocol/messages/delete-groups.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('DeleteGroups', () => {
  roundTripEveryVersion([DeleteGroupsRequest, DeleteGroupsResponse]);
});
