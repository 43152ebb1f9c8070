import { describe } from 'vitest';
import {
  InitProducerIdRequest,
  InitProducerIdResponse,
} from '../../../../protocol/messages/init-producer-id.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

describe('InitProducerId', () => {
  roundTripEveryVersion([InitProducerIdRequest, InitProducerIdResponse]);
});
