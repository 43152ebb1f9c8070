import { ErrorCode, isRetriable as isRetriableCode } from '../../protocol/error-codes.js';
import { APIS } from '../../protocol/messages/index.js';
import { decodeRecordBatches, type RecordBatch, TimestampType } from '../../protocol/record-batch/index.js';
import type { TagFilter } from '../../protocol/tag-filter/index.js';
import { CLIENT_VERSIONS, type Cluster, listOffsets, OffsetSpec } from '../cluster/index.js';
import { errorFromCode, KafkaProtocolError, toSpoolError } from '../errors.js';
import type { FetchedRecord, PartitionState, SubscriptionState } from './subscription-state.js';
import type { StartPosition } from './types.js';

export interface FetcherOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxBytesPerPartition: number;
  /** Where a partition goes after OFFSET_OUT_OF_RANGE, and where 'committed' falls back to. */
  startFrom: StartPosition;
  retryBackoffMs: number;
  /** Sent with every topic of every fetch, and re-checked on every record received. */
  tagFilter: TagFilter | undefined;
}

export interface FetcherHooks {
  /** New records were buffered. */
  onRecords(): void;
  /** Committed offsets for partitions positioned 'committed' (offset -1: none). */
  fetchCommitted(partitions: PartitionState[]): Promise<Map<PartitionState, number>>;
  /** A failure the fetcher cannot attribute to one partition, for logging; it keeps going. */
  onError(error: unknown): void;
}

const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Errors after which the partition's leader or epoch has moved: refresh metadata, then retry. */
const REROUTE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.OFFSET_NOT_AVAILABLE,
]);

/**
 * Keeps every fetchable partition's records flowing into the SubscriptionState's buffers: one
 * Fetch outstanding per leader at a time (as the Java consumer does), each asking for every
 * positioned, unpaused partition that leader leads and has nothing buffered. Partitions without a
 * position are positioned first (committed offset, then the start position). Records below the
 * fetch offset (the head of a compressed batch) and control batches are skipped.
 *
 * With a tag filter, every fetch carries it (Spool's `spoolTagFilter`, Fetch v12+), so a Spool
 * broker leaves non-matching records out of the batches it returns; each batch still spans its
 * offsets, possibly with no records at all, and the fetch offset moves past it as usual. Records
 * are also checked here, so a broker that ignores the filter (Kafka, or a version below 12)
 * changes only how many bytes travel, not what is delivered.
 */
export class Fetcher {
  private readonly busyLeaders = new Set<number>();
  private readonly resolving = new Set<PartitionState>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = true;

  constructor(
    private readonly cluster: Cluster,
    private readonly state: SubscriptionState,
    private readonly options: FetcherOptions,
    private readonly hooks: FetcherHooks,
  ) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Asks for a pass soon: after assignment changes, seeks, resumes and consumed buffers. */
  wake(delayMs = 0): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pass();
    }, delayMs);
  }

  private pass(): void {
    if (this.stopped) return;
    const now = Date.now();
    const unresolved = this.state
      .needingReset()
      .filter((s) => !this.resolving.has(s) && s.backoffUntil <= now);
    if (unresolved.length > 0) void this.resolvePositions(unresolved);

    const byLeader = new Map<number, PartitionState[]>();
    let leaderless = false;
    for (const partition of this.state.fetchable(now)) {
      const leader = this.cluster.metadata.leaderFor(partition.topic, partition.partition);
      if (leader === undefined) {
        leaderless = true;
        partition.backoffUntil = now + this.options.retryBackoffMs;
        continue;
      }
      if (this.busyLeaders.has(leader)) continue;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
    }
    if (leaderless) void this.cluster.metadata.refresh().catch(() => {});
    for (const [leader, partitions] of byLeader) void this.fetchFrom(leader, partitions);

    // Come back when the earliest backoff ends (the completions of fetches wake us anyway).
    const backoffs = this.state
      .states()
      .map((s) => s.backoffUntil)
      .filter((t) => t > now);
    if (backoffs.length > 0) this.wake(Math.min(...backoffs) - now);
  }

  private async fetchFrom(leader: number, partitions: PartitionState[]): Promise<void> {
    this.busyLeaders.add(leader);
    const asked = partitions.map((p) => ({ state: p, generation: p.generation, offset: p.fetchOffset }));
    for (const p of partitions) p.fetching = true;
    try {
      const connection = await this.cluster.broker(leader);
      const byTopic = new Map<string, typeof asked>();
      for (const entry of asked)
        byTopic.set(entry.state.topic, [...(byTopic.get(entry.state.topic) ?? []), entry]);
      const { response } = await connection.send(APIS.Fetch, CLIENT_VERSIONS.Fetch, {
        replicaId: -1,
        maxWaitMs: this.options.maxWaitMs,
        minBytes: this.options.minBytes,
        maxBytes: this.options.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, entries]) => ({
          topic,
          topicId: NULL_TOPIC_ID, // versions <= 12 address topics by name
          spoolTagFilter: this.options.tagFilter?.source ?? null,
          partitions: entries.map(({ state, offset }) => ({
            partition: state.partition,
            currentLeaderEpoch: this.leaderEpochOf(state),
            fetchOffset: offset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: this.options.maxBytesPerPartition,
            replicaDirectoryId: NULL_TOPIC_ID,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      });
      throwTopLevel(response.errorCode);
      let buffered = false;
      let reroute = false;
      for (const topic of response.responses) {
        for (const data of topic.partitions) {
          const entry = asked.find(
            (a) => a.state.topic === topic.topic && a.state.partition === data.partitionIndex,
          );
          // Seeked, reset or revoked while the fetch was out: the answer is for an old position.
          if (!entry || !this.state.isCurrent({ ...entry.state, generation: entry.generation })) continue;
          const outcome = this.handlePartition(entry.state, data);
          buffered ||= outcome === 'buffered';
          reroute ||= outcome === 'reroute';
        }
      }
      if (reroute) await this.cluster.metadata.refresh().catch(() => {});
      if (buffered) this.hooks.onRecords();
    } catch (error) {
      // The connection failed or timed out: the leader may be gone. Back off and re-route.
      for (const p of partitions) p.backoffUntil = Date.now() + this.options.retryBackoffMs;
      this.hooks.onError(error);
      await this.cluster.metadata.refresh().catch(() => {});
    } finally {
      for (const p of partitions) p.fetching = false;
      this.busyLeaders.delete(leader);
      this.wake();
    }
  }

  private handlePartition(
    state: PartitionState,
    data: {
      errorCode: number;
      highWatermark: bigint | number;
      logStartOffset: bigint | number;
      records: Buffer | null;
      spoolErrorMessage: string | null;
    },
  ): 'buffered' | 'empty' | 'reroute' | 'reset' | 'failed' {
    const code = data.errorCode;
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      this.state.requestReset(state, this.options.startFrom);
      return 'reset';
    }
    if (REROUTE.has(code)) {
      state.backoffUntil = Date.now() + this.options.retryBackoffMs;
      return 'reroute';
    }
    // Any other retriable error (e.g. REQUEST_TIMED_OUT while the broker's storage is slow) is
    // transient: back off and fetch again rather than fail the consumer.
    if (code !== ErrorCode.NONE && isRetriableCode(code)) {
      state.backoffUntil = Date.now() + this.options.retryBackoffMs;
      return 'empty';
    }
    if (code !== ErrorCode.NONE) {
      state.error =
        errorFromCode(code, {
          topic: state.topic,
          partition: state.partition,
          serverMessage: data.spoolErrorMessage,
        }) ?? null;
      return 'failed';
    }
    state.highWatermark = Number(data.highWatermark);
    state.logStartOffset = Number(data.logStartOffset);
    if (!data.records || data.records.length === 0) return 'empty';
    let batches: RecordBatch[];
    try {
      batches = decodeRecordBatches(data.records);
    } catch (error) {
      state.error = new KafkaProtocolError(ErrorCode.CORRUPT_MESSAGE, {
        topic: state.topic,
        partition: state.partition,
        serverMessage: `record batch at or after offset ${state.fetchOffset} failed to decode: ${toSpoolError(error).message}`,
      });
      return 'failed';
    }
    const records: FetchedRecord[] = [];
    const filter = this.options.tagFilter;
    let next = state.fetchOffset;
    for (const batch of batches) {
      const last = batch.baseOffset + batch.lastOffsetDelta;
      if (last < next) continue;
      if (!batch.isControl) {
        for (const record of batch.records) {
          const offset = batch.baseOffset + record.offsetDelta;
          if (offset < next) continue;
          if (filter && !filter.matchesHeaders(record.headers)) continue;
          records.push({
            offset,
            timestamp:
              batch.timestampType === TimestampType.LogAppendTime
                ? batch.maxTimestamp
                : batch.baseTimestamp + record.timestampDelta,
            key: record.key,
            value: record.value,
            headers: record.headers,
            leaderEpoch: batch.partitionLeaderEpoch,
          });
        }
      }
      next = last + 1;
    }
    state.fetchOffset = next;
    if (records.length === 0) {
      // Offsets passed with nothing to deliver (filtered out, control records) count as consumed.
      this.state.skipped(state);
      return 'empty';
    }
    state.buffered.push(...records);
    return 'buffered';
  }

  private leaderEpochOf(state: PartitionState): number {
    const partition = this.cluster.metadata
      .topic(state.topic)
      ?.partitions.find((p) => p.partition === state.partition);
    return partition?.leaderEpoch ?? -1;
  }

  /** Positions partitions: committed offsets first, then the start position for the rest. */
  private async resolvePositions(partitions: PartitionState[]): Promise<void> {
    for (const p of partitions) this.resolving.add(p);
    const generations = new Map(partitions.map((p) => [p, p.generation]));
    const stillWanted = (p: PartitionState) =>
      generations.get(p) === p.generation && this.state.get(p.topic, p.partition) === p;
    try {
      const fromCommitted = partitions.filter((p) => p.reset === 'committed');
      if (fromCommitted.length > 0) {
        const committed = await this.hooks.fetchCommitted(fromCommitted);
        for (const p of fromCommitted) {
          if (!stillWanted(p)) continue;
          const offset = committed.get(p) ?? -1;
          if (offset >= 0) {
            this.state.seek(p, offset);
            this.state.markCommitted(p.topic, p.partition, offset);
          } else {
            p.reset = this.options.startFrom;
          }
          generations.set(p, p.generation);
        }
      }
      const toList = partitions.filter((p) => stillWanted(p) && p.reset !== null && p.reset !== 'committed');
      if (toList.length > 0) {
        const specs = toList.map((p) => ({
          topic: p.topic,
          partition: p.partition,
          timestamp: timestampOf(p.reset),
        }));
        const offsets = await this.cluster.retry(() => listOffsets(this.cluster, specs));
        const needLatest: PartitionState[] = [];
        for (const p of toList) {
          if (!stillWanted(p)) continue;
          const found = offsets.find((o) => o.topic === p.topic && o.partition === p.partition);
          if (found && found.offset >= 0) this.state.seek(p, found.offset);
          else needLatest.push(p); // a timestamp after every record: start at the end
        }
        if (needLatest.length > 0) {
          const latest = await this.cluster.retry(() =>
            listOffsets(
              this.cluster,
              needLatest.map((p) => ({
                topic: p.topic,
                partition: p.partition,
                timestamp: OffsetSpec.LATEST,
              })),
            ),
          );
          for (const p of needLatest) {
            const found = latest.find((o) => o.topic === p.topic && o.partition === p.partition);
            if (found && stillWanted(p)) this.state.seek(p, found.offset);
          }
        }
      }
    } catch (error) {
      for (const p of partitions) p.backoffUntil = Date.now() + this.options.retryBackoffMs;
      this.hooks.onError(error);
    } finally {
      for (const p of partitions) this.resolving.delete(p);
      this.wake();
    }
  }
}

function timestampOf(reset: PartitionState['reset']): number {
  if (reset === 'earliest') return OffsetSpec.EARLIEST;
  if (reset === 'latest' || reset === null || reset === 'committed') return OffsetSpec.LATEST;
  return reset.timestamp;
}

function throwTopLevel(code: number): void {
  const error = errorFromCode(code);
  if (error) throw error;
}
