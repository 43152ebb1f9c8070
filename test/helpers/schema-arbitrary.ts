import fc from 'fast-check';
import { expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../protocol/wire/codec.js';
import type { FieldSchema, MessageSchema, MessageValue, PrimitiveType } from '../../protocol/wire/schema.js';
import { inRange } from '../../protocol/wire/versions.js';

/**
 * Arbitrary values for any message schema at a given version, derived from the schema itself:
 * fields present in the version get random values (null where nullable), absent fields get their
 * defaults — exactly what the decoder will produce, so encode → decode must be the identity.
 */
export function messageArbitrary(
  schema: MessageSchema,
  version: number,
): fc.Arbitrary<Record<string, unknown>> {
  return structArbitrary(schema.fields, version, 0);
}

const MAX_DEPTH_ITEMS = [4, 3, 2, 2];

function structArbitrary(
  fields: readonly FieldSchema[],
  version: number,
  depth: number,
): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    shape[field.name] = inRange(field.versions, version)
      ? fieldArbitrary(field, version, depth)
      : fc.constant(Array.isArray(field.defaultValue) ? [] : field.defaultValue);
  }
  return fc.record(shape);
}

function fieldArbitrary(field: FieldSchema, version: number, depth: number): fc.Arbitrary<unknown> {
  const maxLength = MAX_DEPTH_ITEMS[depth] ?? 1;
  const { type } = field;
  let value: fc.Arbitrary<unknown>;
  switch (type.kind) {
    case 'primitive':
      value = primitiveArbitrary(type.type);
      break;
    case 'primitiveArray':
      value = fc.array(primitiveArbitrary(type.type), { maxLength });
      break;
    case 'structArray':
      value = fc.array(structArbitrary(type.fields, version, depth + 1), { maxLength });
      break;
    case 'struct':
      value = structArbitrary(type.fields, version, depth + 1);
      break;
  }
  return inRange(field.nullableVersions, version) ? fc.option(value, { nil: null, freq: 4 }) : value;
}

function primitiveArbitrary(type: PrimitiveType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64':
      return fc.maxSafeInteger();
    case 'float64':
      return fc.double({ noNaN: true });
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 12 });
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes));
    case 'uuid':
      return fc
        .uint8Array({ minLength: 16, maxLength: 16 })
        .map((bytes) => Buffer.from(bytes).toString('base64url'));
  }
}

/** Every version a schema defines. */
export function versionsOf(schema: MessageSchema): number[] {
  const versions: number[] = [];
  for (let v = schema.validVersions.min; v <= schema.validVersions.max; v++) versions.push(v);
  return versions;
}

/**
 * encode → decode is the identity for every message at every version. `numRuns` (per version)
 * trades thoroughness for speed on messages with many versions.
 */
export function roundTripEveryVersion(schemas: MessageSchema[], options: { numRuns?: number } = {}): void {
  const numRuns = options.numRuns ?? 60;
  for (const schema of schemas) {
    for (const version of versionsOf(schema)) {
      it(`${schema.name} v${version} round-trips`, () => {
        fc.assert(
          fc.property(messageArbitrary(schema, version), (value) => {
            const encoded = encodeMessage(schema, version, value as MessageValue<typeof schema>);
            expect(decodeMessage(schema, version, encoded)).toEqual(value);
          }),
          { numRuns },
        );
      });
    }
  }
}
