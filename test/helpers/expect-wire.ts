import { expect } from 'vitest';
import { decodeMessage, encodeMessage } from '../../protocol/wire/codec.js';
import type { MessageInput, MessageSchema } from '../../protocol/wire/schema.js';

/**
 * Pins the exact encoding of `value` (fields left out take their defaults) against hand-written
 * hex, given as commented parts; whitespace is ignored. Also decodes those bytes back and checks
 * that every field given in `value` comes out unchanged.
 */
export function expectWire<S extends MessageSchema>(
  schema: S,
  version: number,
  value: Record<string, unknown>,
  ...hexParts: string[]
): void {
  const hex = hexParts.join('').replace(/\s+/g, '');
  expect(encodeMessage(schema, version, value as MessageInput<S>).toString('hex')).toBe(hex);
  expect(decodeMessage(schema, version, Buffer.from(hex, 'hex'))).toMatchObject(value);
}
