import { describe } from 'vitest';
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
} from '../../../../protocol/messages/create-partitions.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('CreatePartitions', () => {
  roundTripEveryVersion([CreatePartitionsRequest, CreatePartitionsResponse]);
});
