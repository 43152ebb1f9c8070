import { describe } from 'vitest';
import {
  DescribeGroupsRequest,
  DescribeGroupsResponse,
} from '../../../../protocol/messages/describe-groups.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('DescribeGroups', () => {
  roundTripEveryVersion([DescribeGroupsRequest, DescribeGroupsResponse]);
});
