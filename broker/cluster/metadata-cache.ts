import type { Logger } from '../common/logger.js';
import { getOrCreate } from '../common/maps.js';
import type { BrokerLeaseRecord } from './broker-lease.js';
import type { ControllerRecord } from './controller-lease.js';
import type { PartitionState } from './partition-state-store.js';
import type { TopicRecord } from './topic-store.js';

/** Where the cache reads cluster metadata from (DynamoDB in a broker; fakes in unit tests). */
export interface MetadataSource {
  readVersion(): Promise<number>;
  listTopics(): Promise<TopicRecord[]>;
  listPartitions(): Promise<PartitionState[]>;
  /** Brokers whose lease has not expired. */
  listLiveBrokers(): Promise<BrokerLeaseRecord[]>;
  currentController(): Promise<ControllerRecord | undefined>;
}

export interface MetadataCacheOptions {
  /** How often the version item is polled. Default 200 ms. */
  watchMs?: number;
  /** How often live brokers and the controller are re-read (leases expire silently). Default 1000 ms. */
  brokersMs?: number;
  /** Full re-read even if the version did not move, in case a writer died before bumping it. Default 10 s. */
  backstopMs?: number;
  logger?: Logger;
}

/**
 * The broker's in-memory view of cluster metadata: topics, partition states, live brokers and the
 * controller. Lookups never touch DynamoDB. Changes are noticed by polling the metadata version
 * item (metadata-version.ts) and re-reading only when it moved, so a change made anywhere in the
 * cluster reaches this broker within about `watchMs`. Listeners run after every refresh that
 * changed something.
 */
export class MetadataCache {
  private byName = new Map<string, TopicRecord>();
  private byId = new Map<string, TopicRecord>();
  private partitionsByTopic = new Map<string, PartitionState[]>();
  private brokers: BrokerLeaseRecord[] = [];
  private controllerRecord: ControllerRecord | undefined;
  private version = -1;
  private lastFullRefresh = 0;
  private lastBrokerRefresh = 0;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly watchMs: number;
  private readonly brokersMs: number;
  private readonly backstopMs: number;

  constructor(
    private readonly source: MetadataSource,
    private readonly options: MetadataCacheOptions = {},
  ) {
    this.watchMs = options.watchMs ?? 200;
    this.brokersMs = options.brokersMs ?? 1000;
    this.backstopMs = options.backstopMs ?? 10_000;
  }

  async start(): Promise<void> {
    await this.refresh();
    const tick = () => {
      this.poll()
        .catch((error: unknown) => this.options.logger?.warn({ err: error }, 'metadata poll failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.watchMs);
        });
    };
    this.timer = setTimeout(tick, this.watchMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    const version = await this.source.readVersion();
    if (version !== this.version || now - this.lastFullRefresh >= this.backstopMs) {
      await this.refresh();
    } else if (now - this.lastBrokerRefresh >= this.brokersMs) {
      await this.refreshBrokers();
    }
  }

  /** Refreshes unless the last full refresh finished less than `ms` ago. */
  refreshIfOlderThan(ms: number): Promise<void> {
    if (this.refreshing) return this.refreshing;
    return Date.now() - this.lastFullRefresh < ms ? Promise.resolve() : this.refresh();
  }

  /** Re-reads everything; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    // Read the version first: a change racing this refresh bumps it again, so it is never missed.
    const version = await this.source.readVersion();
    const [topics, partitions] = await Promise.all([this.source.listTopics(), this.source.listPartitions()]);
    this.byName = new Map(topics.map((t) => [t.name, t]));
    this.byId = new Map(topics.map((t) => [t.topicId, t]));
    const byTopic = new Map<string, PartitionState[]>();
    for (const state of partitions) {
      const topic = this.byName.get(state.topic);
      // States of a deleted (or deleted and re-created) topic are left for the controller to clean up.
      if (!topic || topic.topicId !== state.topicId || state.partition >= topic.partitionCount) continue;
      getOrCreate(byTopic, state.topic, () => [])[state.partition] = state;
    }
    this.partitionsByTopic = byTopic;
    this.version = version;
    this.lastFullRefresh = Date.now();
    await this.refreshBrokers(false);
    this.emit();
  }

  private async refreshBrokers(emit = true): Promise<void> {
    const [brokers, controller] = await Promise.all([
      this.source.listLiveBrokers(),
      this.source.currentController(),
    ]);
    this.lastBrokerRefresh = Date.now();
    const changed =
      brokers.map(brokerSignature).join(',') !== this.brokers.map(brokerSignature).join(',') ||
      controller?.controllerId !== this.controllerRecord?.controllerId;
    this.brokers = brokers;
    this.controllerRecord = controller;
    if (changed && emit) this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.options.logger?.error({ err: error }, 'metadata listener failed');
      }
    }
  }

  /** Runs `listener` after every refresh that may have changed something. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  topic(name: string): TopicRecord | undefined {
    return this.byName.get(name);
  }

  topicById(topicId: string): TopicRecord | undefined {
    return this.byId.get(topicId);
  }

  topics(): TopicRecord[] {
    return [...this.byName.values()];
  }

  /** A partition's state, or undefined while the controller has not placed it yet. */
  partition(topic: string, partition: number): PartitionState | undefined {
    return this.partitionsByTopic.get(topic)?.[partition];
  }

  /** Every placed partition of every topic. */
  allPartitions(): PartitionState[] {
    return [...this.partitionsByTopic.values()].flatMap((list) => list.filter((s) => s !== undefined));
  }

  liveBrokers(): readonly BrokerLeaseRecord[] {
    return this.brokers;
  }

  broker(nodeId: number): BrokerLeaseRecord | undefined {
    return this.brokers.find((b) => b.brokerId === nodeId);
  }

  controller(): ControllerRecord | undefined {
    return this.controllerRecord;
  }

  /** Records a topic this broker just wrote, without waiting for the next refresh. */
  put(topic: TopicRecord): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  remove(name: string): void {
    const topic = this.byName.get(name);
    this.byName.delete(name);
    this.partitionsByTopic.delete(name);
    if (topic) this.byId.delete(topic.topicId);
  }

  /** Records a partition state this broker just wrote (an ISR change), if it is newer. */
  putPartition(state: PartitionState): void {
    const list = this.partitionsByTopic.get(state.topic);
    const current = list?.[state.partition];
    if (!list || (current && current.version >= state.version)) return;
    list[state.partition] = state;
  }
}

function brokerSignature(broker: BrokerLeaseRecord): string {
  return `${broker.brokerId}@${broker.endpoint.host}:${broker.endpoint.port}/${broker.epoch}${broker.rejoining ? '/rejoining' : ''}`;
}
