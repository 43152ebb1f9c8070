import { describe } from 'vitest';
import {
  DescribeClusterRequest,
  DescribeClusterResponse,
} from '../../../../protocol/messages/describe-cluster.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('DescribeCluster', () => {
  roundTripEveryVersion([DescribeClusterRequest, DescribeClusterResponse]);
});
