import { APIS } from '../../protocol/messages/index.js';
import type { BrokerPool, Endpoint } from './broker-pool.js';
import { CLIENT_VERSIONS } from './client-versions.js';

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionMetadata {
  readonly partition: number;
  /** -1 while there is no leader. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
  /** The partition's wire error code (0 = none), e.g. LEADER_NOT_AVAILABLE. */
  readonly errorCode: number;
}

export interface TopicMetadata {
  readonly name: string;
  readonly topicId: string;
  readonly isInternal: boolean;
  /** Sorted by partition index. */
  readonly partitions: readonly PartitionMetadata[];
}

interface CachedTopic {
  readonly topic: TopicMetadata;
  readonly fetchedAt: number;
}

const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** The all-zero UUID: "no topic id", so the broker looks topics up by name. */
const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * The client's view of the cluster from Metadata responses: brokers, controller, cluster id and
 * topics. Refreshes are de-duplicated (concurrent callers asking for the same topics share one
 * request) and `ensure` only asks when an entry is missing or older than `maxAgeMs`.
 * Invariant: the pool's node map always matches `brokers` after a successful refresh.
 */
export class ClusterMetadata {
  private brokerList: BrokerInfo[] = [];
  private controller = -1;
  private cluster: string | null = null;
  private readonly topics = new Map<string, CachedTopic>();
  private allTopicsFetchedAt = 0;
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly pool: BrokerPool,
    private readonly bootstrap: readonly Endpoint[],
    private readonly maxAgeMs = 30_000,
  ) {
    if (bootstrap.length === 0) throw new Error('at least one bootstrap address is required');
  }

  get brokers(): readonly BrokerInfo[] {
    return this.brokerList;
  }

  get controllerId(): number {
    return this.controller;
  }

  get clusterId(): string | null {
    return this.cluster;
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topics.get(name)?.topic;
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** The leader's node id, or undefined when unknown or leaderless. */
  leaderFor(topic: string, partition: number): number | undefined {
    const found = this.topics.get(topic)?.topic.partitions.find((p) => p.partition === partition);
    return found && found.leader >= 0 ? found.leader : undefined;
  }

  /** Refreshes when any of `topics` (or, without a list, the full topic list) is missing or stale. */
  async ensure(topics?: readonly string[], now = Date.now()): Promise<void> {
    const stale = (at: number) => now - at > this.maxAgeMs;
    if (topics === undefined) {
      if (stale(this.allTopicsFetchedAt)) await this.refresh();
      return;
    }
    const cached = topics.map((t) => this.topics.get(t));
    if (this.brokerList.length === 0 || cached.some((c) => !c || stale(c.fetchedAt)))
      await this.refresh(topics);
  }

  /** Fetches Metadata for `topics`, or every topic when omitted; shares an identical in-flight refresh. */
  refresh(topics?: readonly string[]): Promise<void> {
    const key = topics === undefined ? '*' : JSON.stringify([...new Set(topics)].sort());
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const running = this.fetch(topics).finally(() => this.inflight.delete(key));
    this.inflight.set(key, running);
    return running;
  }

  private async fetch(topics?: readonly string[]): Promise<void> {
    const connection = await this.anyConnection();
    const { response } = await connection.send(APIS.Metadata, CLIENT_VERSIONS.Metadata, {
      topics: topics === undefined ? null : topics.map((name) => ({ topicId: NULL_TOPIC_ID, name })),
      allowAutoTopicCreation: false,
    });
    const fetchedAt = Date.now();
    this.brokerList = response.brokers.map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
    }));
    this.controller = response.controllerId;
    this.cluster = response.clusterId;
    this.pool.setNodes(this.brokerList);
    if (topics === undefined) {
      this.topics.clear();
      this.allTopicsFetchedAt = fetchedAt;
    }
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode === UNKNOWN_TOPIC_OR_PARTITION) {
        this.topics.delete(t.name);
        continue;
      }
      const partitions = t.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        }))
        .sort((a, b) => a.partition - b.partition);
      this.topics.set(t.name, {
        topic: { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions },
        fetchedAt,
      });
    }
  }

  /**
   * A connection to any reachable broker: known brokers first (in a random order, to spread
   * load), then the bootstrap list, so the client survives the loss of its bootstrap brokers.
   */
  private async anyConnection() {
    const known = this.brokerList.map((b): Endpoint => ({ host: b.host, port: b.port }));
    const candidates = [...shuffle(known), ...this.bootstrap];
    let lastError: unknown;
    for (const endpoint of candidates) {
      try {
        return await this.pool.forEndpoint(endpoint);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
