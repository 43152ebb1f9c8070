import { describe } from 'vitest';
import { SyncGroupRequest, SyncGroupResponse } from '../../../../protocol/messages/sync-group.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('SyncGroup', () => {
  roundTripEveryVersion([SyncGroupRequest, SyncGroupResponse]);
});
