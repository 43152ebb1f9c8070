import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { JoinGroupRequest, JoinGroupResponse } from '../../../../protocol/messages/join-group.js';
import { decodeMessage, encodeMessage } from '../../../../protocol/wire/codec.js';
import type { MessageValue } from '../../../../protocol/wire/schema.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';
import { wire } from '../../../helpers/wire-bytes.js';

interface KafkaEncoder {
  readonly buffer: Buffer;
}
type KafkaJoinGroupV5 = (options: {
  groupId: string;
  sessionTimeout: number;
  rebalanceTimeout: number;
  memberId: string;
  groupInstanceId?: string | null;
  protocolType: string;
  groupProtocols: Array<{ name: string; metadata?: Buffer }>;
}) => { encode(): Promise<KafkaEncoder> };

const require = createRequire(import.meta.url);
const kafkaJoinGroupV5 = require('kafkajs/src/protocol/requests/joinGroup/v5/request.js') as KafkaJoinGroupV5;

type Request = MessageValue<typeof JoinGroupRequest>;
type Response = MessageValue<typeof JoinGroupResponse>;

const metadata = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]);

const request: Request = {
  groupId: 'my-group',
  sessionTimeoutMs: 30_000,
  rebalanceTimeoutMs: 60_000,
  memberId: '',
  groupInstanceId: 'instance-1',
  protocolType: 'consumer',
  protocols: [
    { name: 'range', metadata },
    { name: 'roundrobin', metadata: Buffer.alloc(0) },
  ],
  reason: null,
};

describe('JoinGroup', () => {
  roundTripEveryVersion([JoinGroupRequest, JoinGroupResponse]);

  it('encodes a v5 (classic) request byte for byte', async () => {
    const expected = Buffer.concat([
      wire.string('my-group'),
      wire.int32(30_000),
      wire.int32(60_000),
      wire.string(''),
      wire.string('instance-1'),
      wire.string('consumer'),
      wire.arrayLength(2),
      wire.string('range'),
      wire.bytes(metadata),
      wire.string('roundrobin'),
      wire.bytes(Buffer.alloc(0)),
    ]);
    const encoded = encodeMessage(JoinGroupRequest, 5, request);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
    expect(decodeMessage(JoinGroupRequest, 5, encoded)).toEqual(request);

    // kafkajs 2.2.4 writes the same bytes for the same request.
    const kafkajs = await kafkaJoinGroupV5({
      groupId: 'my-group',
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      memberId: '',
      groupInstanceId: 'instance-1',
      protocolType: 'consumer',
      groupProtocols: [
        { name: 'range', metadata },
        { name: 'roundrobin', metadata: Buffer.alloc(0) },
      ],
    }).encode();
    expect(encoded.toString('hex')).toBe(kafkajs.buffer.toString('hex'));
  });

  it('leaves out fields newer than the version and decodes them as their defaults (v0)', () => {
    const expected = Buffer.concat([
      wire.string('my-group'),
      wire.int32(30_000),
      wire.string(''),
      wire.string('consumer'),
      wire.arrayLength(2),
      wire.string('range'),
      wire.bytes(metadata),
      wire.string('roundrobin'),
      wire.bytes(Buffer.alloc(0)),
    ]);
    expect(encodeMessage(JoinGroupRequest, 0, request).toString('hex')).toBe(expected.toString('hex'));
    expect(decodeMessage(JoinGroupRequest, 0, expected)).toEqual({
      ...request,
      rebalanceTimeoutMs: -1,
      groupInstanceId: null,
    });
  });

  it('encodes a v8 (flexible) request byte for byte', () => {
    const value: Request = { ...request, groupInstanceId: null, reason: 'rebalance needed' };
    const expected = Buffer.concat([
      wire.compactString('my-group'),
      wire.int32(30_000),
      wire.int32(60_000),
      wire.compactString(''),
      wire.compactString(null),
      wire.compactString('consumer'),
      wire.compactArrayLength(2),
      wire.compactString('range'),
      wire.compactBytes(metadata),
      wire.noTags(),
      wire.compactString('roundrobin'),
      wire.compactBytes(Buffer.alloc(0)),
      wire.noTags(),
      wire.compactString('rebalance needed'),
      wire.noTags(),
    ]);
    const encoded = encodeMessage(JoinGroupRequest, 8, value);
    // The start, spelled out: 09 "my-group" | 00007530 | 0000ea60 | 01 (member id "") | 00 (null instance id)
    expect(encoded.subarray(0, 19).toString('hex')).toBe('096d792d67726f7570000075300000ea600100');
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
    expect(decodeMessage(JoinGroupRequest, 8, encoded)).toEqual(value);
  });

  it('encodes v5 and v7 responses byte for byte', () => {
    const response: Response = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 3,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: 'member-a',
      skipAssignment: false,
      memberId: 'member-b',
      members: [
        { memberId: 'member-a', groupInstanceId: null, metadata },
        { memberId: 'member-b', groupInstanceId: 'instance-1', metadata },
      ],
    };
    const classic = Buffer.concat([
      wire.int32(0),
      wire.int16(0),
      wire.int32(3),
      wire.string('range'),
      wire.string('member-a'),
      wire.string('member-b'),
      wire.arrayLength(2),
      wire.string('member-a'),
      wire.string(null),
      wire.bytes(metadata),
      wire.string('member-b'),
      wire.string('instance-1'),
      wire.bytes(metadata),
    ]);
    expect(encodeMessage(JoinGroupResponse, 5, response).toString('hex')).toBe(classic.toString('hex'));
    expect(decodeMessage(JoinGroupResponse, 5, classic)).toEqual({ ...response, protocolType: null });

    const flexible = Buffer.concat([
      wire.int32(0),
      wire.int16(0),
      wire.int32(3),
      wire.compactString('consumer'),
      wire.compactString('range'),
      wire.compactString('member-a'),
      wire.compactString('member-b'),
      wire.compactArrayLength(2),
      wire.compactString('member-a'),
      wire.compactString(null),
      wire.compactBytes(metadata),
      wire.noTags(),
      wire.compactString('member-b'),
      wire.compactString('instance-1'),
      wire.compactBytes(metadata),
      wire.noTags(),
      wire.noTags(),
    ]);
    expect(encodeMessage(JoinGroupResponse, 7, response).toString('hex')).toBe(flexible.toString('hex'));
    expect(decodeMessage(JoinGroupResponse, 7, flexible)).toEqual(response);
  });

  it('allows a null protocol name only from v7', () => {
    const response: Response = {
      throttleTimeMs: 0,
      errorCode: 79,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: 'member-c',
      members: [],
    };
    expect(() => encodeMessage(JoinGroupResponse, 6, response)).toThrow(/not nullable/);
    const encoded = encodeMessage(JoinGroupResponse, 7, response);
    expect(decodeMessage(JoinGroupResponse, 7, encoded)).toEqual(response);
  });
});
