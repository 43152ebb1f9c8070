import { pino } from 'pino';
import type { StructuredLogger } from '../broker/common/logger.js';
import type { ArchiveMetadataStore } from './archive-metadata-store.js';
import type { ArchiveObject, ArchiveObjects } from './archive-objects.js';
import { partitionPrefix } from './layout.js';
import type { UploadMarker } from './remote-segment.js';

/**
 * Deletes archive objects that nothing will ever reference:
 *
 * (a) the objects of uploads whose markers expired. The marker is deleted FIRST, conditionally on
 *     its expiry, and the objects only if that succeeded: an uploader can commit only while its
 *     marker exists (commitSegment consumes it), so once the marker is gone nothing can commit
 *     those keys, while deleting the objects first could pull them from under a commit;
 * (b) objects older than a grace period that neither a committed segment row nor an upload
 *     marker names. These remain when a cleaner or a failed uploader crashed between deleting a
 *     marker and its objects, when an uploader kept writing after its marker was taken, or when a
 *     deleted topic's partition got objects after retention removed it.
 *
 * Why (b) never deletes a live object: uploaders write the marker before the first object, and a
 * commit swaps the marker for the segment row in one transaction. The sweep takes `now`, THEN
 * reads the markers, THEN (per partition) the rows. A candidate object is older than
 * `now - grace`, so its marker, if any, was written before `now`; the marker snapshot therefore
 * holds it unless it was gone already: committed (the row, read later, names the object) or
 * cleaned up as expired (the object is garbage). Reading the rows before the markers would lose
 * a commit that lands between the two reads. The grace period covers clock skew between this
 * process and S3 and keeps the sweep off objects of uploads in flight.
 */

export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface OrphanSweepOptions {
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  /**
   * Default: the clock. Markers that expired before it go, and objects older than it minus the
   * grace period are candidates. Never ahead of the real clock outside tests (see above).
   */
  now?: number;
  /** Unreferenced objects younger than this are kept (default 1 hour). */
  graceMs?: number;
  /** Start no partition after this time (the Lambda's timeout); the next run goes on. */
  deadline?: number;
  logger?: StructuredLogger;
}

export interface OrphanSweepSummary {
  /** Expired upload markers deleted... */
  expiredUploads: number;
  /** ...and the objects they named (requested; some may never have been written). */
  expiredUploadObjects: number;
  /** Partition prefixes listed in the bucket. */
  partitionsScanned: number;
  /** Unreferenced objects past the grace period deleted, and their bytes. */
  orphansDeleted: number;
  orphanBytesDeleted: number;
  /** Markers or partitions that failed (logged); the next run retries them. */
  failures: number;
  /** True when the deadline stopped the sweep before every partition was scanned. */
  incomplete: boolean;
}

const silent = pino({ level: 'silent' });

/** "<topicId>/<partition>/" as laid out by layout.ts; anything else in the bucket is left alone. */
const PARTITION_PREFIX = /^([^/]+)\/(0|[1-9]\d*)\/$/;

export async function sweepOrphans(options: OrphanSweepOptions): Promise<OrphanSweepSummary> {
  const { metadata, objects } = options;
  const now = options.now ?? Date.now();
  const cutoff = now - (options.graceMs ?? DEFAULT_ORPHAN_GRACE_MS);
  const logger = options.logger ?? silent;
  const summary: OrphanSweepSummary = {
    expiredUploads: 0,
    expiredUploadObjects: 0,
    partitionsScanned: 0,
    orphansDeleted: 0,
    orphanBytesDeleted: 0,
    failures: 0,
    incomplete: false,
  };

  // (a) Expired markers. Keys of every marker not deleted here stay protected in (b).
  const protectedKeys = new Set<string>();
  const markers = await metadata.uploads();
  for (const marker of markers) {
    const where = { topicId: marker.topicId, partition: marker.partition, uploadId: marker.uploadId };
    let ended = false;
    if (marker.expiresAt < now) {
      try {
        ended = await metadata.endUpload(marker, now);
      } catch (error) {
        summary.failures++;
        logger.warn({ ...where, err: error }, 'could not delete an expired upload marker; will retry');
      }
    }
    const keys = Object.values(marker.keys);
    if (!ended) {
      // Unexpired, committed meanwhile, or unknown: its objects may yet be (or are) referenced.
      for (const key of keys) protectedKeys.add(key);
      continue;
    }
    summary.expiredUploads++;
    try {
      await objects.delete(keys);
      summary.expiredUploadObjects += keys.length;
      logger.info({ ...where, brokerId: marker.brokerId }, 'deleted an expired upload');
    } catch (error) {
      // The marker is gone, so (b) deletes these objects once they are past the grace period.
      summary.failures++;
      logger.warn({ ...where, err: error }, 'could not delete an expired upload; the sweep will');
    }
  }

  // (b) Unreferenced objects, one partition prefix at a time (bounded memory).
  for (const { topicId, partition } of await partitionsToSweep(markers, options)) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      summary.incomplete = true;
      break;
    }
    try {
      const deleted = await sweepPartition(topicId, partition, cutoff, protectedKeys, options);
      summary.partitionsScanned++;
      summary.orphansDeleted += deleted.length;
      summary.orphanBytesDeleted += deleted.reduce((sum, o) => sum + o.size, 0);
      if (deleted.length > 0)
        logger.info({ topicId, partition, deleted: deleted.length }, 'deleted orphaned archive objects');
    } catch (error) {
      summary.failures++;
      logger.warn({ topicId, partition, err: error }, 'orphan sweep failed for a partition; will retry');
    }
  }
  return summary;
}

/**
 * Every partition that may hold objects: those with an archive head or an upload marker, and
 * those found by listing the bucket's "folders", which also finds partitions with objects but no
 * items at all (stragglers of a deleted topic, or of a first upload whose cleanup crashed).
 * s3rver cannot list nested common prefixes, so locally only the first two kinds are swept.
 */
async function partitionsToSweep(
  markers: readonly UploadMarker[],
  { metadata, objects }: OrphanSweepOptions,
): Promise<{ topicId: string; partition: number }[]> {
  const found = new Map<string, { topicId: string; partition: number }>();
  const add = (topicId: string, partition: number) =>
    found.set(partitionPrefix(topicId, partition), { topicId, partition });
  for (const head of await metadata.heads()) add(head.topicId, head.partition);
  for (const marker of markers) add(marker.topicId, marker.partition);
  for (const topicPrefix of await objects.listPrefixes(''))
    for (const prefix of await objects.listPrefixes(topicPrefix)) {
      const match = PARTITION_PREFIX.exec(prefix);
      if (match) add(match[1]!, Number(match[2]));
    }
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

async function sweepPartition(
  topicId: string,
  partition: number,
  cutoff: number,
  protectedKeys: ReadonlySet<string>,
  { metadata, objects }: OrphanSweepOptions,
): Promise<ArchiveObject[]> {
  const old = (await objects.list(partitionPrefix(topicId, partition))).filter(
    (o) => o.lastModified < cutoff && !protectedKeys.has(o.key),
  );
  if (old.length === 0) return [];
  // Read after the marker snapshot (see the module comment). Every row, including any below the
  // log start that retention has yet to finish: retention deletes those objects itself.
  const referenced = new Set<string>();
  for (const segment of await metadata.segments(topicId, partition, 0))
    for (const key of Object.values(segment.keys)) referenced.add(key);
  const orphans = old.filter((o) => !referenced.has(o.key));
  await objects.delete(orphans.map((o) => o.key));
  return orphans;
}
