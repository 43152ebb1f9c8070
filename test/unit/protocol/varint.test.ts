import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  readInt64,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  type VarintCursor,
  writeInt64,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
  zigZagDecode32,
  zigZagEncode32,
} from '../../../protocol/bytes/varint.js';
import { MalformedVarintError, ValueOutOfRangeError } from '../../../protocol/errors.js';

const INT32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const UINT32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const EXACT_VARLONG = fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 });

/** Independent reference: zig-zag + LEB128 with BigInt, exactly as Kafka's ByteUtils writes varlongs. */
function referenceVarlong(value: number): Buffer {
  let zigZag = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
  const out: number[] = [];
  while (zigZag >= 0x80n) {
    out.push(Number(zigZag & 0x7fn) | 0x80);
    zigZag >>= 7n;
  }
  out.push(Number(zigZag));
  return Buffer.from(out);
}

function encode(write: (buf: Uint8Array, position: number, value: number) => number, value: number): Buffer {
  const buf = Buffer.alloc(16, 0xee);
  const end = write(buf, 0, value);
  return buf.subarray(0, end);
}

function hex(value: string): Buffer {
  return Buffer.from(value, 'hex');
}

describe('zig-zag varint (int32)', () => {
  const vectors: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [150, 'ac02'],
    [-150, 'ab02'],
    [300, 'd804'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];

  it.each(vectors)('encodes %i as %s and decodes it back', (value, bytes) => {
    expect(encode(writeVarint, value).toString('hex')).toBe(bytes);
    expect(sizeOfVarint(value)).toBe(bytes.length / 2);
    const cursor: VarintCursor = { position: 0 };
    expect(readVarint(hex(bytes), cursor)).toBe(value);
    expect(cursor.position).toBe(bytes.length / 2);
  });

  it('zig-zag maps small magnitudes to small unsigned values', () => {
    expect([0, -1, 1, -2, 2].map(zigZagEncode32)).toEqual([0, 1, 2, 3, 4]);
    expect(zigZagEncode32(2147483647)).toBe(0xfffffffe);
    expect(zigZagEncode32(-2147483648)).toBe(0xffffffff);
    expect(zigZagDecode32(0xffffffff)).toBe(-2147483648);
  });

  it('round-trips every int32, agrees with the reference encoding and with sizeOfVarint', () => {
    fc.assert(
      fc.property(INT32, (value) => {
        const bytes = encode(writeVarint, value);
        expect(bytes).toEqual(referenceVarlong(value));
        expect(sizeOfVarint(value)).toBe(bytes.length);
        const cursor: VarintCursor = { position: 0 };
        expect(readVarint(bytes, cursor)).toBe(value);
        expect(cursor.position).toBe(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips unsigned varints, and 300 is the classic ac 02', () => {
    expect(encode(writeUnsignedVarint, 300).toString('hex')).toBe('ac02');
    expect(encode(writeUnsignedVarint, 0xffffffff).toString('hex')).toBe('ffffffff0f');
    fc.assert(
      fc.property(UINT32, (value) => {
        const bytes = encode(writeUnsignedVarint, value);
        expect(sizeOfUnsignedVarint(value)).toBe(bytes.length);
        const cursor: VarintCursor = { position: 0 };
        expect(readUnsignedVarint(bytes, cursor)).toBe(value);
        expect(cursor.position).toBe(bytes.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a sequence of varints at increasing positions', () => {
    fc.assert(
      fc.property(fc.array(INT32, { maxLength: 20 }), fc.nat({ max: 5 }), (values, start) => {
        const buf = Buffer.alloc(start + values.length * 5);
        let end = start;
        for (const value of values) end = writeVarint(buf, end, value);
        expect(end - start).toBe(values.reduce((sum, v) => sum + sizeOfVarint(v), 0));
        const cursor: VarintCursor = { position: start };
        expect(values.map(() => readVarint(buf, cursor))).toEqual(values);
        expect(cursor.position).toBe(end);
      }),
    );
  });

  it('rejects a varint longer than five bytes', () => {
    for (const bytes of ['8080808080', '808080808000', 'ffffffffff01', 'ffffffffffffffffff01']) {
      const cursor: VarintCursor = { position: 0 };
      const buf = hex(bytes);
      expect(() => readUnsignedVarint(buf, cursor)).toThrow(MalformedVarintError);
      expect(() => readVarint(buf, cursor)).toThrow(MalformedVarintError);
      expect(cursor.position).toBe(0);
    }
  });

  it('rejects a truncated varint and reports where it started', () => {
    for (const bytes of ['', '80', 'ff', 'ffff', 'ffffffff']) {
      const buf = Buffer.concat([hex('0102'), hex(bytes)]);
      const cursor: VarintCursor = { position: 2 };
      let error: unknown;
      try {
        readVarint(buf, cursor);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MalformedVarintError);
      expect((error as MalformedVarintError).position).toBe(2);
      expect(cursor.position).toBe(2);
    }
  });

  it('any truncation of a multi-byte varint is rejected', () => {
    fc.assert(
      fc.property(
        INT32.filter((v) => sizeOfVarint(v) > 1),
        fc.nat(),
        (value, cut) => {
          const bytes = encode(writeVarint, value);
          const truncated = bytes.subarray(0, cut % bytes.length);
          expect(() => readVarint(truncated, { position: 0 })).toThrow(MalformedVarintError);
        },
      ),
    );
  });
});

describe('zig-zag varlong', () => {
  const vectors: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [300, 'd804'],
    [2147483648, '8080808010'],
    [1_700_000_000_000, '80a0abfef962'],
    [-1_700_000_000_000, 'ff9fabfef962'],
    [2 ** 52 - 1, 'feffffffffffff0f'],
    [-(2 ** 52) + 1, 'fdffffffffffff0f'],
  ];

  it.each(vectors)('encodes %i as %s and decodes it back', (value, bytes) => {
    expect(encode(writeVarlong, value).toString('hex')).toBe(bytes);
    expect(sizeOfVarlong(value)).toBe(bytes.length / 2);
    const cursor: VarintCursor = { position: 0 };
    expect(readVarlong(hex(bytes), cursor)).toBe(value);
    expect(cursor.position).toBe(bytes.length / 2);
  });

  it('round-trips every |v| < 2^52, agrees with the BigInt reference and with sizeOfVarlong', () => {
    fc.assert(
      fc.property(fc.oneof(EXACT_VARLONG, INT32), (value) => {
        const bytes = encode(writeVarlong, value);
        expect(bytes).toEqual(referenceVarlong(value));
        expect(sizeOfVarlong(value)).toBe(bytes.length);
        const cursor: VarintCursor = { position: 0 };
        expect(readVarlong(bytes, cursor)).toBe(value);
        expect(cursor.position).toBe(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to write values it cannot represent exactly', () => {
    for (const value of [2 ** 52, -(2 ** 52), Number.MAX_SAFE_INTEGER, 2 ** 60, 0.5, Number.NaN]) {
      expect(() => writeVarlong(Buffer.alloc(16), 0, value)).toThrow(ValueOutOfRangeError);
      expect(() => sizeOfVarlong(value)).toThrow(ValueOutOfRangeError);
    }
  });

  it('rejects on read exactly what it refuses to write', () => {
    // zig-zag 2^53 - 2 is 2^52 - 1: the largest accepted magnitude.
    expect(readVarlong(hex('feffffffffffff0f'), { position: 0 })).toBe(2 ** 52 - 1);
    // zig-zag 2^53 - 1 would be -2^52, and 2^53 would be 2^52: neither can be written back.
    expect(() => readVarlong(hex('ffffffffffffff0f'), { position: 0 })).toThrow(MalformedVarintError);
    expect(() => readVarlong(hex('8080808080808010'), { position: 0 })).toThrow(MalformedVarintError);
    // Long.MIN_VALUE and Long.MAX_VALUE, as Kafka's Java client would write them.
    expect(() => readVarlong(hex('ffffffffffffffffff01'), { position: 0 })).toThrow(MalformedVarintError);
    expect(() => readVarlong(hex('feffffffffffffffff01'), { position: 0 })).toThrow(MalformedVarintError);
  });

  it('rejects a varlong longer than ten bytes and a truncated varlong', () => {
    for (const bytes of ['8080808080808080808000', 'ffffffffffffffffffff01', '', '80', '8080808080']) {
      const cursor: VarintCursor = { position: 0 };
      expect(() => readVarlong(hex(bytes), cursor)).toThrow(MalformedVarintError);
      expect(cursor.position).toBe(0);
    }
    // Ten bytes with a clean end is within the width limit (value 0 written non-minimally).
    expect(readVarlong(hex('80808080808080808000'), { position: 0 })).toBe(0);
  });

  it('any truncation of a multi-byte varlong is rejected', () => {
    fc.assert(
      fc.property(
        EXACT_VARLONG.filter((v) => sizeOfVarlong(v) > 1),
        fc.nat(),
        (value, cut) => {
          const bytes = encode(writeVarlong, value);
          const truncated = bytes.subarray(0, cut % bytes.length);
          expect(() => readVarlong(truncated, { position: 0 })).toThrow(MalformedVarintError);
        },
      ),
    );
  });
});

describe('int64', () => {
  it('round-trips safe integers in big-endian two’s complement', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const buf = Buffer.alloc(8);
        writeInt64(buf, 0, value);
        expect(buf.readBigInt64BE(0)).toBe(BigInt(value));
        expect(readInt64(buf, 0)).toBe(value);
      }),
    );
  });

  it('refuses values that are not safe integers', () => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64BE(2n ** 53n, 0);
    expect(() => readInt64(buf, 0)).toThrow(ValueOutOfRangeError);
    buf.writeBigInt64BE(-(2n ** 63n), 0);
    expect(() => readInt64(buf, 0)).toThrow(ValueOutOfRangeError);
    expect(() => writeInt64(buf, 0, 2 ** 53)).toThrow(ValueOutOfRangeError);
  });
});
