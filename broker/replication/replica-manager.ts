import { join } from 'node:path';
import type { ArchiveHead } from '../../archive/remote-segment.js';
import { scanRecordBatches } from '../../protocol/record-batch/header.js';
import type { MetadataCache } from '../cluster/metadata-cache.js';
import type { PartitionState } from '../cluster/partition-state-store.js';
import { resolveTopicConfig, type TopicConfig } from '../cluster/topic-config.js';
import type { TopicRecord } from '../cluster/topic-store.js';
import type { Logger } from '../common/logger.js';
import { KeyedSerialQueue, SerialQueue } from '../common/serial-queue.js';
import { FetchWaiters, partitionKey } from '../server/fetch-waiters.js';
import {
  readFileIfExists,
  readOffsetCheckpoint,
  writeFileAtomically,
  writeOffsetCheckpoint,
} from '../storage/checkpoint-file.js';
import { OffsetOutOfRangeError } from '../storage/errors.js';
import type { LogManager } from '../storage/log-manager.js';
import {
  LeaderNotAvailableError,
  MessageTooLargeError,
  NotLeaderError,
  UnknownTopicOrPartitionError,
} from './errors.js';
import { Partition, type PartitionContext } from './partition.js';
import { ProducerStateManager } from './producer-state.js';
import type { ReplicaFetcherManager } from './replica-fetcher-manager.js';

export const HIGH_WATERMARK_FILE = 'high-watermark-checkpoint';
const PARTITION_METADATA_FILE = 'partition.metadata';

export interface ReplicaManagerOptions {
  localBrokerId: number;
  brokerEpoch(): number;
  leaseValid(): boolean;
  writeIsr: PartitionContext['writeIsr'];
  replicaLagTimeMaxMs: number;
  mayJoinIsr: PartitionContext['mayJoinIsr'];
  logger: Logger;
}

/**
 * The archive (tiered storage) as the read path sees it: consumers' reads below the local log
 * start are served from it, and its head's logStartOffset is the partition's log start offset.
 */
export interface TieredLog {
  /** The partition's archive head (cached), or null when nothing is archived. */
  head(partition: Partition): Promise<ArchiveHead | null>;
  /** The head read afresh from DynamoDB. */
  refreshedHead(partition: Partition): Promise<ArchiveHead | null>;
  read(partition: Partition, offset: number, maxBytes: number): Promise<Buffer>;
  offsetForTimestamp(
    partition: Partition,
    timestamp: number,
  ): Promise<{ offset: number; timestamp: number } | null>;
}

export interface ReadOutcome {
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

/**
 * The partitions this broker hosts, and the bridge between them and the rest of the broker:
 * - follows metadata: creates local replicas for partitions assigned here, makes each leader or
 *   follower as the partition state says, hands followers to the fetchers, and deletes replicas of
 *   deleted topics;
 * - serves produce, fetch and list-offsets for partitions it leads (consumers read below the
 *   high watermark; followers read up to the log end offset);
 * - checkpoints high watermarks and runs ISR maintenance.
 */
export class ReplicaManager {
  readonly waiters = new FetchWaiters();
  private readonly partitions = new Map<string, Partition>();
  private readonly opening = new Map<string, Promise<Partition>>();
  private readonly changes = new SerialQueue();
  /** Per partition: produce requests admitted in arrival order (see append). */
  private readonly admissions = new KeyedSerialQueue();
  private fetchers: ReplicaFetcherManager | undefined;
  private tiered: TieredLog | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  private closed = false;
  private checkpointRuns = 0;
  private checkpointing: Promise<void> | undefined;
  private readonly checkpointedHw = new WeakMap<Partition, number>();

  constructor(
    private readonly logs: LogManager,
    private readonly metadata: MetadataCache,
    private readonly options: ReplicaManagerOptions,
  ) {}

  /** Starts following metadata and periodic maintenance. */
  start(fetchers: ReplicaFetcherManager): void {
    this.fetchers = fetchers;
    this.metadata.onChange(() => void this.onMetadataChange());
    void this.onMetadataChange();
    const interval = Math.max(100, Math.floor(this.options.replicaLagTimeMaxMs / 4));
    this.maintenance = setInterval(() => {
      const now = Date.now();
      for (const partition of this.partitions.values()) partition.maybeShrinkIsr(now);
    }, interval);
  }

  /** Serves reads below the local log start from the archive from now on. */
  setTieredLog(tiered: TieredLog): void {
    this.tiered = tiered;
  }

  /** The replicas hosted here. */
  localPartitions(): Iterable<Partition> {
    return this.partitions.values();
  }

  /** Re-applies metadata to every local replica. Serialized: transitions never interleave. */
  onMetadataChange(): Promise<void> {
    return this.changes.run(async () => {
      if (this.closed) return;
      const me = this.options.localBrokerId;
      const wanted = new Set<string>();
      for (const state of this.metadata.allPartitions()) {
        if (!state.replicas.includes(me)) continue;
        const key = partitionKey(state.topic, state.partition);
        wanted.add(key);
        try {
          const partition = await this.partitionFor(state);
          const role = await partition.applyState(state);
          if (role === 'follower') this.fetchers?.follow(partition, state);
          else this.fetchers?.unfollow(partition);
        } catch (error) {
          this.options.logger.error(
            { err: error, topic: state.topic, partition: state.partition },
            'applying partition state failed',
          );
        }
      }
      for (const [key, partition] of this.partitions) {
        if (wanted.has(key)) continue;
        // Still in metadata under a newer state that no longer lists us, or its topic is gone.
        const topic = this.metadata.topic(partition.topic);
        this.fetchers?.unfollow(partition);
        partition.close();
        this.partitions.delete(key);
        if (!topic || topic.topicId !== partition.state?.topicId) {
          await this.logs.delete({ topic: partition.topic, partition: partition.index });
        }
      }
    });
  }

  private partitionFor(state: PartitionState): Promise<Partition> {
    const key = partitionKey(state.topic, state.partition);
    const existing = this.partitions.get(key);
    if (existing && existing.state?.topicId === state.topicId) return Promise.resolve(existing);
    let pending = this.opening.get(key);
    if (!pending) {
      pending = this.openPartition(state).finally(() => this.opening.delete(key));
      this.opening.set(key, pending);
    }
    return pending;
  }

  private async openPartition(state: PartitionState): Promise<Partition> {
    const key = partitionKey(state.topic, state.partition);
    const old = this.partitions.get(key);
    if (old) {
      // Same name, different topic id: the topic was deleted and re-created.
      this.fetchers?.unfollow(old);
      old.close();
      this.partitions.delete(key);
    }
    const tp = { topic: state.topic, partition: state.partition };
    let log = await this.logs.getOrCreate(tp);
    const marker = `topic_id: ${state.topicId}\n`;
    const stored = await readFileIfExists(join(log.dir, PARTITION_METADATA_FILE));
    if (stored !== null && stored !== marker) {
      this.options.logger.warn(
        { topic: state.topic, partition: state.partition },
        'discarding log of an older topic with this name',
      );
      await this.logs.delete(tp);
      log = await this.logs.getOrCreate(tp);
    }
    if (stored !== marker) await writeFileAtomically(join(log.dir, PARTITION_METADATA_FILE), marker);
    const producers = await ProducerStateManager.open(log.dir);
    await producers.rebuild(log);
    const hw = (await readOffsetCheckpoint(join(log.dir, HIGH_WATERMARK_FILE))) ?? 0;
    const partition = new Partition(
      state.topic,
      state.partition,
      log,
      producers,
      {
        localBrokerId: this.options.localBrokerId,
        brokerEpoch: this.options.brokerEpoch,
        leaseValid: this.options.leaseValid,
        writeIsr: this.options.writeIsr,
        replicaLagTimeMaxMs: this.options.replicaLagTimeMaxMs,
        mayJoinIsr: this.options.mayJoinIsr,
        waiters: this.waiters,
        waiterKey: key,
        logger: this.options.logger,
      },
      hw,
    );
    this.partitions.set(key, partition);
    return partition;
  }

  private topicOrThrow(topic: string, partition: number): TopicRecord {
    const record = this.metadata.topic(topic);
    if (!record || partition < 0 || partition >= record.partitionCount) {
      throw new UnknownTopicOrPartitionError(topic, partition);
    }
    return record;
  }

  configOf(topic: TopicRecord): Readonly<TopicConfig> {
    return resolveTopicConfig(topic.config);
  }

  /**
   * The local replica, which must be this broker's to lead. A request can reach a new leader before
   * the leader's own metadata poll has: if this broker is not (yet) leading, it catches up with
   * metadata once (rate-limited) before answering NOT_LEADER_OR_FOLLOWER, so clients that just
   * created a topic, or followed a leader change, are not bounced needlessly.
   */
  private async leaderReplica(topic: string, partition: number): Promise<Partition> {
    const key = partitionKey(topic, partition);
    const ready = this.partitions.get(key);
    if (ready?.isLeader() && this.metadata.topic(topic)) return ready;
    // A refresh re-applies metadata through the change listener; wait for that pass to finish.
    await this.metadata.refreshIfOlderThan(100);
    await this.changes.run(async () => undefined);
    this.topicOrThrow(topic, partition);
    const local = this.partitions.get(key);
    if (local?.isLeader()) return local;
    const state = this.metadata.partition(topic, partition);
    if (!state || state.leader < 0) throw new LeaderNotAvailableError(topic, partition);
    throw new NotLeaderError(topic, partition);
  }

  /** Any local replica of the partition (for OffsetForLeaderEpoch and follower bookkeeping). */
  localReplica(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /**
   * Appends a produce request's batches to one partition this broker leads. Every batch is
   * validated (framing, magic, CRC-32C) and size-checked before anything is written.
   */
  async append(
    topicName: string,
    partition: number,
    records: Buffer | null,
    options: { acks: number; timeoutMs: number; leaderEpoch?: number },
  ) {
    // Invariant: produce requests reach a partition's log in the order they arrived. Admission
    // (leader lookup, validation, queueing the append) is serialized per partition and ends once
    // the append is queued, so a request that waits for metadata is never overtaken by a later
    // one (pipelined idempotent batches would then arrive out of sequence, and the earlier batch
    // would be refused for good), while acknowledgements of queued appends still overlap.
    const { appended } = await this.admissions.run(partitionKey(topicName, partition), async () => {
      // Leadership first: it also catches up with metadata for a topic created a moment ago.
      const replica = await this.leaderReplica(topicName, partition);
      const config = this.configOf(this.topicOrThrow(topicName, partition));
      const batches = records ?? Buffer.alloc(0);
      const spans = scanRecordBatches(batches, { verifyCrc: true });
      for (const span of spans) {
        if (span.sizeInBytes > config['max.message.bytes']) {
          throw new MessageTooLargeError(topicName, partition, span.sizeInBytes, config['max.message.bytes']);
        }
      }
      // appendAsLeader queues the append before its first await; wrapped so that admission ends
      // there rather than after the acknowledgement.
      return {
        appended: replica.appendAsLeader(batches, spans, {
          acks: options.acks,
          timeoutMs: options.timeoutMs,
          config,
        }),
      };
    });
    return appended;
  }

  /**
   * Reads from `offset` as the leader. Consumers (replicaId < 0) never see past the high
   * watermark; a follower's fetch offset is its log end offset, which the leader records first.
   */
  async read(
    topicName: string,
    partition: number,
    offset: number,
    maxBytes: number,
    options: { replicaId?: number; currentLeaderEpoch?: number } = {},
  ): Promise<ReadOutcome> {
    const replica = await this.leaderReplica(topicName, partition);
    replica.checkLeaderEpoch(options.currentLeaderEpoch ?? -1);
    const replicaId = options.replicaId ?? -1;
    if (replicaId >= 0) replica.onFollowerFetch(replicaId, offset);
    const maxOffset = replicaId >= 0 ? replica.log.logEndOffset : replica.highWatermark;
    // Followers replicate the local log only: below its start they get OFFSET_OUT_OF_RANGE with
    // the local start and begin there. Consumers can read the archive too.
    if (replicaId >= 0 || !this.tiered) {
      const result = await replica.log.read(offset, maxBytes, { maxOffset });
      return {
        records: result.records,
        highWatermark: replica.highWatermark,
        logStartOffset: result.logStartOffset,
      };
    }
    return this.readTiered(this.tiered, replica, offset, maxBytes);
  }

  /**
   * A consumer's read with the archive: the partition's log start is the archive's (retention
   * moves it); offsets in [archive start, local start) come from S3.
   */
  private async readTiered(tiered: TieredLog, replica: Partition, offset: number, maxBytes: number) {
    let head = await tiered.head(replica);
    // A stale "nothing archived" must not turn an archived offset into OFFSET_OUT_OF_RANGE.
    if (offset < replica.log.logStartOffset) head = await tiered.refreshedHead(replica);
    const highWatermark = replica.highWatermark;
    if (!head) {
      const result = await replica.log.read(offset, maxBytes, { maxOffset: highWatermark });
      return { records: result.records, highWatermark, logStartOffset: result.logStartOffset };
    }
    const logStartOffset = head.logStartOffset;
    if (offset < logStartOffset)
      throw new OffsetOutOfRangeError(offset, logStartOffset, replica.log.logEndOffset);
    if (offset >= replica.log.logStartOffset) {
      try {
        const result = await replica.log.read(offset, maxBytes, { maxOffset: highWatermark });
        return { records: result.records, highWatermark, logStartOffset };
      } catch (error) {
        // Local retention deleted the segment a moment ago; it is in the archive.
        if (!(error instanceof OffsetOutOfRangeError) || offset > replica.log.logEndOffset) throw error;
      }
    }
    const records = await tiered.read(replica, offset, maxBytes);
    return { records, highWatermark, logStartOffset };
  }

  /** Log start and high watermark ("latest" for consumers) of a partition this broker leads. */
  async offsets(
    topicName: string,
    partition: number,
    currentLeaderEpoch = -1,
  ): Promise<{ logStartOffset: number; highWatermark: number; leaderEpoch: number }> {
    const replica = await this.leaderReplica(topicName, partition);
    replica.checkLeaderEpoch(currentLeaderEpoch);
    const head = await this.tiered?.head(replica);
    return {
      logStartOffset: head ? head.logStartOffset : replica.log.logStartOffset,
      highWatermark: replica.highWatermark,
      leaderEpoch: replica.leaderEpoch,
    };
  }

  async offsetForTimestamp(
    topicName: string,
    partition: number,
    timestamp: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    const replica = await this.leaderReplica(topicName, partition);
    const head = await this.tiered?.head(replica);
    // Archived records come first: the earliest match may be in S3.
    const archived =
      head && head.logStartOffset < replica.log.logStartOffset
        ? await this.tiered!.offsetForTimestamp(replica, timestamp)
        : null;
    if (archived) return archived;
    const found = await replica.log.offsetForTimestamp(timestamp);
    // Records above the high watermark are not visible to consumers yet.
    return found && found.offset < replica.highWatermark ? found : null;
  }

  /** Partitions led here, and how many of them lack a full ISR or min.insync.replicas (for metrics). */
  leadershipCounts(): { leader: number; underReplicated: number; underMinIsr: number } {
    let leader = 0;
    let underReplicated = 0;
    let underMinIsr = 0;
    for (const partition of this.partitions.values()) {
      const state = partition.state;
      if (!state || !partition.isLeader()) continue;
      leader++;
      if (state.isr.length < state.replicas.length) underReplicated++;
      const topic = this.metadata.topic(partition.topic);
      if (topic && state.isr.length < this.configOf(topic)['min.insync.replicas']) underMinIsr++;
    }
    return { leader, underReplicated, underMinIsr };
  }

  /** Writes every replica's high watermark to its partition directory. */
  /** Periodic durability chores: high-watermark checkpoints, and producer snapshots every 12th run. */
  checkpoint(): Promise<void> {
    // A slow run (a loaded disk) must not overlap the next: both would write the same temp files.
    this.checkpointing ??= (async () => {
      await this.checkpointHighWatermarks();
      if (++this.checkpointRuns % 12 === 0) await this.snapshotProducerStates();
    })().finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  async checkpointHighWatermarks(): Promise<void> {
    for (const partition of this.partitions.values()) {
      const hw = partition.highWatermark;
      // Each checkpoint is an fsynced rename: skip partitions whose high watermark has not moved.
      if (this.checkpointedHw.get(partition) === hw) continue;
      try {
        await writeOffsetCheckpoint(join(partition.log.dir, HIGH_WATERMARK_FILE), hw);
        this.checkpointedHw.set(partition, hw);
      } catch (error) {
        this.options.logger.warn({ err: error, topic: partition.topic }, 'HW checkpoint failed');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.maintenance);
    await this.changes.run(async () => undefined);
    for (const partition of this.partitions.values()) partition.close();
    await this.checkpointing;
    await this.checkpointHighWatermarks();
    await this.snapshotProducerStates();
  }

  /** Snapshots every replica's producer state (see Partition.snapshotProducerState). */
  async snapshotProducerStates(): Promise<void> {
    for (const partition of this.partitions.values()) {
      await partition
        .snapshotProducerState()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error, topic: partition.topic }, 'producer snapshot failed'),
        );
    }
  }
}
