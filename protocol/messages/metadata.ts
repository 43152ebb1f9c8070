import { field, message } from '../wire/schema.js';

/** Metadata (key 3): brokers, topics, partitions and their leaders. Versions 0-12, flexible from 9. */
export const MetadataRequest = message({
  name: 'MetadataRequest',
  apiKey: 3,
  kind: 'request',
  validVersions: '0-12',
  flexibleVersions: '9+',
  fields: [
    field.array(
      'topics',
      '0+',
      [field.uuid('topicId', '10+'), field.string('name', '0+', { nullable: '10+' })],
      { nullable: '1+' },
    ),
    field.bool('allowAutoTopicCreation', '4+', { default: true }),
    field.bool('includeClusterAuthorizedOperations', '8-10'),
    field.bool('includeTopicAuthorizedOperations', '8+'),
  ],
});

export const MetadataResponse = message({
  name: 'MetadataResponse',
  apiKey: 3,
  kind: 'response',
  validVersions: '0-12',
  flexibleVersions: '9+',
  fields: [
    field.int32('throttleTimeMs', '3+'),
    field.array('brokers', '0+', [
      field.int32('nodeId', '0+'),
      field.string('host', '0+'),
      field.int32('port', '0+'),
      field.string('rack', '1+', { nullable: '1+', default: null }),
    ]),
    field.string('clusterId', '2+', { nullable: '2+', default: null }),
    field.int32('controllerId', '1+', { default: -1 }),
    field.array('topics', '0+', [
      field.int16('errorCode', '0+'),
      field.string('name', '0+', { nullable: '12+' }),
      field.uuid('topicId', '10+'),
      field.bool('isInternal', '1+', { default: false }),
      field.array('partitions', '0+', [
        field.int16('errorCode', '0+'),
        field.int32('partitionIndex', '0+'),
        field.int32('leaderId', '0+'),
        field.int32('leaderEpoch', '7+', { default: -1 }),
        field.primitiveArray('replicaNodes', 'int32', '0+'),
        field.primitiveArray('isrNodes', 'int32', '0+'),
        field.primitiveArray('offlineReplicas', 'int32', '5+'),
      ]),
      field.int32('topicAuthorizedOperations', '8+', { default: -2147483648 }),
    ]),
    field.int32('clusterAuthorizedOperations', '8-10', { default: -2147483648 }),
  ],
});
