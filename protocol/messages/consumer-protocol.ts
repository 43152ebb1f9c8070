import { ByteReader } from '../wire/byte-reader.js';
import { ByteWriter } from '../wire/byte-writer.js';
import { MessageDecodeError, MessageEncodeError, readMessage, writeMessage } from '../wire/codec.js';
import { field, type MessageInput, type MessageSchema, type MessageValue, message } from '../wire/schema.js';

/**
 * The "consumer" embedded protocol: what Kafka consumers put in the opaque bytes of JoinGroup
 * (each protocol's metadata: a subscription) and SyncGroup (each member's assignment). These are
 * data types, not API messages (apiKey -1). On the wire an int16 version precedes the struct, which
 * is never flexible. A version newer than known is read with the newest known layout: later
 * versions may only append fields, and the trailing bytes are ignored.
 */
export const ConsumerProtocolSubscription = message({
  name: 'ConsumerProtocolSubscription',
  apiKey: -1,
  kind: 'request',
  validVersions: '0-3',
  flexibleVersions: 'none',
  fields: [
    field.primitiveArray('topics', 'string', '0+'),
    field.bytes('userData', '0+', { nullable: '0+', default: null }),
    field.array('ownedPartitions', '1+', [
      field.string('topic', '1+'),
      field.primitiveArray('partitions', 'int32', '1+'),
    ]),
    field.int32('generationId', '2+', { default: -1 }),
    field.string('rackId', '3+', { nullable: '3+', default: null }),
  ],
});

export const ConsumerProtocolAssignment = message({
  name: 'ConsumerProtocolAssignment',
  apiKey: -1,
  kind: 'request',
  validVersions: '0-3',
  flexibleVersions: 'none',
  fields: [
    field.array('assignedPartitions', '0+', [
      field.string('topic', '0+'),
      field.primitiveArray('partitions', 'int32', '0+'),
    ]),
    field.bytes('userData', '0+', { nullable: '0+', default: null }),
  ],
});

export type Subscription = MessageValue<typeof ConsumerProtocolSubscription>;
export type Assignment = MessageValue<typeof ConsumerProtocolAssignment>;

/** A decoded payload and the version its header carried (possibly newer than the layout used). */
export interface Versioned<T> {
  version: number;
  value: T;
}

export const SUBSCRIPTION_MAX_VERSION = ConsumerProtocolSubscription.validVersions.max;
export const ASSIGNMENT_MAX_VERSION = ConsumerProtocolAssignment.validVersions.max;

export function encodeSubscription(value: Subscription, version: number = SUBSCRIPTION_MAX_VERSION): Buffer {
  return encodeVersioned(ConsumerProtocolSubscription, version, value);
}

export function decodeSubscription(buf: Buffer): Versioned<Subscription> {
  return decodeVersioned(ConsumerProtocolSubscription, buf);
}

export function encodeAssignment(value: Assignment, version: number = ASSIGNMENT_MAX_VERSION): Buffer {
  return encodeVersioned(ConsumerProtocolAssignment, version, value);
}

export function decodeAssignment(buf: Buffer): Versioned<Assignment> {
  return decodeVersioned(ConsumerProtocolAssignment, buf);
}

function encodeVersioned<S extends MessageSchema>(
  schema: S,
  version: number,
  value: MessageInput<S>,
): Buffer {
  const { min, max } = schema.validVersions;
  if (!Number.isInteger(version) || version < min || version > max)
    throw new MessageEncodeError(`unsupported version ${version}`, schema.name);
  const writer = new ByteWriter();
  writer.int16(version);
  writeMessage(writer, schema, version, value);
  return Buffer.from(writer.toBuffer());
}

function decodeVersioned<S extends MessageSchema>(schema: S, buf: Buffer): Versioned<MessageValue<S>> {
  const reader = new ByteReader(buf);
  let version: number;
  try {
    version = reader.int16();
  } catch (error) {
    throw new MessageDecodeError(schema.name, -1, { cause: error });
  }
  if (version < schema.validVersions.min) throw new MessageDecodeError(schema.name, version);
  const layout = Math.min(version, schema.validVersions.max);
  return { version, value: readMessage(reader, schema, layout) };
}
