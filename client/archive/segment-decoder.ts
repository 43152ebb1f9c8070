/**
 * Turns the bytes of one segment read, arriving in consecutive parts, into verified record
 * batches. A batch may straddle two parts: its head is carried over to the next part. Every batch
 * has its framing, magic and CRC-32C checked before anything else looks at it, and its offsets
 * must increase and stay inside the segment's committed range.
 */
import { CorruptRecordBatchError, ProtocolError, UnsupportedMagicError } from '../../protocol/errors.js';
import {
  batchSizeAt,
  decodeRecordBatch,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  type RecordBatch,
  readRecordBatchHeader,
  verifyRecordBatch,
} from '../../protocol/record-batch/index.js';
import { ArchiveChecksumError, ArchiveCorruptSegmentError, type ArchiveLocation } from './errors.js';
import type { SegmentRead } from './replay-plan.js';

/** A verified batch, not yet decoded (so batches nobody wants are never decompressed). */
export interface VerifiedBatch {
  buf: Buffer;
  position: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  isControl: boolean;
  /** Where the batch is, for errors. */
  location: ArchiveLocation;
}

export class SegmentDecoder {
  private carry: Buffer = Buffer.alloc(0);
  /** Object position of the next byte to arrive. */
  private position: number;
  private lastOffset = -1;

  constructor(
    private readonly topic: string,
    private readonly read: SegmentRead,
  ) {
    this.position = read.fromPosition;
  }

  /** The whole batches completed by the next part of the read (which starts where the last ended). */
  push(part: Buffer): VerifiedBatch[] {
    const bufferStart = this.position - this.carry.length;
    const buf = this.carry.length === 0 ? part : Buffer.concat([this.carry, part]);
    this.position += part.length;
    const batches: VerifiedBatch[] = [];
    let p = 0;
    while (buf.length - p >= LOG_OVERHEAD) {
      const size = batchSizeAt(buf, p);
      const location = this.location(bufferStart + p);
      if (size < RECORD_BATCH_OVERHEAD)
        throw new ArchiveCorruptSegmentError(location, `batch length ${size} is below the minimum`);
      if (p + size > buf.length) break; // the rest arrives with the next part
      batches.push(this.verify(buf, p, location));
      p += size;
    }
    this.carry = buf.subarray(p);
    return batches;
  }

  /**
   * Checks the read ended cleanly: no partial batch left over, and, when it read to the object's
   * end, the last batch ends where the segment's row says the segment ends.
   */
  finish(): void {
    const { segment, toPosition } = this.read;
    if (this.carry.length > 0)
      throw new ArchiveCorruptSegmentError(
        this.location(this.position - this.carry.length),
        `the read ends inside a batch (${this.carry.length} bytes left over)`,
      );
    if (toPosition === segment.sizeBytes && this.lastOffset !== segment.endOffset)
      throw new ArchiveCorruptSegmentError(
        this.location(this.position),
        `the object's last batch ends at offset ${this.lastOffset}, its row says ${segment.endOffset}`,
      );
  }

  /** Decodes (and decompresses) a verified batch's records. */
  decode(batch: VerifiedBatch): RecordBatch {
    try {
      return decodeRecordBatch(batch.buf, batch.position, { verifyCrc: false });
    } catch (error) {
      if (error instanceof ProtocolError || error instanceof RangeError)
        throw new ArchiveCorruptSegmentError(batch.location, `records do not decode: ${error.message}`, {
          cause: error,
        });
      throw error;
    }
  }

  private verify(buf: Buffer, p: number, location: ArchiveLocation): VerifiedBatch {
    try {
      verifyRecordBatch(buf, p);
    } catch (error) {
      if (error instanceof CorruptRecordBatchError && error.details.expectedCrc !== undefined)
        throw new ArchiveChecksumError(location, error.details.expectedCrc, error.details.actualCrc ?? 0, {
          cause: error,
        });
      if (error instanceof CorruptRecordBatchError || error instanceof UnsupportedMagicError)
        throw new ArchiveCorruptSegmentError(location, error.message, { cause: error });
      throw error;
    }
    let header: ReturnType<typeof readRecordBatchHeader>;
    try {
      header = readRecordBatchHeader(buf, p);
    } catch (error) {
      throw new ArchiveCorruptSegmentError(location, (error as Error).message, { cause: error });
    }
    const { segment } = this.read;
    const lastOffset = header.baseOffset + header.lastOffsetDelta;
    if (header.baseOffset <= this.lastOffset || header.baseOffset < segment.baseOffset)
      throw new ArchiveCorruptSegmentError(
        location,
        `batch offset ${header.baseOffset} does not follow ${Math.max(this.lastOffset, segment.baseOffset - 1)}`,
      );
    if (lastOffset > segment.endOffset)
      throw new ArchiveCorruptSegmentError(
        location,
        `batch ends at offset ${lastOffset}, past the segment's end ${segment.endOffset}`,
      );
    this.lastOffset = lastOffset;
    return {
      buf,
      position: p,
      baseOffset: header.baseOffset,
      lastOffset,
      maxTimestamp: header.maxTimestamp,
      isControl: header.isControl,
      location,
    };
  }

  private location(bytePosition: number): ArchiveLocation {
    const { segment } = this.read;
    return {
      topic: this.topic,
      partition: segment.partition,
      segmentBaseOffset: segment.baseOffset,
      bytePosition,
      objectKey: segment.keys.log,
    };
  }
}
