import { field, message } from '../wire/schema.js';

/**
 * Produce (key 0): append record batches to partitions. Versions 0-11, flexible from 9.
 *
 * `currentLeader` is a non-nullable tagged struct: when a peer leaves it out, Kafka reads it as
 * the struct of defaults, so that (frozen, shared) struct is its default here too.
 */
export const ProduceRequest = message({
  name: 'ProduceRequest',
  apiKey: 0,
  kind: 'request',
  validVersions: '0-11',
  flexibleVersions: '9+',
  fields: [
    field.string('transactionalId', '3+', { nullable: '3+', default: null }),
    field.int16('acks', '0+'),
    field.int32('timeoutMs', '0+'),
    field.array('topicData', '0+', [
      field.string('name', '0+'),
      field.array('partitionData', '0+', [
        field.int32('index', '0+'),
        field.records('records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
});

export const ProduceResponse = message({
  name: 'ProduceResponse',
  apiKey: 0,
  kind: 'response',
  validVersions: '0-11',
  flexibleVersions: '9+',
  fields: [
    field.array('responses', '0+', [
      field.string('name', '0+'),
      field.array('partitionResponses', '0+', [
        field.int32('index', '0+'),
        field.int16('errorCode', '0+'),
        field.int64('baseOffset', '0+'),
        field.int64('logAppendTimeMs', '2+', { default: -1 }),
        field.int64('logStartOffset', '5+', { default: -1 }),
        field.array('recordErrors', '8+', [
          field.int32('batchIndex', '8+'),
          field.string('batchIndexErrorMessage', '8+', { nullable: '8+', default: null }),
        ]),
        field.string('errorMessage', '8+', { nullable: '8+', default: null }),
        field.struct(
          'currentLeader',
          '10+',
          [
            field.int32('leaderId', '10+', { default: -1 }),
            field.int32('leaderEpoch', '10+', { default: -1 }),
          ],
          { tag: 0, taggedVersions: '10+', default: Object.freeze({ leaderId: -1, leaderEpoch: -1 }) },
        ),
      ]),
    ]),
    field.int32('throttleTimeMs', '1+', { default: 0 }),
    field.array(
      'nodeEndpoints',
      '10+',
      [
        field.int32('nodeId', '10+'),
        field.string('host', '10+'),
        field.int32('port', '10+'),
        field.string('rack', '10+', { nullable: '10+', default: null }),
      ],
      { tag: 0, taggedVersions: '10+' },
    ),
  ],
});
