import { ConnectionError, KafkaConnection } from '../../client/kafka-connection.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { APIS } from '../../protocol/messages/index.js';
import { scanRecordBatches } from '../../protocol/record-batch/header.js';
import type { BrokerEndpoint } from '../cluster/broker-lease.js';
import type { Logger } from '../common/logger.js';
import { getOrCreate } from '../common/maps.js';
import { partitionKey } from '../server/fetch-waiters.js';
import { NonMonotonicOffsetError } from '../storage/errors.js';
import type { Partition } from './partition.js';

const FETCH = APIS.Fetch;
const OFFSET_FOR_LEADER_EPOCH = APIS.OffsetForLeaderEpoch;
/** Fetch v12: replica id in the body, current and last-fetched leader epochs, topic names. */
const FETCH_VERSION = 12;
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4;

/** A partition this fetcher replicates, for one leader epoch. Replaced (never mutated) on epoch change. */
export interface FollowedPartition {
  readonly partition: Partition;
  readonly leaderEpoch: number;
  /** Must reconcile with the leader (OffsetForLeaderEpoch) before fetching: set on every new epoch. */
  needsTruncation: boolean;
  /** Leader rejected us (stale metadata somewhere): retry no earlier than this. */
  retryAt: number;
}

export interface ReplicaFetcherOptions {
  localBrokerId: number;
  leaderId: number;
  endpointOf(brokerId: number): BrokerEndpoint | undefined;
  logger: Logger;
  maxWaitMs?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  backoffMs?: number;
}

/**
 * Pulls every partition this broker follows from one leader over one connection (Kafka's replica
 * fetcher thread). Each round first reconciles partitions that saw a new leader epoch — asking the
 * leader where our latest epoch ends and truncating there (KIP-101/KIP-279) — and then fetches the
 * rest from their log end offsets, with the replica id so the leader counts us as a follower.
 */
export class ReplicaFetcher {
  readonly partitions = new Map<string, FollowedPartition>();
  private connection: KafkaConnection | undefined;
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ReplicaFetcherOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.connection?.close();
    this.wake?.();
    await this.loop;
  }

  set(key: string, followed: FollowedPartition): void {
    this.partitions.set(key, followed);
    this.wake?.();
  }

  remove(key: string): void {
    this.partitions.delete(key);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = Date.now();
      const ready = [...this.partitions.entries()].filter(([, f]) => f.retryAt <= now);
      if (ready.length === 0) {
        await this.idle(this.partitions.size === 0 ? 60_000 : (this.options.backoffMs ?? 200));
        continue;
      }
      try {
        const connection = await this.connect();
        const truncating = ready.filter(([, f]) => f.needsTruncation);
        if (truncating.length > 0) await this.reconcileEpochs(connection, truncating);
        const fetching = ready.filter(([key, f]) => !f.needsTruncation && this.partitions.get(key) === f);
        if (fetching.length > 0) await this.fetch(connection, fetching);
      } catch (error) {
        if (!this.running) return;
        this.connection?.close();
        this.connection = undefined;
        const level = error instanceof ConnectionError ? 'debug' : 'warn';
        this.options.logger[level](
          { err: error, leader: this.options.leaderId },
          'replica fetch failed; retrying',
        );
        await this.idle(this.options.backoffMs ?? 200);
      }
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async connect(): Promise<KafkaConnection> {
    if (this.connection && !this.connection.isClosed) return this.connection;
    const endpoint = this.options.endpointOf(this.options.leaderId);
    if (!endpoint) throw new ConnectionError(`leader ${this.options.leaderId} is not live`, '', 0);
    this.connection = await KafkaConnection.connect(endpoint.host, endpoint.port, {
      clientId: `spool-replica-fetcher-${this.options.localBrokerId}`,
      requestTimeoutMs: (this.options.maxWaitMs ?? 500) + 10_000,
    });
    return this.connection;
  }

  /** KIP-101/279: find where our log diverges from the leader's and cut it there. */
  private async reconcileEpochs(connection: KafkaConnection, entries: [string, FollowedPartition][]) {
    const asked = new Map<string, { followed: FollowedPartition; localEpoch: number }>();
    for (const [key, followed] of entries) {
      const log = followed.partition.log;
      const latest = log.leaderEpochs.latest;
      if (!latest || log.logEndOffset === log.logStartOffset) {
        followed.needsTruncation = false; // nothing local to diverge
        continue;
      }
      asked.set(key, { followed, localEpoch: latest.epoch });
    }
    if (asked.size === 0) return;
    const byTopic = groupByTopic([...asked.values()].map((a) => a.followed));
    const response = await connection.request(OFFSET_FOR_LEADER_EPOCH, OFFSET_FOR_LEADER_EPOCH_VERSION, {
      replicaId: this.options.localBrokerId,
      topics: [...byTopic].map(([topic, list]) => ({
        topic,
        partitions: list.map((f) => ({
          partition: f.partition.index,
          currentLeaderEpoch: f.leaderEpoch,
          leaderEpoch: f.partition.log.leaderEpochs.latest!.epoch,
        })),
      })),
    });
    for (const topic of response.topics) {
      for (const result of topic.partitions) {
        const key = partitionKey(topic.topic, result.partition);
        const entry = asked.get(key);
        if (!entry || this.partitions.get(key) !== entry.followed) continue; // epoch moved on meanwhile
        const { followed, localEpoch } = entry;
        if (result.errorCode !== ErrorCode.NONE) {
          this.backOff(followed, result.errorCode);
          continue;
        }
        const partition = followed.partition;
        const leo = partition.log.logEndOffset;
        let target: number;
        if (result.leaderEpoch < 0 || result.endOffset < 0) {
          target = partition.highWatermark; // the leader knows none of our epochs
        } else if (result.leaderEpoch === localEpoch) {
          target = Math.min(result.endOffset, leo);
        } else {
          const local = partition.log.leaderEpochs.endOffsetFor(result.leaderEpoch, leo);
          target = Math.min(result.endOffset, local?.endOffset ?? partition.highWatermark);
        }
        // Also at target === leo: an epoch of ours that starts there and that the leader does not
        // know (we led it without writing) must go, or the next round would ask about it again.
        if (target <= leo) await partition.truncateTo(target);
        // Another round if the leader answered for an older epoch: truncation removed every local
        // epoch starting at or after the target, so each round strictly lowers our latest epoch
        // (or empties the log), and this ends, normally after one more.
        followed.needsTruncation = result.leaderEpoch !== localEpoch && result.leaderEpoch >= 0;
      }
    }
  }

  private async fetch(connection: KafkaConnection, entries: [string, FollowedPartition][]) {
    const followed = entries.map(([, f]) => f);
    const response = await connection.request(FETCH, FETCH_VERSION, {
      replicaId: this.options.localBrokerId,
      maxWaitMs: this.options.maxWaitMs ?? 500,
      minBytes: 1,
      maxBytes: this.options.maxBytes ?? 16 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...groupByTopic(followed)].map(([topic, list]) => ({
        topic,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: list.map((f) => ({
          partition: f.partition.index,
          currentLeaderEpoch: f.leaderEpoch,
          fetchOffset: f.partition.log.logEndOffset,
          lastFetchedEpoch: f.partition.log.leaderEpochs.latest?.epoch ?? -1,
          logStartOffset: f.partition.log.logStartOffset,
          partitionMaxBytes: this.options.partitionMaxBytes ?? 1024 * 1024,
          replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
        })),
        spoolTagFilter: null, // followers replicate every record: never a tag filter
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    for (const topic of response.responses) {
      for (const result of topic.partitions) {
        const key = partitionKey(topic.topic, result.partitionIndex);
        const entry = entries.find(([k]) => k === key)?.[1];
        if (!entry || this.partitions.get(key) !== entry) continue;
        await this.apply(entry, result);
      }
    }
  }

  private async apply(
    followed: FollowedPartition,
    result: { errorCode: number; highWatermark: number; logStartOffset: number; records: Buffer | null },
  ): Promise<void> {
    const partition = followed.partition;
    if (result.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      if (result.logStartOffset > partition.log.logEndOffset) {
        await partition.truncateFullyAndStartAt(result.logStartOffset);
      } else {
        followed.needsTruncation = true;
      }
      return;
    }
    if (result.errorCode !== ErrorCode.NONE) {
      this.backOff(followed, result.errorCode);
      return;
    }
    let records = result.records ?? Buffer.alloc(0);
    if (records.length > 0) {
      // A leader may cut the last batch short (KIP-74 style limits); keep whole batches only.
      const spans = scanRecordBatches(records, { verifyCrc: false, allowPartialTail: true });
      const last = spans[spans.length - 1];
      records = last ? records.subarray(0, last.position + last.sizeInBytes) : Buffer.alloc(0);
    }
    try {
      await partition.appendAsFollower(records, result.highWatermark, followed.leaderEpoch);
    } catch (error) {
      if (!(error instanceof NonMonotonicOffsetError)) throw error;
      followed.needsTruncation = true;
    }
  }

  private backOff(followed: FollowedPartition, errorCode: number): void {
    followed.retryAt = Date.now() + (this.options.backoffMs ?? 200);
    this.options.logger.debug(
      { topic: followed.partition.topic, partition: followed.partition.index, errorCode },
      'leader rejected replica request; waiting for metadata',
    );
  }
}

function groupByTopic(followed: readonly FollowedPartition[]): Map<string, FollowedPartition[]> {
  const byTopic = new Map<string, FollowedPartition[]>();
  for (const f of followed) {
    getOrCreate(byTopic, f.partition.topic, () => []).push(f);
  }
  return byTopic;
}
