/**
 * Internal error classes for the protocol layer. Each condition has its own class so callers can
 * `instanceof`-match, and each carries the structured fields needed to log or map it to a wire error.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A buffer ended before the structure it should hold was complete. */
export class BufferUnderflowError extends ProtocolError {
  override name = 'BufferUnderflowError';
  constructor(
    readonly needed: number,
    readonly available: number,
    readonly position: number,
  ) {
    super(`needed ${needed} bytes at position ${position} but only ${available} remain`);
  }
}

/** A varint ran past its maximum width or encoded a value outside its type. */
export class MalformedVarintError extends ProtocolError {
  override name = 'MalformedVarintError';
  constructor(readonly position: number) {
    super(`malformed varint at position ${position}`);
  }
}

/** A record batch failed its CRC-32C check or its framing is inconsistent (maps to CORRUPT_MESSAGE). */
export class CorruptRecordBatchError extends ProtocolError {
  override name = 'CorruptRecordBatchError';
  constructor(
    message: string,
    readonly details: {
      position?: number;
      expectedCrc?: number;
      actualCrc?: number;
      baseOffset?: number;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A record batch uses a magic byte other than 2 (message formats v0 and v1 are not supported). */
export class UnsupportedMagicError extends ProtocolError {
  override name = 'UnsupportedMagicError';
  constructor(readonly magic: number) {
    super(`unsupported record batch magic ${magic}; only magic 2 (RecordBatch v2) is supported`);
  }
}

/** The compression bits name a codec that does not exist (maps to UNSUPPORTED_COMPRESSION_TYPE). */
export class UnsupportedCompressionError extends ProtocolError {
  override name = 'UnsupportedCompressionError';
  constructor(readonly codec: number) {
    super(`unsupported compression codec ${codec}`);
  }
}

/**
 * The codec exists but its native module is not installed here: the Lambda bundles leave the
 * native codecs out (lambdas/, cdk/lib/spool-function.ts). Brokers and the SDK always have them.
 */
export class CodecNotInstalledError extends UnsupportedCompressionError {
  override name = 'CodecNotInstalledError';
  constructor(
    codec: number,
    readonly module: string,
  ) {
    super(codec);
    this.message = `compression codec ${codec} needs the native module ${module}, which is not installed here`;
  }
}

/** A value does not fit the protocol type it must be written as. */
export class ValueOutOfRangeError extends ProtocolError {
  override name = 'ValueOutOfRangeError';
  constructor(
    readonly field: string,
    readonly value: number | bigint,
  ) {
    super(`${field} value ${value} is out of range`);
  }
}
