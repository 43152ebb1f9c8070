import { readUnsignedVarint, readVarint, type VarintCursor } from '../bytes/varint.js';
import { BufferUnderflowError } from '../errors.js';

const TWO_POW_32 = 2 ** 32;

/** A bounds-checked big-endian reader over one protocol message. Every read that would overrun throws. */
export class ByteReader implements VarintCursor {
  position: number;

  constructor(
    readonly buf: Buffer,
    position = 0,
  ) {
    this.position = position;
  }

  get remaining(): number {
    return this.buf.length - this.position;
  }

  private take(size: number): number {
    if (size < 0 || this.position + size > this.buf.length) {
      throw new BufferUnderflowError(size, this.remaining, this.position);
    }
    const at = this.position;
    this.position += size;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  /**
   * int64 as a number. Values beyond 2^53 (which no field Spool acts on ever holds) are rounded
   * rather than rejected, so an odd client value cannot fail a whole request.
   */
  int64(): number {
    const at = this.take(8);
    return this.buf.readInt32BE(at) * TWO_POW_32 + this.buf.readUInt32BE(at + 4);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  unsignedVarint(): number {
    return readUnsignedVarint(this.buf, this);
  }

  varint(): number {
    return readVarint(this.buf, this);
  }

  /** `size` bytes as a view into the request buffer (no copy). */
  bytes(size: number): Buffer {
    const at = this.take(size);
    return this.buf.subarray(at, at + size);
  }
}
