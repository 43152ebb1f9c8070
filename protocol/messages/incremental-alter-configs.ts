import { field, message } from '../wire/schema.js';

/** IncrementalAlterConfigs' per-key operations (the request's `configOperation`). */
export const ConfigOperation = {
  SET: 0,
  DELETE: 1,
  APPEND: 2,
  SUBTRACT: 3,
} as const;

/**
 * IncrementalAlterConfigs (key 44): set, delete, append to or subtract from individual config keys
 * of a resource, leaving the others as they are. Versions 0-1, flexible from 1.
 */
export const IncrementalAlterConfigsRequest = message({
  name: 'IncrementalAlterConfigsRequest',
  apiKey: 44,
  kind: 'request',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    field.array('resources', '0+', [
      field.int8('resourceType', '0+'),
      field.string('resourceName', '0+'),
      field.array('configs', '0+', [
        field.string('name', '0+'),
        field.int8('configOperation', '0+'),
        field.string('value', '0+', { nullable: '0+' }),
      ]),
    ]),
    field.bool('validateOnly', '0+'),
  ],
});

export const IncrementalAlterConfigsResponse = message({
  name: 'IncrementalAlterConfigsResponse',
  apiKey: 44,
  kind: 'response',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    field.int32('throttleTimeMs', '0+'),
    field.array('responses', '0+', [
      field.int16('errorCode', '0+'),
      field.string('errorMessage', '0+', { nullable: '0+', default: null }),
      field.int8('resourceType', '0+'),
      field.string('resourceName', '0+'),
    ]),
  ],
});
