import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ArchiveMetadataStore, LeaderEpochFence } from '../../archive/archive-metadata-store.js';
import type { ArchiveObjects } from '../../archive/archive-objects.js';
import { ArchiveCommitConflictError, ArchiveFencedError, UploadExpiredError } from '../../archive/errors.js';
import { segmentObjectKeys } from '../../archive/layout.js';
import type { EpochStart, RemoteSegment } from '../../archive/remote-segment.js';
import type { Logger } from '../common/logger.js';
import { listSnapshotOffsets, snapshotPath } from '../replication/producer-state-snapshot.js';
import type { SealedSegment } from '../storage/partition-log.js';

export interface UploadTarget {
  topic: string;
  topicId: string;
  partition: number;
  /** The partition directory (for the producer-state snapshot). */
  dir: string;
  /** The uploader's leader epoch: the commit only counts while it is still the partition's. */
  leaderEpoch: number;
  /** The partition's leader-epoch cache. */
  epochs: readonly EpochStart[];
}

export interface UploaderDeps {
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  brokerId: number;
  /** How long an upload may take before its marker expires and the cleaner may take its objects. */
  uploadTimeoutMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Uploads one sealed segment and commits it. The order is what makes it safe:
 * 1. an upload marker goes to DynamoDB first, naming every object key, so objects written by an
 *    attempt that then dies are found and deleted by the orphan sweep;
 * 2. the objects go to S3 (the log as a multipart upload when large);
 * 3. the commit transaction checks the leader epoch and the marker, and writes the segment row.
 * A failure that certainly left nothing committed deletes what it wrote (best effort; the sweep
 * covers a crash and an ambiguous commit) and throws.
 */
export async function uploadSegment(
  target: UploadTarget,
  segment: SealedSegment,
  deps: UploaderDeps,
  fence: LeaderEpochFence,
): Promise<RemoteSegment> {
  const now = deps.now ?? Date.now;
  const uploadId = randomUUID();
  const keys = segmentObjectKeys(
    target.topicId,
    target.partition,
    segment.baseOffset,
    target.leaderEpoch,
    uploadId,
  );
  const startedAt = now();
  await deps.metadata.beginUpload({
    topicId: target.topicId,
    partition: target.partition,
    uploadId,
    keys,
    brokerId: deps.brokerId,
    startedAt,
    expiresAt: startedAt + deps.uploadTimeoutMs,
  });
  const remote: RemoteSegment = {
    topic: target.topic,
    topicId: target.topicId,
    partition: target.partition,
    baseOffset: segment.baseOffset,
    endOffset: segment.endOffset,
    sizeBytes: segment.sizeInBytes,
    maxTimestamp: segment.maxTimestamp,
    leaderEpoch: target.leaderEpoch,
    epochs: epochsOf(target.epochs, segment.baseOffset, segment.endOffset),
    uploadId,
    keys,
    committedAt: 0,
  };
  try {
    await deps.objects.put(keys.log, { path: segment.logPath });
    await deps.objects.put(keys.index, { path: segment.offsetIndexPath });
    await deps.objects.put(keys.timeindex, { path: segment.timeIndexPath });
    await deps.objects.put(keys.epochs, Buffer.from(JSON.stringify(remote.epochs)));
    await deps.objects.put(keys.snapshot, await snapshotAtOrBefore(target.dir, segment.endOffset + 1));
  } catch (error) {
    await discardQuietly(deps, remote);
    throw error;
  }
  remote.committedAt = now();
  try {
    await deps.metadata.commitSegment(remote, fence, remote.committedAt);
  } catch (error) {
    // Only a definite refusal proves the segment row was not written. Any other failure (a timeout,
    // a dropped connection) may have committed after all, and deleting the objects then would lose
    // archived data: those are left to the orphan sweep, which keeps whatever a segment row names.
    if (isCommitRefused(error)) await discardQuietly(deps, remote);
    throw error;
  }
  return remote;
}

function isCommitRefused(error: unknown): boolean {
  return (
    error instanceof ArchiveFencedError ||
    error instanceof UploadExpiredError ||
    error instanceof ArchiveCommitConflictError
  );
}

async function discardQuietly(deps: UploaderDeps, segment: RemoteSegment): Promise<void> {
  await discard(deps, segment).catch((cleanupError: unknown) =>
    deps.logger.warn(
      { err: cleanupError, uploadId: segment.uploadId },
      'could not clean up a failed upload; the sweep will',
    ),
  );
}

async function discard(deps: UploaderDeps, segment: RemoteSegment): Promise<void> {
  // The marker goes first: once it is gone nothing can commit these keys, so deleting is safe.
  await deps.metadata.endUpload(segment);
  await deps.objects.delete(Object.values(segment.keys));
}

/** The epochs whose records fall in [base, end]: the one in force at `base`, then any later starts. */
export function epochsOf(all: readonly EpochStart[], base: number, end: number): EpochStart[] {
  const result: EpochStart[] = [];
  for (const entry of all) {
    if (entry.startOffset > end) break;
    if (entry.startOffset <= base) result.splice(0, result.length, { epoch: entry.epoch, startOffset: base });
    else result.push({ ...entry });
  }
  return result;
}

/**
 * The newest producer-state snapshot at or before `offset` (empty if there is none): what a
 * replica restoring from the archive would replay forward from.
 */
async function snapshotAtOrBefore(dir: string, offset: number): Promise<Buffer> {
  const candidates = (await listSnapshotOffsets(dir)).filter((o) => o <= offset);
  const newest = candidates[candidates.length - 1];
  if (newest === undefined) return Buffer.alloc(0);
  try {
    return await readFile(snapshotPath(dir, newest));
  } catch (error) {
    // Snapshots are pruned concurrently; a vanished one is as good as none.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}
