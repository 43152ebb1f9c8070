import { describe } from 'vitest';
import { DeleteTopicsRequest, DeleteTopicsResponse } from '../../../../protocol/messages/delete-topics.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('DeleteTopics', () => {
  roundTripEveryVersion([DeleteTopicsRequest, DeleteTopicsResponse], { numRuns: 30 });
});
