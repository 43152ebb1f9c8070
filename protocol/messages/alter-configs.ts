import { field, message } from '../wire/schema.js';

/**
 * AlterConfigs (key 33): replace a resource's whole set of config overrides (keys left out go back
 * to their defaults). Versions 0-2, flexible from 2. Superseded by IncrementalAlterConfigs.
 */
export const AlterConfigsRequest = message({
  name: 'AlterConfigsRequest',
  apiKey: 33,
  kind: 'request',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    field.array('resources', '0+', [
      field.int8('resourceType', '0+'),
      field.string('resourceName', '0+'),
      field.array('configs', '0+', [
        field.string('name', '0+'),
        field.string('value', '0+', { nullable: '0+' }),
      ]),
    ]),
    field.bool('validateOnly', '0+'),
  ],
});

export const AlterConfigsResponse = message({
  name: 'AlterConfigsResponse',
  apiKey: 33,
  kind: 'response',
  validVersions: '0-2',
  flexibleVersions: '2+',
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
