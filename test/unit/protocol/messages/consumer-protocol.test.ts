import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Assignment,
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
} from '../../../../protocol/messages/consumer-protocol.js';
import { MessageDecodeError, MessageEncodeError } from '../../../../protocol/wire/codec.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';
import { wire } from '../../../helpers/wire-bytes.js';

interface KafkaMemberMetadata {
  encode(options: { version: number; topics: string[]; userData?: Buffer }): Buffer;
  decode(buffer: Buffer): { version: number; topics: string[]; userData: Buffer | null };
}
interface KafkaMemberAssignment {
  encode(options: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer;
  decode(buffer: Buffer): {
    version: number;
    assignment: Record<string, number[]>;
    userData: Buffer | null;
  } | null;
}

const require = createRequire(import.meta.url);
const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol.js') as {
  MemberMetadata: KafkaMemberMetadata;
  MemberAssignment: KafkaMemberAssignment;
};

const subscription: Subscription = {
  topics: ['orders', 'payments'],
  userData: Buffer.from([0xca, 0xfe]),
  ownedPartitions: [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ],
  generationId: 12,
  rackId: 'use1-az1',
};

const assignment: Assignment = {
  assignedPartitions: [
    { topic: 'orders', partitions: [0, 2, 4] },
    { topic: 'payments', partitions: [1] },
  ],
  userData: Buffer.alloc(0),
};

/** Hand-written v3 subscription: int16 version, then the v3 struct (never flexible). */
const subscriptionV3 = Buffer.concat([
  wire.int16(3),
  wire.arrayLength(2),
  wire.string('orders'),
  wire.string('payments'),
  wire.bytes(Buffer.from([0xca, 0xfe])),
  wire.arrayLength(2),
  wire.string('orders'),
  wire.arrayLength(2),
  wire.int32(0),
  wire.int32(2),
  wire.string('payments'),
  wire.arrayLength(1),
  wire.int32(1),
  wire.int32(12),
  wire.string('use1-az1'),
]);

const topicName = fc.string({ minLength: 1, maxLength: 12 });
const partitionList = fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 5 });
const userData = fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes));

describe('ConsumerProtocol', () => {
  roundTripEveryVersion([ConsumerProtocolSubscription, ConsumerProtocolAssignment]);

  describe('subscription', () => {
    it('writes the version prefix and the v3 layout byte for byte', () => {
      expect(encodeSubscription(subscription, 3).toString('hex')).toBe(subscriptionV3.toString('hex'));
      expect(encodeSubscription(subscription).toString('hex')).toBe(subscriptionV3.toString('hex'));
      expect(decodeSubscription(subscriptionV3)).toEqual({ version: 3, value: subscription });
    });

    it('writes the same v0 bytes as kafkajs, and reads what kafkajs writes', () => {
      fc.assert(
        fc.property(fc.array(topicName, { maxLength: 5 }), userData, (topics, data) => {
          const ours = encodeSubscription({ ...subscription, topics, userData: data }, 0);
          const theirs = MemberMetadata.encode({ version: 0, topics, userData: data });
          expect(ours.toString('hex')).toBe(theirs.toString('hex'));
          expect(decodeSubscription(theirs)).toEqual({
            version: 0,
            value: { topics, userData: data, ownedPartitions: [], generationId: -1, rackId: null },
          });
          expect(MemberMetadata.decode(ours)).toEqual({ version: 0, topics, userData: data });
        }),
        { numRuns: 30 },
      );
    });

    it('writes null user data as length -1', () => {
      const encoded = encodeSubscription({ ...subscription, userData: null }, 0);
      expect(encoded.toString('hex')).toBe(
        Buffer.concat([
          wire.int16(0),
          wire.arrayLength(2),
          wire.string('orders'),
          wire.string('payments'),
          wire.bytes(null),
        ]).toString('hex'),
      );
    });

    it('reads a newer version with the newest known layout, ignoring appended fields', () => {
      const v5 = Buffer.concat([wire.int16(5), subscriptionV3.subarray(2), wire.string('a later field')]);
      expect(decodeSubscription(v5)).toEqual({ version: 5, value: subscription });
    });

    it('rejects negative versions, truncated payloads and unknown encode versions', () => {
      expect(() => decodeSubscription(Buffer.concat([wire.int16(-1), subscriptionV3.subarray(2)]))).toThrow(
        MessageDecodeError,
      );
      expect(() => decodeSubscription(subscriptionV3.subarray(0, subscriptionV3.length - 1))).toThrow(
        MessageDecodeError,
      );
      expect(() => decodeSubscription(Buffer.alloc(1))).toThrow(MessageDecodeError);
      expect(() => encodeSubscription(subscription, 4)).toThrow(MessageEncodeError);
      expect(() => encodeSubscription(subscription, -1)).toThrow(MessageEncodeError);
    });
  });

  describe('assignment', () => {
    it('writes the same bytes as kafkajs at every version (the layout never changed)', () => {
      const entry = fc.record({ topic: topicName, partitions: partitionList });
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 3 }),
          fc.uniqueArray(entry, { selector: (e) => e.topic, maxLength: 4 }),
          userData,
          (version, entries, data) => {
            const ours = encodeAssignment({ assignedPartitions: entries, userData: data }, version);
            // kafkajs takes a topic → partitions map; build it in the same order.
            const map: Record<string, number[]> = Object.create(null);
            for (const { topic, partitions } of entries) map[topic] = partitions;
            // Object key order puts integer-like keys first; only compare when it is unchanged.
            fc.pre(Object.keys(map).join('\0') === entries.map((e) => e.topic).join('\0'));
            // kafkajs decodes into a plain object, where a topic named __proto__ cannot be a key.
            fc.pre(!entries.some((e) => e.topic === '__proto__'));
            const theirs = MemberAssignment.encode({ version, assignment: map, userData: data });
            expect(ours.toString('hex')).toBe(theirs.toString('hex'));
            expect(decodeAssignment(theirs)).toEqual({
              version,
              value: { assignedPartitions: entries, userData: data },
            });
            expect(MemberAssignment.decode(ours)).toEqual({ version, assignment: map, userData: data });
          },
        ),
        { numRuns: 30 },
      );
    });

    it('writes a known assignment byte for byte', () => {
      const expected = Buffer.concat([
        wire.int16(1),
        wire.arrayLength(2),
        wire.string('orders'),
        wire.arrayLength(3),
        wire.int32(0),
        wire.int32(2),
        wire.int32(4),
        wire.string('payments'),
        wire.arrayLength(1),
        wire.int32(1),
        wire.bytes(Buffer.alloc(0)),
      ]);
      expect(encodeAssignment(assignment, 1).toString('hex')).toBe(expected.toString('hex'));
      expect(decodeAssignment(expected)).toEqual({ version: 1, value: assignment });
    });

    it('reads a newer version with the newest known layout', () => {
      const v7 = Buffer.concat([wire.int16(7), encodeAssignment(assignment, 3).subarray(2), wire.int32(99)]);
      expect(decodeAssignment(v7)).toEqual({ version: 7, value: assignment });
    });

    it('rejects an empty payload', () => {
      expect(() => decodeAssignment(Buffer.alloc(0))).toThrow(MessageDecodeError);
    });
  });
});
