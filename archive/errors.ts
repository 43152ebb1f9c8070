/** Errors of the archive (tiered storage). Each names the partition and segment it concerns. */

export interface SegmentRef {
  topic: string;
  partition: number;
  baseOffset: number;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
  constructor(
    message: string,
    readonly segment: SegmentRef,
    options?: { cause?: unknown },
  ) {
    super(`${segment.topic}-${segment.partition} segment ${segment.baseOffset}: ${message}`, options);
  }
}

/** The uploader is no longer the partition's leader (its leader epoch moved on): it must not commit. */
export class ArchiveFencedError extends ArchiveError {
  override name = 'ArchiveFencedError';
  constructor(
    segment: SegmentRef,
    readonly leaderEpoch: number,
    cause?: unknown,
  ) {
    super(`leader epoch ${leaderEpoch} is no longer current`, segment, { cause });
  }
}

/** The upload took past its marker's expiry (or the marker was cleaned up): its objects are orphans. */
export class UploadExpiredError extends ArchiveError {
  override name = 'UploadExpiredError';
  constructor(
    segment: SegmentRef,
    readonly uploadId: string,
    cause?: unknown,
  ) {
    super(`upload ${uploadId} expired before it committed`, segment, { cause });
  }
}

/** The segment does not continue the archive (a gap, or its offsets are archived already). */
export class ArchiveCommitConflictError extends ArchiveError {
  override name = 'ArchiveCommitConflictError';
  constructor(
    segment: SegmentRef,
    readonly endOffset: number,
    cause?: unknown,
  ) {
    super(`does not continue the archive (ends at ${endOffset})`, segment, { cause });
  }
}

/** A remote object is missing or shorter than its metadata says. */
export class ArchiveObjectError extends Error {
  override name = 'ArchiveObjectError';
  constructor(
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${key}: ${message}`, options);
  }
}
