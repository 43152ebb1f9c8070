import { field, message } from '../wire/schema.js';

/** DescribeConfigs (key 32): read topic and broker configuration. Versions 0-4, flexible from 4. */
export const DescribeConfigsRequest = message({
  name: 'DescribeConfigsRequest',
  apiKey: 32,
  kind: 'request',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    field.array('resources', '0+', [
      field.int8('resourceType', '0+'),
      field.string('resourceName', '0+'),
      field.primitiveArray('configurationKeys', 'string', '0+', { nullable: '0+' }),
    ]),
    field.bool('includeSynonyms', '1+', { default: false }),
    field.bool('includeDocumentation', '3+', { default: false }),
  ],
});

export const DescribeConfigsResponse = message({
  name: 'DescribeConfigsResponse',
  apiKey: 32,
  kind: 'response',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    field.int32('throttleTimeMs', '0+'),
    field.array('results', '0+', [
      field.int16('errorCode', '0+'),
      field.string('errorMessage', '0+', { nullable: '0+' }),
      field.int8('resourceType', '0+'),
      field.string('resourceName', '0+'),
      field.array('configs', '0+', [
        field.string('name', '0+'),
        field.string('value', '0+', { nullable: '0+' }),
        field.bool('readOnly', '0+'),
        field.bool('isDefault', '0'),
        field.int8('configSource', '1+', { default: -1 }),
        field.bool('isSensitive', '0+'),
        field.array('synonyms', '1+', [
          field.string('name', '1+'),
          field.string('value', '1+', { nullable: '0+' }),
          field.int8('source', '1+'),
        ]),
        field.int8('configType', '3+', { default: 0 }),
        field.string('documentation', '3+', { nullable: '0+' }),
      ]),
    ]),
  ],
});
