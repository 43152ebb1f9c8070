import { describe } from 'vitest';
import { LeaveGroupRequest, LeaveGroupResponse } from '../../../../protocol/messages/leave-group.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('LeaveGroup', () => {
  roundTripEveryVersion([LeaveGroupRequest, LeaveGroupResponse]);
});
