import type { Registry } from 'prom-client';
import type { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import type { ArchiveObjects } from '../../archive/archive-objects.js';
import { ArchiveObjectError } from '../../archive/errors.js';
import type { ArchiveHead, RemoteSegment } from '../../archive/remote-segment.js';
import type { MetadataCache } from '../cluster/metadata-cache.js';
import { partitionSortKey } from '../cluster/partition-state-store.js';
import { tableName } from '../cluster/tables.js';
import { resolveTopicConfig } from '../cluster/topic-config.js';
import type { Logger } from '../common/logger.js';
import type { Partition } from '../replication/partition.js';
import type { TieredLog } from '../replication/replica-manager.js';
import { BoundedPool } from './bounded-pool.js';
import { RemoteIndexCache } from './remote-index-cache.js';
import { RemoteLogReader } from './remote-log-reader.js';
import { uploadSegment } from './segment-uploader.js';
import type { TieringConfig } from './tiering-config.js';
import { TieringMetrics } from './tiering-metrics.js';

export interface RemoteLogManagerDeps {
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  topics: MetadataCache;
  /** The partitions this broker hosts right now. */
  partitions: () => Iterable<Partition>;
  brokerId: number;
  tablePrefix: string;
  /** Where remote index files are cached. */
  cacheDir: string;
  logger: Logger;
  /** Where tiering metrics are registered (none without). */
  registry?: Registry;
}

/**
 * Tiered storage on one broker (DESIGN.md, "Tiering and the archive"). Every `intervalMs` it
 * tends each local partition:
 * - as leader, uploads sealed segments below the high watermark that the archive does not have
 *   yet, oldest first, each committed under the leader-epoch fence (segment-uploader.ts);
 * - as any replica, deletes local segments once they are archived AND past local retention
 *   (local.retention.ms / local.retention.bytes), and everything below the archive's log start
 *   offset once retention has moved it.
 * It also serves consumers' reads below the local log start from S3 (TieredLog).
 *
 * Invariant: a local segment is deleted only when its end offset is below the archive head's
 * nextOffset as read from DynamoDB, i.e. only after its commit; S3 failures only delay uploads.
 */
export class RemoteLogManager implements TieredLog {
  private readonly heads = new Map<string, ArchiveHead | null>();
  private readonly segmentLists = new Map<string, RemoteSegment[]>();
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private readonly reader: RemoteLogReader;
  private readonly metrics: TieringMetrics | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: RemoteLogManagerDeps,
    private readonly config: TieringConfig,
  ) {
    const indexes = new RemoteIndexCache(deps.cacheDir, deps.objects, config.indexCacheBytes);
    const pool = new BoundedPool(config.remoteReadConcurrency);
    this.reader = new RemoteLogReader(deps.objects, indexes, pool);
    this.metrics = deps.registry ? new TieringMetrics(deps.registry, () => pool.queued) : undefined;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.pass = this.tendAll().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.config.intervalMs);
      });
    };
    this.timer = setTimeout(loop, this.config.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  /** One pass over every local partition (also called directly by tests). */
  async tendAll(): Promise<void> {
    for (const partition of [...this.deps.partitions()]) {
      if (this.stopped) return;
      const key = keyOf(partition);
      const failure = this.failures.get(key);
      if (failure && Date.now() < failure.retryAt) continue;
      try {
        await this.tend(partition);
        this.failures.delete(key);
      } catch (error) {
        // S3 or DynamoDB trouble: back off exponentially (up to a minute) and try again later;
        // nothing local is deleted until an archive commit has been seen.
        this.metrics?.uploadFailures.inc();
        const count = (failure?.count ?? 0) + 1;
        const delay = Math.min(60_000, this.config.intervalMs * 2 ** Math.min(count, 10));
        this.failures.set(key, { count, retryAt: Date.now() + delay });
        this.deps.logger.warn(
          { err: error, topic: partition.topic, partition: partition.index, retryInMs: delay },
          'tiering failed; will retry',
        );
      }
    }
  }

  private async tend(partition: Partition): Promise<void> {
    const state = partition.state;
    if (!state) return;
    let head = await this.refreshHead(partition);
    if (partition.isLeader()) head = await this.uploadPending(partition, head);
    if (head) await this.enforceLocalRetention(partition, head);
  }

  private async uploadPending(partition: Partition, head: ArchiveHead | null): Promise<ArchiveHead | null> {
    const state = partition.state!;
    for (const segment of await partition.log.sealedSegments()) {
      if (head && segment.endOffset < head.nextOffset) continue;
      // Only replicated data is archived: a segment past the high watermark may yet be truncated.
      if (segment.endOffset >= partition.highWatermark) break;
      if (head && segment.baseOffset > head.nextOffset) {
        this.deps.logger.warn(
          {
            topic: state.topic,
            partition: state.partition,
            archiveEnd: head.nextOffset,
            segment: segment.baseOffset,
          },
          'local log starts past the archive end; cannot archive without a gap',
        );
        break;
      }
      if (this.stopped || !partition.isLeader() || partition.leaderEpoch !== state.leaderEpoch) break;
      const remote = await uploadSegment(
        {
          topic: state.topic,
          topicId: state.topicId,
          partition: state.partition,
          dir: partition.log.dir,
          leaderEpoch: state.leaderEpoch,
          epochs: partition.log.leaderEpochs.all,
        },
        segment,
        {
          metadata: this.deps.metadata,
          objects: this.deps.objects,
          brokerId: this.deps.brokerId,
          uploadTimeoutMs: this.config.uploadTimeoutMs,
          logger: this.deps.logger,
        },
        {
          tableName: tableName(this.deps.tablePrefix, 'partitions'),
          key: { pk: state.topic, sk: partitionSortKey(state.partition) },
          leaderEpoch: state.leaderEpoch,
        },
      );
      this.metrics?.segmentsUploaded.inc();
      this.metrics?.uploadedBytes.inc(remote.sizeBytes);
      this.deps.logger.debug(
        { topic: state.topic, partition: state.partition, base: remote.baseOffset, end: remote.endOffset },
        'archived segment',
      );
      head = {
        topic: state.topic,
        topicId: state.topicId,
        partition: state.partition,
        logStartOffset: head?.logStartOffset ?? remote.baseOffset,
        nextOffset: remote.endOffset + 1,
      };
      this.heads.set(keyOf(partition), head);
      this.segmentLists.get(keyOf(partition))?.push(remote);
    }
    return head;
  }

  private async enforceLocalRetention(partition: Partition, head: ArchiveHead): Promise<void> {
    const log = partition.log;
    const topic = this.deps.topics.topic(partition.topic);
    if (!topic) return;
    const config = resolveTopicConfig(topic.config);
    const retentionMs =
      config['local.retention.ms'] === -2 ? this.config.localRetentionMs : config['local.retention.ms'];
    const retentionBytes =
      config['local.retention.bytes'] === -2
        ? this.config.localRetentionBytes
        : config['local.retention.bytes'];
    let deleteBefore = Math.min(head.logStartOffset, partition.highWatermark);
    let size = log.sizeInBytes;
    const now = Date.now();
    for (const segment of await log.sealedSegments()) {
      if (segment.endOffset >= head.nextOffset) break; // not archived yet: it stays
      const old = retentionMs >= 0 && segment.maxTimestamp >= 0 && now - segment.maxTimestamp > retentionMs;
      const over = retentionBytes >= 0 && size > retentionBytes;
      if (!old && !over) break;
      deleteBefore = Math.max(deleteBefore, segment.endOffset + 1);
      size -= segment.sizeInBytes;
    }
    if (deleteBefore > log.logStartOffset) {
      const deleted = await log.deleteSegmentsBefore(deleteBefore);
      this.metrics?.localSegmentsDeleted.inc(deleted);
      this.deps.logger.debug(
        { topic: partition.topic, partition: partition.index, deleted, logStartOffset: log.logStartOffset },
        'deleted archived local segments',
      );
    }
  }

  private async refreshHead(partition: Partition): Promise<ArchiveHead | null> {
    const state = partition.state!;
    const head = await this.deps.metadata.head(state.topicId, state.partition);
    const key = keyOf(partition);
    const before = this.heads.get(key);
    if (before && head && before.logStartOffset !== head.logStartOffset) this.segmentLists.delete(key);
    this.heads.set(key, head);
    return head;
  }

  // --- TieredLog: consumer reads below the local log start -------------------------------------

  async head(partition: Partition): Promise<ArchiveHead | null> {
    const cached = this.heads.get(keyOf(partition));
    return cached !== undefined ? cached : this.refreshHead(partition);
  }

  async refreshedHead(partition: Partition): Promise<ArchiveHead | null> {
    return this.refreshHead(partition);
  }

  async read(partition: Partition, offset: number, maxBytes: number): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const segment = await this.segmentFor(partition, offset, attempt > 0);
      if (!segment) return Buffer.alloc(0);
      try {
        const records = await this.reader.read(segment, offset, maxBytes);
        this.metrics?.remoteReads.inc();
        this.metrics?.remoteReadBytes.inc(records.length);
        return records;
      } catch (error) {
        // Retention may have deleted the segment since it was listed: look again once.
        if (!(error instanceof ArchiveObjectError) || attempt > 0) throw error;
      }
    }
  }

  async offsetForTimestamp(
    partition: Partition,
    timestamp: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    const head = await this.head(partition);
    if (!head) return null;
    for (const segment of await this.segments(partition, false)) {
      if (segment.maxTimestamp < timestamp || segment.endOffset < head.logStartOffset) continue;
      const found = await this.reader.offsetForTimestamp(segment, timestamp);
      if (found && found.offset >= head.logStartOffset) return found;
    }
    return null;
  }

  private async segmentFor(partition: Partition, offset: number, refresh: boolean) {
    const find = (list: RemoteSegment[]) => list.find((s) => s.baseOffset <= offset && offset <= s.endOffset);
    const cached = find(await this.segments(partition, refresh));
    if (cached || refresh) return cached;
    return find(await this.segments(partition, true));
  }

  private async segments(partition: Partition, refresh: boolean): Promise<RemoteSegment[]> {
    const key = keyOf(partition);
    let list = this.segmentLists.get(key);
    if (!list || refresh) {
      const state = partition.state!;
      const head = await this.refreshHead(partition);
      list = await this.deps.metadata.segments(state.topicId, state.partition, head?.logStartOffset ?? 0);
      this.segmentLists.set(key, list);
    }
    return list;
  }
}

function keyOf(partition: Partition): string {
  return `${partition.state?.topicId ?? partition.topic}#${partition.index}`;
}
