import { resolveTopicConfig } from '../broker/cluster/topic-config.js';
import type { TopicRecord, TopicStore } from '../broker/cluster/topic-store.js';
import type { StructuredLogger } from '../broker/common/logger.js';
import type { ArchiveMetadataStore } from './archive-metadata-store.js';
import type { ArchiveObjects } from './archive-objects.js';
import { type OrphanSweepSummary, sweepOrphans } from './orphan-sweep.js';
import { applyRetention, type RetentionSummary, type TopicRetentionLookup } from './retention.js';

/**
 * One archive maintenance run: retention, then the orphan sweep. What the retention Lambda does
 * on each scheduled event and what `spool dev` does on its timer, so both run the same code.
 */

/**
 * Topic retention from the topics table (TopicStore), keyed by topic id. The table is read once,
 * on the first lookup, so a run reads it after listing the archive heads (as applyRetention
 * requires). Make one per run. A failed read fails every lookup (never "no such topic"), and a
 * topic whose stored config does not validate fails its lookup, so its archive is left alone.
 */
export function topicRetentionFromStore(topics: Pick<TopicStore, 'list'>): TopicRetentionLookup {
  let byId: Promise<Map<string, TopicRecord>> | undefined;
  return async (topicId) => {
    byId ??= topics.list().then((records) => new Map(records.map((r) => [r.topicId, r])));
    const record = (await byId).get(topicId);
    if (!record) return null;
    const config = resolveTopicConfig(record.config);
    return { retentionMs: config['retention.ms'], retentionBytes: config['retention.bytes'] };
  };
}

export interface ArchiveMaintenanceDeps {
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  topics: Pick<TopicStore, 'list'>;
  /** Unreferenced objects younger than this are kept by the orphan sweep (default 1 hour). */
  orphanGraceMs?: number;
  /** Start no partition after this time; the next run goes on. */
  deadline?: number;
  logger?: StructuredLogger;
}

export interface ArchiveMaintenanceSummary {
  retention: RetentionSummary;
  orphans: OrphanSweepSummary;
  durationMs: number;
}

export async function runArchiveMaintenance(
  deps: ArchiveMaintenanceDeps,
): Promise<ArchiveMaintenanceSummary> {
  const started = Date.now();
  const common = {
    metadata: deps.metadata,
    objects: deps.objects,
    ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  };
  const retention = await applyRetention({
    ...common,
    topicConfigs: topicRetentionFromStore(deps.topics),
    now: started,
  });
  // The sweep takes its own `now`, right before it reads the upload markers (its safety argument
  // needs `now` no later than that read).
  const orphans = await sweepOrphans({
    ...common,
    ...(deps.orphanGraceMs !== undefined ? { graceMs: deps.orphanGraceMs } : {}),
  });
  return { retention, orphans, durationMs: Date.now() - started };
}
