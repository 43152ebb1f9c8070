import { describe } from 'vitest';
import { HeartbeatRequest, HeartbeatResponse } from '../../../../protocol/messages/heartbeat.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('Heartbeat', () => {
  roundTripEveryVersion([HeartbeatRequest, HeartbeatResponse]);
});
