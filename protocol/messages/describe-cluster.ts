import { field, message } from '../wire/schema.js';

/** DescribeCluster (key 60): cluster ID, controller and brokers. Versions 0-1, flexible in all. */
export const DescribeClusterRequest = message({
  name: 'DescribeClusterRequest',
  apiKey: 60,
  kind: 'request',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    field.bool('includeClusterAuthorizedOperations', '0+'),
    field.int8('endpointType', '1+', { default: 1 }),
  ],
});

export const DescribeClusterResponse = message({
  name: 'DescribeClusterResponse',
  apiKey: 60,
  kind: 'response',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    field.int32('throttleTimeMs', '0+'),
    field.int16('errorCode', '0+'),
    field.string('errorMessage', '0+', { nullable: '0+', default: null }),
    field.int8('endpointType', '1+', { default: 1 }),
    field.string('clusterId', '0+'),
    field.int32('controllerId', '0+', { default: -1 }),
    field.array('brokers', '0+', [
      field.int32('brokerId', '0+'),
      field.string('host', '0+'),
      field.int32('port', '0+'),
      field.string('rack', '0+', { nullable: '0+', default: null }),
    ]),
    field.int32('clusterAuthorizedOperations', '0+', { default: -2147483648 }),
  ],
});
