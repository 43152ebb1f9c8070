import { describe } from 'vitest';
import { CreateTopicsRequest, CreateTopicsResponse } from '../../../../protocol/messages/create-topics.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('CreateTopics', () => {
  roundTripEveryVersion([CreateTopicsRequest, CreateTopicsResponse], { numRuns: 30 });
});
