import { describe } from 'vitest';
import { AlterConfigsRequest, AlterConfigsResponse } from '../../../../protocol/messages/alter-configs.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('AlterConfigs', () => {
  roundTripEveryVersion([AlterConfigsRequest, AlterConfigsResponse]);
});
