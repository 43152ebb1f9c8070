import type { SegmentObjectKeys } from './layout.js';

/** A leader epoch and the first offset written in it (one line of the leader-epoch checkpoint). */
export interface EpochStart {
  epoch: number;
  startOffset: number;
}

/**
 * A segment committed to the archive: its objects are in S3 and its row in DynamoDB.
 *
 * Invariants (kept by ArchiveMetadataStore.commitSegment):
 * - committed segments cover [head.logStartOffset, head.nextOffset) without gaps, in order of
 *   `endOffset`; two segments may overlap (a new leader's segment boundaries differ from the old
 *   leader's), but never end at the same offset, and an overlap holds the same records;
 * - every object named in `keys` exists until the row is deleted.
 */
export interface RemoteSegment {
  topic: string;
  topicId: string;
  partition: number;
  baseOffset: number;
  /** The last offset in the segment (inclusive). */
  endOffset: number;
  sizeBytes: number;
  /** Max record timestamp in the segment (-1 if none). */
  maxTimestamp: number;
  /** The epoch of the leader that uploaded it; commits are fenced by it. */
  leaderEpoch: number;
  /** The leader epochs whose records the segment holds, in order. */
  epochs: EpochStart[];
  uploadId: string;
  keys: SegmentObjectKeys;
  committedAt: number;
}

/** The archive's summary of one partition. */
export interface ArchiveHead {
  topic: string;
  topicId: string;
  partition: number;
  /**
   * The partition's log start offset: nothing below it is served. Advanced by retention, never
   * moved back.
   */
  logStartOffset: number;
  /** One past the last archived offset: everything in [logStartOffset, nextOffset) is in S3. */
  nextOffset: number;
}

/** An upload in progress. Its objects belong to it until it commits or expires. */
export interface UploadMarker {
  topicId: string;
  partition: number;
  uploadId: string;
  keys: SegmentObjectKeys;
  brokerId: number;
  startedAt: number;
  /** After this the uploader no longer commits, and the cleaner may delete the objects. */
  expiresAt: number;
}
