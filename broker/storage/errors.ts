/**
 * Storage errors. One class per condition; each carries the structured fields an operator needs
 * (which partition directory, which file, which offset) so logs never need string parsing.
 */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bytes on disk failed their CRC or framing check where no recovery applies (e.g. a sealed segment). */
export class CorruptSegmentError extends StorageError {
  override name = 'CorruptSegmentError';
  constructor(
    readonly file: string,
    readonly position: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`corrupt data in ${file} at byte ${position}: ${reason}`, options);
  }
}

/** A read asked for an offset outside [logStartOffset, logEndOffset]. Maps to OFFSET_OUT_OF_RANGE. */
export class OffsetOutOfRangeError extends StorageError {
  override name = 'OffsetOutOfRangeError';
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is outside the log range [${logStartOffset}, ${logEndOffset}]`);
  }
}

/** Batches handed to append are inconsistent (e.g. record count disagrees with offset delta). */
export class InvalidBatchError extends StorageError {
  override name = 'InvalidBatchError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** A follower append whose offsets do not follow the log end offset. */
export class NonMonotonicOffsetError extends StorageError {
  override name = 'NonMonotonicOffsetError';
  constructor(
    readonly offset: number,
    readonly logEndOffset: number,
  ) {
    super(`batch offset ${offset} does not follow the log end offset ${logEndOffset}`);
  }
}

/** An operation on a log or manager that has been closed. */
export class LogClosedError extends StorageError {
  override name = 'LogClosedError';
  constructor(readonly dir: string) {
    super(`log ${dir} is closed`);
  }
}

/** Configuration failed validation. */
export class LogConfigError extends StorageError {
  override name = 'LogConfigError';
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
  }
}
