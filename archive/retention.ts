import { pino } from 'pino';
import type { StructuredLogger } from '../broker/common/logger.js';
import type { ArchiveMetadataStore } from './archive-metadata-store.js';
import type { ArchiveObjects } from './archive-objects.js';
import { partitionPrefix } from './layout.js';
import type { ArchiveHead, RemoteSegment } from './remote-segment.js';

/**
 * Archive retention (DESIGN.md, "Tiering and the archive"): deletes archived segments past a
 * topic's retention.ms / retention.bytes and advances the partition's log start offset, and
 * removes the archives of deleted topics. Run by the retention Lambda and, locally, by
 * `spool dev`'s timer.
 *
 * Per partition the steps are, in this order:
 *   1. advance the head's logStartOffset past the expired prefix (from then on no reader is sent
 *      to those segments, and brokers drop their local copies below it);
 *   2. delete the S3 objects of every segment wholly below the stored start;
 *   3. delete those segments' rows.
 * Every step is idempotent and each later step derives its work from the stored state left by the
 * earlier ones (rows below the start), so a run that crashes at any point is finished by the next
 * one, and two runs at once converge on the same state. Uploads only ever append segments at the
 * archive's end, past anything this deletes.
 */

/** A topic's archive retention: -1 means no limit. */
export interface TopicRetention {
  retentionMs: number;
  retentionBytes: number;
}

/**
 * The retention of the topic with this id, or null when no such topic exists (it was deleted).
 * It must reflect the topics table as read AFTER the archive heads were listed: otherwise a topic
 * created between the two reads would look deleted. It must throw, never return null, when it
 * cannot tell.
 */
export type TopicRetentionLookup = (topicId: string) => Promise<TopicRetention | null>;

export interface RetentionOptions {
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  topicConfigs: TopicRetentionLookup;
  /** The clock time retention is measured against (default: now). */
  now?: number;
  /** Start no partition after this time (the Lambda's timeout); the next run goes on. */
  deadline?: number;
  logger?: StructuredLogger;
}

export interface RetentionSummary {
  partitionsChecked: number;
  segmentsDeleted: number;
  bytesDeleted: number;
  /** Partitions whose log start offset this run moved. */
  logStartsAdvanced: number;
  /** Deleted topics whose archives this run removed... */
  topicsGone: number;
  /** ...and their partitions. */
  partitionsRemoved: number;
  /** Partitions that failed (logged); the next run retries them. */
  failures: number;
  /** True when the deadline stopped the run before every partition was checked. */
  incomplete: boolean;
}

const silent = pino({ level: 'silent' });

export async function applyRetention(options: RetentionOptions): Promise<RetentionSummary> {
  const now = options.now ?? Date.now();
  const logger = options.logger ?? silent;
  const summary: RetentionSummary = {
    partitionsChecked: 0,
    segmentsDeleted: 0,
    bytesDeleted: 0,
    logStartsAdvanced: 0,
    topicsGone: 0,
    partitionsRemoved: 0,
    failures: 0,
    incomplete: false,
  };
  // Heads first, topics after (see TopicRetentionLookup): a head listed here belongs to a topic
  // that existed before the topics are read, so a missing topic really was deleted.
  const heads = await options.metadata.heads();
  const goneTopics = new Set<string>();
  for (const head of heads) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      summary.incomplete = true;
      break;
    }
    const where = { topic: head.topic, topicId: head.topicId, partition: head.partition };
    try {
      const retention = await options.topicConfigs(head.topicId);
      summary.partitionsChecked++;
      if (retention === null) {
        const removed = await removePartition(head, options);
        goneTopics.add(head.topicId);
        summary.partitionsRemoved++;
        summary.segmentsDeleted += removed.segments;
        summary.bytesDeleted += removed.bytes;
        logger.info({ ...where, ...removed }, 'removed the archive of a deleted topic');
        continue;
      }
      const done = await retirePartition(head, retention, now, options);
      summary.segmentsDeleted += done.segments;
      summary.bytesDeleted += done.bytes;
      if (done.advanced) summary.logStartsAdvanced++;
      if (done.advanced || done.segments > 0) logger.info({ ...where, ...done }, 'applied archive retention');
    } catch (error) {
      // One partition's trouble (throttling, an invalid topic config) must not stop the others.
      summary.failures++;
      logger.warn({ ...where, err: error }, 'archive retention failed for a partition; will retry');
    }
  }
  summary.topicsGone = goneTopics.size;
  return summary;
}

/**
 * The segments retention expires, oldest first: those whose newest record is older than
 * retention.ms, and, with retention.bytes set, the oldest ones until what remains is within it.
 * Always a prefix: the first segment that is neither ends it, so the archive never gets a hole
 * (a segment with a future timestamp holds back time retention behind it, as in Kafka).
 *
 * `live` are the segments at or above the log start, in offset order. Overlapping segments (after
 * a leader change) count their bytes twice, which errs towards deleting a little early.
 */
export function expiredPrefix(
  live: readonly RemoteSegment[],
  retention: TopicRetention,
  now: number,
): RemoteSegment[] {
  let remaining = live.reduce((sum, s) => sum + s.sizeBytes, 0);
  let count = 0;
  for (const segment of live) {
    // A segment without record timestamps (-1) ages from its commit, which is no earlier.
    const newest = segment.maxTimestamp >= 0 ? segment.maxTimestamp : segment.committedAt;
    const tooOld = retention.retentionMs >= 0 && newest < now - retention.retentionMs;
    const tooBig = retention.retentionBytes >= 0 && remaining > retention.retentionBytes;
    if (!tooOld && !tooBig) break;
    remaining -= segment.sizeBytes;
    count++;
  }
  return live.slice(0, count);
}

interface PartitionOutcome {
  advanced: boolean;
  segments: number;
  bytes: number;
  logStartOffset: number;
}

async function retirePartition(
  head: ArchiveHead,
  retention: TopicRetention,
  now: number,
  { metadata, objects }: RetentionOptions,
): Promise<PartitionOutcome> {
  // Every row, including any left below the start by an interrupted run.
  const rows = await metadata.segments(head.topicId, head.partition, 0);
  const expired = expiredPrefix(
    rows.filter((s) => s.endOffset >= head.logStartOffset),
    retention,
    now,
  );
  let start = head.logStartOffset;
  let advanced = false;
  const last = expired[expired.length - 1];
  if (last) {
    advanced = await metadata.advanceLogStart(head.topicId, head.partition, last.endOffset + 1);
    // The stored start is the authority on what no reader can be sent to any more; a concurrent
    // run may have moved it further. No head: the topic is going away (removePartition's job).
    const current = await metadata.head(head.topicId, head.partition);
    if (!current) return { advanced, segments: 0, bytes: 0, logStartOffset: start };
    start = current.logStartOffset;
  }
  const retired = rows.filter((s) => s.endOffset < start);
  if (retired.length === 0) return { advanced, segments: 0, bytes: 0, logStartOffset: start };
  // Objects before rows: while a row remains, a re-run finds the segment and deletes its objects.
  await objects.delete(retired.flatMap((s) => Object.values(s.keys)));
  let segments = 0;
  let bytes = 0;
  for (const segment of retired) {
    if (await metadata.deleteSegment(segment)) {
      segments++;
      bytes += segment.sizeBytes;
    }
  }
  return { advanced, segments, bytes, logStartOffset: start };
}

/**
 * Deletes a deleted topic's partition from the archive. Objects go first, and the head (which
 * deletePartition takes first, in sort-key order) goes last in effect: the start is moved to the
 * archive's end so every row is retired and deleted the ordinary way, and only then does
 * deletePartition drop the head and any upload markers. A crash anywhere before that leaves the
 * head for the next run to find; one inside deletePartition can leave only upload markers, which
 * the orphan sweep removes with their objects once they expire. An upload still in flight loses
 * its marker here and then fails to commit; what it writes meanwhile is an orphan for the sweep.
 */
async function removePartition(
  head: ArchiveHead,
  { metadata, objects }: RetentionOptions,
): Promise<{ segments: number; bytes: number }> {
  const listed = await objects.list(partitionPrefix(head.topicId, head.partition));
  await objects.delete(listed.map((o) => o.key));
  await metadata.advanceLogStart(head.topicId, head.partition, head.nextOffset);
  let segments = 0;
  let bytes = 0;
  for (const segment of await metadata.segments(head.topicId, head.partition, 0)) {
    if (await metadata.deleteSegment(segment)) {
      segments++;
      bytes += segment.sizeBytes;
    }
  }
  await metadata.deletePartition(head.topicId, head.partition);
  return { segments, bytes };
}
