import { describe } from 'vitest';
import {
  FindCoordinatorRequest,
  FindCoordinatorResponse,
} from '../../../../protocol/messages/find-coordinator.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('FindCoordinator', () => {
  roundTripEveryVersion([FindCoordinatorRequest, FindCoordinatorResponse]);
});
