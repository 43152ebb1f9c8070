import { describe } from 'vitest';
import {
  DescribeConfigsRequest,
  DescribeConfigsResponse,
} from '../../../../protocol/messages/describe-configs.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('DescribeConfigs', () => {
  roundTripEveryVersion([DescribeConfigsRequest, DescribeConfigsResponse], { numRuns: 30 });
});
