import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { OffsetCommitRequest, OffsetCommitResponse } from '../../../../protocol/messages/offset-commit.js';
import { decodeMessage, encodeMessage } from '../../../../protocol/wire/codec.js';
import type { MessageValue } from '../../../../protocol/wire/schema.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';
import { wire } from '../../../helpers/wire-bytes.js';

interface KafkaEncoder {
  readonly buffer: Buffer;
}
type KafkaOffsetCommit = (options: {
  groupId: string;
  groupGenerationId: number;
  memberId: string;
  retentionTime?: number;
  topics: Array<{
    topic: string;
    partitions: Array<{ partition: number; offset: string; timestamp?: number; metadata?: string | null }>;
  }>;
}) => { encode(): Promise<KafkaEncoder> };
type KafkaOffsetCommitResponse = {
  decode(buffer: Buffer): Promise<{
    throttleTime: number;
    responses: Array<{ topic: string; partitions: Array<{ partition: number; errorCode: number }> }>;
  }>;
};

const require = createRequire(import.meta.url);
const kafkaOffsetCommit = (version: number) =>
  require(`kafkajs/src/protocol/requests/offsetCommit/v${version}/request.js`) as KafkaOffsetCommit;
const kafkaOffsetCommitResponseV3 =
  require('kafkajs/src/protocol/requests/offsetCommit/v3/response.js') as KafkaOffsetCommitResponse;

type Request = MessageValue<typeof OffsetCommitRequest>;

const request: Request = {
  groupId: 'orders',
  generationIdOrMemberEpoch: 7,
  memberId: 'consumer-1-abc',
  groupInstanceId: null,
  retentionTimeMs: 86_400_000,
  topics: [
    {
      name: 'payments',
      partitions: [
        {
          partitionIndex: 0,
          committedOffset: 1234,
          committedLeaderEpoch: 5,
          commitTimestamp: 1_700_000_000_000,
          committedMetadata: null,
        },
        {
          partitionIndex: 3,
          committedOffset: 2 ** 40,
          committedLeaderEpoch: 5,
          commitTimestamp: 1_700_000_000_000,
          committedMetadata: 'meta',
        },
      ],
    },
  ],
};

const kafkajsTopics = [
  {
    topic: 'payments',
    partitions: [
      { partition: 0, offset: '1234', timestamp: 1_700_000_000_000, metadata: null },
      { partition: 3, offset: String(2 ** 40), timestamp: 1_700_000_000_000, metadata: 'meta' },
    ],
  },
];

/** The classic bytes of `request` at `version`, written field by field from the Kafka schema. */
function classicRequest(version: number): Buffer {
  const parts = [wire.string('orders')];
  if (version >= 1) parts.push(wire.int32(7), wire.string('consumer-1-abc'));
  if (version >= 7) parts.push(wire.string(null));
  if (version >= 2 && version <= 4) parts.push(wire.int64(86_400_000));
  parts.push(wire.arrayLength(1), wire.string('payments'), wire.arrayLength(2));
  for (const [index, offset, metadata] of [
    [0, 1234, null],
    [3, 2 ** 40, 'meta'],
  ] as const) {
    parts.push(wire.int32(index), wire.int64(offset));
    if (version >= 6) parts.push(wire.int32(5));
    if (version === 1) parts.push(wire.int64(1_700_000_000_000));
    parts.push(wire.string(metadata));
  }
  return Buffer.concat(parts);
}

describe('OffsetCommit', () => {
  roundTripEveryVersion([OffsetCommitRequest, OffsetCommitResponse]);

  for (const version of [0, 1, 2, 5, 6, 7]) {
    it(`encodes a v${version} request byte for byte`, () => {
      const encoded = encodeMessage(OffsetCommitRequest, version, request);
      expect(encoded.toString('hex')).toBe(classicRequest(version).toString('hex'));
    });
  }

  for (const version of [1, 2, 5]) {
    it(`writes the same v${version} bytes as kafkajs`, async () => {
      const kafkajs = await kafkaOffsetCommit(version)({
        groupId: 'orders',
        groupGenerationId: 7,
        memberId: 'consumer-1-abc',
        retentionTime: 86_400_000,
        topics: kafkajsTopics,
      }).encode();
      expect(encodeMessage(OffsetCommitRequest, version, request).toString('hex')).toBe(
        kafkajs.buffer.toString('hex'),
      );
    });
  }

  it('decodes the version-specific fields as defaults where absent', () => {
    const v5 = decodeMessage(OffsetCommitRequest, 5, classicRequest(5));
    expect(v5.retentionTimeMs).toBe(-1);
    expect(v5.topics[0]?.partitions.map((p) => [p.committedLeaderEpoch, p.commitTimestamp])).toEqual([
      [-1, -1],
      [-1, -1],
    ]);
    const v0 = decodeMessage(OffsetCommitRequest, 0, classicRequest(0));
    expect(v0.generationIdOrMemberEpoch).toBe(-1);
    expect(v0.memberId).toBe('');
  });

  it('encodes a v8 (flexible) request byte for byte', () => {
    const value: Request = { ...request, groupInstanceId: 'static-1' };
    const expected = Buffer.concat([
      wire.compactString('orders'),
      wire.int32(7),
      wire.compactString('consumer-1-abc'),
      wire.compactString('static-1'),
      wire.compactArrayLength(1),
      wire.compactString('payments'),
      wire.compactArrayLength(2),
      wire.int32(0),
      wire.int64(1234),
      wire.int32(5),
      wire.compactString(null),
      wire.noTags(),
      wire.int32(3),
      wire.int64(2 ** 40),
      wire.int32(5),
      wire.compactString('meta'),
      wire.noTags(),
      wire.noTags(),
      wire.noTags(),
    ]);
    const encoded = encodeMessage(OffsetCommitRequest, 8, value);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
    expect(decodeMessage(OffsetCommitRequest, 8, encoded)).toEqual({
      ...value,
      retentionTimeMs: -1,
      topics: value.topics.map((t) => ({
        ...t,
        partitions: t.partitions.map((p) => ({ ...p, commitTimestamp: -1 })),
      })),
    });
  });

  it('encodes responses that kafkajs decodes (v3) and hand-written flexible bytes (v8)', async () => {
    const response: MessageValue<typeof OffsetCommitResponse> = {
      throttleTimeMs: 25,
      topics: [
        {
          name: 'payments',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 3, errorCode: 22 },
          ],
        },
      ],
    };
    const v3 = encodeMessage(OffsetCommitResponse, 3, response);
    expect(await kafkaOffsetCommitResponseV3.decode(v3)).toEqual({
      throttleTime: 25,
      responses: [
        {
          topic: 'payments',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 3, errorCode: 22 },
          ],
        },
      ],
    });

    const v8 = Buffer.concat([
      wire.int32(25),
      wire.compactArrayLength(1),
      wire.compactString('payments'),
      wire.compactArrayLength(2),
      wire.int32(0),
      wire.int16(0),
      wire.noTags(),
      wire.int32(3),
      wire.int16(22),
      wire.noTags(),
      wire.noTags(),
      wire.noTags(),
    ]);
    expect(encodeMessage(OffsetCommitResponse, 8, response).toString('hex')).toBe(v8.toString('hex'));
    expect(decodeMessage(OffsetCommitResponse, 8, v8)).toEqual(response);
  });
});
