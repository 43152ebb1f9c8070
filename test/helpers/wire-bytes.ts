/**
 * Tiny builders for hand-written expected protocol bytes, independent of the codec under test:
 * classic (int16/int32 length-prefixed) and compact (unsigned varint length + 1) forms.
 */

function uvarint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

export const wire = {
  int8: (v: number) => Buffer.from([v & 0xff]),
  int16(v: number): Buffer {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return b;
  },
  int32(v: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return b;
  },
  int64(v: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    return b;
  },
  uvarint,
  /** Classic STRING / NULLABLE_STRING: int16 length (-1 for null). */
  string(s: string | null): Buffer {
    if (s === null) return wire.int16(-1);
    const body = Buffer.from(s, 'utf8');
    return Buffer.concat([wire.int16(body.length), body]);
  },
  /** Classic BYTES / NULLABLE_BYTES: int32 length (-1 for null). */
  bytes(b: Buffer | null): Buffer {
    if (b === null) return wire.int32(-1);
    return Buffer.concat([wire.int32(b.length), b]);
  },
  /** Classic array length: int32 (-1 for null). */
  arrayLength: (n: number | null) => wire.int32(n ?? -1),
  /** COMPACT_(NULLABLE_)STRING: unsigned varint length + 1 (0 for null). */
  compactString(s: string | null): Buffer {
    if (s === null) return uvarint(0);
    const body = Buffer.from(s, 'utf8');
    return Buffer.concat([uvarint(body.length + 1), body]);
  },
  compactBytes(b: Buffer | null): Buffer {
    if (b === null) return uvarint(0);
    return Buffer.concat([uvarint(b.length + 1), b]);
  },
  compactArrayLength: (n: number | null) => uvarint(n === null ? 0 : n + 1),
  /** An empty tagged-field section. */
  noTags: () => uvarint(0),
};
