import { describe } from 'vitest';
import { ListOffsetsRequest, ListOffsetsResponse } from '../../../../protocol/messages/list-offsets.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('ListOffsets', () => {
  roundTripEveryVersion([ListOffsetsRequest, ListOffsetsResponse], { numRuns: 30 });
});
