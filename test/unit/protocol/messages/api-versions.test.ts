import { describe } from 'vitest';
import { ApiVersionsRequest, ApiVersionsResponse } from '../../../../protocol/messages/api-versions.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('ApiVersions', () => {
  roundTripEveryVersion([ApiVersionsRequest, ApiVersionsResponse]);
});
