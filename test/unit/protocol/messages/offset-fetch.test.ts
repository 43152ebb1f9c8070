import { describe } from 'vitest';
import { OffsetFetchRequest, OffsetFetchResponse } from '../../../../protocol/messages/offset-fetch.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('OffsetFetch', () => {
  roundTripEveryVersion([OffsetFetchRequest, OffsetFetchResponse]);
});
