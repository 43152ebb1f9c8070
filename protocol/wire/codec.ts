import { ProtocolError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import type { FieldSchema, MessageInput, MessageSchema, MessageValue, PrimitiveType } from './schema.js';
import { inRange } from './versions.js';

/**
 * The one generic codec for every Kafka message: walks a MessageSchema for a given version and
 * encodes or decodes classic and flexible (KIP-482: compact strings/arrays, tagged fields) forms.
 * Pure: buffers in, buffers out, no I/O.
 */

/** The value cannot be encoded as the schema says (wrong type, null where not nullable, ...). */
export class MessageEncodeError extends ProtocolError {
  override name = 'MessageEncodeError';
  constructor(
    readonly reason: string,
    readonly path: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** The bytes do not form a valid message of the schema and version being decoded. */
export class MessageDecodeError extends ProtocolError {
  override name = 'MessageDecodeError';
  constructor(
    readonly schemaName: string,
    readonly version: number,
    options?: { cause?: unknown },
  ) {
    super(`malformed ${schemaName} v${version}`, options);
  }
}

export function isFlexible(schema: MessageSchema, version: number): boolean {
  return inRange(schema.flexibleVersions, version);
}

type Struct = Record<string, unknown>;

// ---------------------------------------------------------------- encoding

export function encodeMessage<S extends MessageSchema>(
  schema: S,
  version: number,
  value: MessageInput<S>,
): Buffer {
  const writer = new ByteWriter();
  writeMessage(writer, schema, version, value);
  return Buffer.from(writer.toBuffer());
}

export function writeMessage<S extends MessageSchema>(
  writer: ByteWriter,
  schema: S,
  version: number,
  value: MessageInput<S>,
): void {
  writeStruct(writer, schema.fields, version, isFlexible(schema, version), value as Struct, schema.name);
}

function isTagged(field: FieldSchema, version: number, flexible: boolean): boolean {
  return flexible && field.tag !== undefined && inRange(field.taggedVersions, version);
}

function fieldValue(struct: Struct, field: FieldSchema): unknown {
  const value = struct[field.name];
  return value === undefined ? field.defaultValue : value;
}

function writeStruct(
  writer: ByteWriter,
  fields: readonly FieldSchema[],
  version: number,
  flexible: boolean,
  struct: Struct,
  path: string,
): void {
  if (struct === null || typeof struct !== 'object') throw new MessageEncodeError('expected an object', path);
  const tagged: FieldSchema[] = [];
  for (const field of fields) {
    if (!inRange(field.versions, version)) continue;
    if (isTagged(field, version, flexible)) {
      if (!isDefault(fieldValue(struct, field), field)) tagged.push(field);
      continue;
    }
    writeField(writer, field, version, flexible, fieldValue(struct, field), `${path}.${field.name}`);
  }
  if (!flexible) return;
  tagged.sort((a, b) => a.tag! - b.tag!);
  writer.unsignedVarint(tagged.length);
  for (const field of tagged) {
    const inner = new ByteWriter(64);
    writeField(inner, field, version, flexible, fieldValue(struct, field), `${path}.${field.name}`);
    writer.unsignedVarint(field.tag!).unsignedVarint(inner.length).raw(inner.toBuffer());
  }
}

/** Tagged fields equal to their default are left off the wire, compared by value. */
function isDefault(value: unknown, field: FieldSchema): boolean {
  return plainDataEqual(value, field.defaultValue);
}

/** Structural equality for decoded values (primitives, Buffers, arrays, plain objects). */
function plainDataEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => plainDataEqual(x, b[i]))
    );
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => plainDataEqual((a as Struct)[key], (b as Struct)[key]))
  );
}

function writeLength(writer: ByteWriter, compact: boolean, wide: boolean, length: number | null): void {
  if (compact) writer.unsignedVarint(length === null ? 0 : length + 1);
  else if (wide) writer.int32(length === null ? -1 : length);
  else writer.int16(length === null ? -1 : length);
}

function writeField(
  writer: ByteWriter,
  field: FieldSchema,
  version: number,
  flexible: boolean,
  value: unknown,
  path: string,
): void {
  const compact = flexible && !field.neverFlexible;
  const nullable = inRange(field.nullableVersions, version);
  if (value === null && !nullable)
    throw new MessageEncodeError(`is not nullable in version ${version}`, path);
  const { type } = field;
  switch (type.kind) {
    case 'primitive':
      writePrimitive(writer, type.type, compact, value, path);
      return;
    case 'primitiveArray': {
      const items = expectArray(value, path);
      writeLength(writer, compact, true, items === null ? null : items.length);
      for (const [i, item] of (items ?? []).entries()) {
        writePrimitive(writer, type.type, compact, item, `${path}[${i}]`);
      }
      return;
    }
    case 'structArray': {
      const items = expectArray(value, path);
      writeLength(writer, compact, true, items === null ? null : items.length);
      for (const [i, item] of (items ?? []).entries()) {
        writeStruct(writer, type.fields, version, flexible, item as Struct, `${path}[${i}]`);
      }
      return;
    }
    case 'struct':
      if (nullable) {
        writer.int8(value === null ? -1 : 1);
        if (value === null) return;
      }
      writeStruct(writer, type.fields, version, flexible, value as Struct, path);
      return;
  }
}

function expectArray(value: unknown, path: string): unknown[] | null {
  if (value === null) return null;
  if (!Array.isArray(value)) throw new MessageEncodeError('expected an array', path);
  return value;
}

function expectNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new MessageEncodeError('expected a number', path);
  return value;
}

function writePrimitive(
  writer: ByteWriter,
  type: PrimitiveType,
  compact: boolean,
  value: unknown,
  path: string,
): void {
  switch (type) {
    case 'bool':
      writer.int8(value ? 1 : 0);
      return;
    case 'int8':
      writer.int8(expectNumber(value, path));
      return;
    case 'int16':
      writer.int16(expectNumber(value, path));
      return;
    case 'uint16':
      writer.uint16(expectNumber(value, path));
      return;
    case 'int32':
      writer.int32(expectNumber(value, path));
      return;
    case 'uint32':
      writer.uint32(expectNumber(value, path));
      return;
    case 'int64':
      writer.int64(expectNumber(value, path));
      return;
    case 'float64':
      writer.float64(expectNumber(value, path));
      return;
    case 'string': {
      if (value === null) {
        writeLength(writer, compact, false, null);
        return;
      }
      if (typeof value !== 'string') throw new MessageEncodeError('expected a string', path);
      const bytes = Buffer.from(value, 'utf8');
      if (!compact && bytes.length > 0x7fff)
        throw new MessageEncodeError('string longer than 32767 bytes', path);
      writeLength(writer, compact, false, bytes.length);
      writer.raw(bytes);
      return;
    }
    case 'bytes':
    case 'records': {
      if (value === null) {
        writeLength(writer, compact, true, null);
        return;
      }
      if (!(value instanceof Uint8Array)) throw new MessageEncodeError('expected a Buffer', path);
      writeLength(writer, compact, true, value.length);
      writer.raw(value);
      return;
    }
    case 'uuid': {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'base64url') : null;
      if (bytes?.length !== 16) throw new MessageEncodeError('expected a 22-character base64url UUID', path);
      writer.raw(bytes);
      return;
    }
  }
}

// ---------------------------------------------------------------- decoding

export function decodeMessage<S extends MessageSchema>(
  schema: S,
  version: number,
  buf: Buffer,
): MessageValue<S> {
  const reader = new ByteReader(buf);
  const value = readMessage(reader, schema, version);
  return value;
}

/** Reads one message from `reader`. Wraps any failure in MessageDecodeError. */
export function readMessage<S extends MessageSchema>(
  reader: ByteReader,
  schema: S,
  version: number,
): MessageValue<S> {
  try {
    return readStruct(reader, schema.fields, version, isFlexible(schema, version)) as MessageValue<S>;
  } catch (error) {
    throw new MessageDecodeError(schema.name, version, { cause: error });
  }
}

function readStruct(
  reader: ByteReader,
  fields: readonly FieldSchema[],
  version: number,
  flexible: boolean,
): Struct {
  const struct: Struct = {};
  for (const field of fields) {
    if (!inRange(field.versions, version) || isTagged(field, version, flexible)) {
      struct[field.name] = freshDefault(field);
      continue;
    }
    struct[field.name] = readField(reader, field, version, flexible);
  }
  if (flexible) {
    const count = reader.unsignedVarint();
    for (let i = 0; i < count; i++) {
      const tag = reader.unsignedVarint();
      const size = reader.unsignedVarint();
      const body = reader.bytes(size);
      const field = fields.find(
        (f) => f.tag === tag && inRange(f.versions, version) && isTagged(f, version, flexible),
      );
      // Unknown tags are skipped: that is what makes tagged fields forward compatible.
      if (field) struct[field.name] = readField(new ByteReader(body), field, version, flexible);
    }
  }
  return struct;
}

/** A default the caller may mutate without changing the schema's copy. */
function freshDefault(field: FieldSchema): unknown {
  return clonePlainData(field.defaultValue);
}

/** Copies arrays and plain objects (defaults are never deeper than a struct of primitives). */
function clonePlainData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clonePlainData);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const copy: Struct = {};
  for (const [key, item] of Object.entries(value)) copy[key] = clonePlainData(item);
  return copy;
}

function readLength(reader: ByteReader, compact: boolean, wide: boolean): number | null {
  const length = compact ? reader.unsignedVarint() - 1 : wide ? reader.int32() : reader.int16();
  if (length < -1) throw new ProtocolError(`invalid length ${length}`);
  return length === -1 ? null : length;
}

function readField(reader: ByteReader, field: FieldSchema, version: number, flexible: boolean): unknown {
  const compact = flexible && !field.neverFlexible;
  const nullable = inRange(field.nullableVersions, version);
  const { type } = field;
  let value: unknown;
  switch (type.kind) {
    case 'primitive':
      value = readPrimitive(reader, type.type, compact);
      break;
    case 'primitiveArray': {
      const length = readLength(reader, compact, true);
      checkCount(reader, length);
      value =
        length === null ? null : Array.from({ length }, () => readPrimitive(reader, type.type, compact));
      break;
    }
    case 'structArray': {
      const length = readLength(reader, compact, true);
      checkCount(reader, length);
      value =
        length === null
          ? null
          : Array.from({ length }, () => readStruct(reader, type.fields, version, flexible));
      break;
    }
    case 'struct':
      if (nullable && reader.int8() < 0) value = null;
      else value = readStruct(reader, type.fields, version, flexible);
      break;
  }
  if (value === null && !nullable)
    throw new ProtocolError(`${field.name} is null but not nullable in v${version}`);
  return value;
}

/** Every array element takes at least one byte, so a count above the bytes left is a lie. */
function checkCount(reader: ByteReader, length: number | null): void {
  if (length !== null && length > reader.remaining) {
    throw new ProtocolError(`array of ${length} elements cannot fit in ${reader.remaining} bytes`);
  }
}

function readPrimitive(reader: ByteReader, type: PrimitiveType, compact: boolean): unknown {
  switch (type) {
    case 'bool':
      return reader.int8() !== 0;
    case 'int8':
      return reader.int8();
    case 'int16':
      return reader.int16();
    case 'uint16':
      return reader.uint16();
    case 'int32':
      return reader.int32();
    case 'uint32':
      return reader.uint32();
    case 'int64':
      return reader.int64();
    case 'float64':
      return reader.float64();
    case 'string': {
      const length = readLength(reader, compact, false);
      return length === null ? null : reader.bytes(length).toString('utf8');
    }
    case 'bytes':
    case 'records': {
      const length = readLength(reader, compact, true);
      return length === null ? null : reader.bytes(length);
    }
    case 'uuid':
      return reader.bytes(16).toString('base64url');
  }
}
