import { MalformedVarintError, ValueOutOfRangeError } from '../errors.js';

/**
 * Zig-zag varints as used by RecordBatch v2 records and by flexible protocol versions.
 *
 * 32-bit varints use bitwise arithmetic. 64-bit varlongs are computed with doubles, which is exact
 * for magnitudes below 2^52 — every timestamp delta and offset Spool handles. Larger values are
 * rejected rather than silently rounded.
 */

const TWO_POW_32 = 2 ** 32;
const MAX_EXACT_VARLONG = 2 ** 52;

export function zigZagEncode32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

export function zigZagDecode32(value: number): number {
  return (value >>> 1) ^ -(value & 1);
}

export function sizeOfUnsignedVarint(value: number): number {
  let v = value >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(zigZagEncode32(value));
}

function zigZagEncode64(value: number): number {
  if (!Number.isSafeInteger(value) || Math.abs(value) >= MAX_EXACT_VARLONG) {
    throw new ValueOutOfRangeError('varlong', value);
  }
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function sizeOfVarlong(value: number): number {
  let v = zigZagEncode64(value);
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Writes an unsigned varint and returns the position after it. */
export function writeUnsignedVarint(buf: Uint8Array, position: number, value: number): number {
  let v = value >>> 0;
  let pos = position;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function writeVarint(buf: Uint8Array, position: number, value: number): number {
  return writeUnsignedVarint(buf, position, zigZagEncode32(value));
}

export function writeVarlong(buf: Uint8Array, position: number, value: number): number {
  let v = zigZagEncode64(value);
  let pos = position;
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Result holder reused by the readers so the hot decode loop allocates nothing per varint. */
export interface VarintCursor {
  position: number;
}

export function readUnsignedVarint(buf: Uint8Array, cursor: VarintCursor): number {
  let result = 0;
  let shift = 0;
  let pos = cursor.position;
  for (;;) {
    if (pos >= buf.length || shift > 28) throw new MalformedVarintError(cursor.position);
    const byte = buf[pos++]!;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  cursor.position = pos;
  return result >>> 0;
}

export function readVarint(buf: Uint8Array, cursor: VarintCursor): number {
  return zigZagDecode32(readUnsignedVarint(buf, cursor));
}

export function readVarlong(buf: Uint8Array, cursor: VarintCursor): number {
  let result = 0;
  let multiplier = 1;
  let pos = cursor.position;
  for (let i = 0; ; i++) {
    if (pos >= buf.length || i >= 10) throw new MalformedVarintError(cursor.position);
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
  }
  // Reject what writeVarlong rejects: zig-zag 2^53 - 1 would decode to -2^52, which cannot be re-encoded.
  if (result > MAX_EXACT_VARLONG * 2 - 2) throw new MalformedVarintError(cursor.position);
  cursor.position = pos;
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

/** Reads a big-endian int64 as a number; throws when it is not a safe integer. */
export function readInt64(buf: Buffer, position: number): number {
  const high = buf.readInt32BE(position);
  const low = buf.readUInt32BE(position + 4);
  const value = high * TWO_POW_32 + low;
  if (!Number.isSafeInteger(value)) {
    throw new ValueOutOfRangeError(`int64 at position ${position}`, value);
  }
  return value;
}

export function writeInt64(buf: Buffer, position: number, value: number): void {
  if (!Number.isSafeInteger(value)) throw new ValueOutOfRangeError('int64', value);
  const high = Math.floor(value / TWO_POW_32);
  const low = value - high * TWO_POW_32;
  buf.writeInt32BE(high, position);
  buf.writeUInt32BE(low, position + 4);
}
