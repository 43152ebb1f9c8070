import { describe } from 'vitest';
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from '../../../../protocol/messages/incremental-alter-configs.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('IncrementalAlterConfigs', () => {
  roundTripEveryVersion([IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse]);
});
