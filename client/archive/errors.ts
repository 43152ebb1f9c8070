/**
 * Errors of the ArchiveReader. Every one is a SpoolError (the SDK's promise), one class per
 * condition, and those about stored bytes say exactly where: topic, partition, the segment's base
 * offset and the byte position in its .log object, so an operator can fetch and inspect the object.
 */
import { SpoolError } from '../errors.js';

/** Where in the archive a problem was found. */
export interface ArchiveLocation {
  topic: string;
  partition: number;
  /** Base offset of the segment (its .log object's first batch). */
  segmentBaseOffset: number;
  /** Byte position of the offending batch in the segment's .log object. */
  bytePosition: number;
  /** The S3 key of the .log object. */
  objectKey: string;
}

function where(location: ArchiveLocation): string {
  return `${location.topic}-${location.partition} segment ${location.segmentBaseOffset} at byte ${location.bytePosition} (${location.objectKey})`;
}

/** A problem with stored bytes, at a known place in a segment (never retriable: the bytes stay). */
abstract class ArchiveBytesError extends SpoolError implements ArchiveLocation {
  readonly topic: string;
  readonly partition: number;
  readonly segmentBaseOffset: number;
  readonly bytePosition: number;
  readonly objectKey: string;

  protected constructor(location: ArchiveLocation, message: string, options: { cause?: unknown }) {
    super(message, { cause: options.cause, retriable: false });
    ({
      topic: this.topic,
      partition: this.partition,
      segmentBaseOffset: this.segmentBaseOffset,
      bytePosition: this.bytePosition,
      objectKey: this.objectKey,
    } = location);
  }
}

/**
 * A batch's stored CRC-32C does not match its bytes: the object was damaged at rest or in transit
 * (S3 checks its own transfers, so this means the bytes were written wrong or altered). Not
 * retriable: the same object gives the same bytes.
 */
export class ArchiveChecksumError extends ArchiveBytesError {
  override name = 'ArchiveChecksumError';

  constructor(
    location: ArchiveLocation,
    readonly storedCrc: number,
    readonly computedCrc: number,
    options: { cause?: unknown } = {},
  ) {
    super(
      location,
      `record batch CRC mismatch in ${where(location)}: stored ${storedCrc.toString(16)}, computed ${computedCrc.toString(16)}`,
      options,
    );
  }
}

/**
 * A segment's bytes are not what its committed row promises, other than a CRC mismatch: broken
 * batch framing, a magic byte other than 2, an object shorter than the row says, records that do
 * not decode or decompress, or offsets outside the segment's range or not increasing.
 */
export class ArchiveCorruptSegmentError extends ArchiveBytesError {
  override name = 'ArchiveCorruptSegmentError';

  constructor(
    location: ArchiveLocation,
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(location, `corrupt archived segment ${where(location)}: ${reason}`, options);
  }
}

/**
 * An object a committed segment row names is not in the bucket. Retention deletes a segment's
 * objects only after moving the log start offset past it, so during a replay this usually means
 * retention overtook the replay: replaying again starts from the new log start offset (hence
 * retriable).
 */
export class ArchiveSegmentMissingError extends SpoolError {
  override name = 'ArchiveSegmentMissingError';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly segmentBaseOffset: number,
    readonly objectKey: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      `${topic}-${partition} segment ${segmentBaseOffset}: object ${objectKey} is gone (deleted by retention during the replay?)`,
      { cause: options.cause, retriable: true },
    );
  }
}

/** The archive has no partition of a topic by this name (and no topic id was given). */
export class ArchiveTopicNotFoundError extends SpoolError {
  override name = 'ArchiveTopicNotFoundError';
  constructor(
    readonly topic: string,
    readonly topicId?: string,
  ) {
    super(
      topicId === undefined
        ? `the archive has nothing for topic ${topic}`
        : `the archive has nothing for topic ${topic} with id ${topicId}`,
    );
  }
}

/**
 * The archive holds several incarnations of a topic name (deleted and re-created) and the topics
 * table does not say which is current: pass `topicId` to choose.
 */
export class AmbiguousArchiveTopicError extends SpoolError {
  override name = 'AmbiguousArchiveTopicError';
  constructor(
    readonly topic: string,
    readonly topicIds: readonly string[],
  ) {
    super(
      `the archive holds ${topicIds.length} topics named ${topic} (ids ${topicIds.join(', ')}) and none is current; pass topicId`,
    );
  }
}

/**
 * Internal: an object is not in the bucket (S3's NoSuchKey). The replay turns it into an
 * ArchiveSegmentMissingError naming the segment; a missing index only means a wider read.
 */
export class NoSuchObjectError extends Error {
  override name = 'NoSuchObjectError';
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`no such object: ${key}`, options);
  }
}
