import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Logger, silentLogger } from '../common/logger.js';
import { getOrCreate } from '../common/maps.js';
import {
  type BrokerEndpoint,
  type BrokerLeaseRecord,
  LeaseHeldError,
  type LeaseTimingOptions,
  listBrokerRegistrations,
} from './broker-lease.js';
import { ControllerLease } from './controller-lease.js';
import type { MetadataVersion } from './metadata-version.js';
import { type BrokerLiveness, electPartition } from './partition-election.js';
import {
  type LeaseFence,
  type PartitionState,
  PartitionStateConflictError,
  type PartitionStateStore,
} from './partition-state-store.js';
import { assignReplicas } from './replica-placement.js';
import { resolveTopicConfig } from './topic-config.js';
import type { TopicRecord, TopicStore } from './topic-store.js';

export interface ControllerOptions {
  brokerId: number;
  endpoint: BrokerEndpoint;
  lease?: LeaseTimingOptions;
  /** How often the controller re-reads the cluster and acts. Default 250 ms. */
  reconcileMs?: number;
  /** A returning preferred leader waits this long before taking leadership back. Default 5000 ms. */
  preferredLeaderDelayMs?: number;
  logger?: Logger;
}

export interface ControllerStores {
  client: DynamoDBDocumentClient;
  tablePrefix: string;
  topics: TopicStore;
  partitions: PartitionStateStore;
  version: MetadataVersion;
}

/**
 * The cluster controller. Every broker runs one; the one holding the controller lease acts. Each
 * reconcile pass reads broker registrations, topics and partition states straight from DynamoDB
 * (never from a cache, so a new controller acts on the truth) and then:
 * - places the partitions of new topics (rack-aware, balanced leaders);
 * - elects leaders for partitions whose leader died or restarted, from the ISR (partition-election.ts);
 * - drops dead brokers from ISRs and returns leadership to preferred replicas;
 * - deletes the states of deleted topics;
 * - bumps the metadata version whenever it wrote something or the set of live brokers changed.
 * Every write is conditional on the partition's version and on this controller's lease epoch, so a
 * deposed controller's writes fail.
 */
export class Controller {
  private lease: ControllerLease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastLiveSignature = '';
  private readonly logger: Logger;
  private readonly reconcileMs: number;

  constructor(
    private readonly stores: ControllerStores,
    private readonly options: ControllerOptions,
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'controller' });
    this.reconcileMs = options.reconcileMs ?? 250;
  }

  /** Whether this broker currently holds a valid controller lease. */
  get isActive(): boolean {
    return this.lease?.isValid() ?? false;
  }

  get controllerEpoch(): number {
    return this.lease?.controllerEpoch ?? -1;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.lease?.release().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'controller pass failed'))
        .finally(() => this.schedule(this.reconcileMs));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    if (!this.lease?.isValid()) {
      if (!(await this.campaign())) return;
    }
    await this.reconcile();
  }

  /** Tries to become controller; a fenced lease is replaced by a fresh incarnation. */
  private async campaign(): Promise<boolean> {
    const lease = new ControllerLease(this.stores.client, this.stores.tablePrefix, {
      ...this.options.lease,
      brokerId: this.options.brokerId,
      endpoint: this.options.endpoint,
      logger: this.logger,
      onFenced: (error) => this.logger.warn({ reason: error.reason }, 'controller lease lost'),
    });
    try {
      await lease.acquire();
    } catch (error) {
      if (error instanceof LeaseHeldError) return false;
      throw error;
    }
    lease.start();
    this.lease = lease;
    this.lastLiveSignature = '';
    this.logger.info({ controllerEpoch: lease.controllerEpoch }, 'became controller');
    await this.stores.version.bump();
    return true;
  }

  /** One pass over the whole cluster. Exposed for tests. */
  async reconcile(): Promise<void> {
    const lease = this.lease;
    if (!lease?.isValid()) return;
    const fence: LeaseFence = { key: lease.key, incarnation: lease.incarnation, epoch: lease.epoch };
    const now = Date.now();
    const [registrations, topics, states] = await Promise.all([
      listBrokerRegistrations(this.stores.client, this.stores.tablePrefix),
      this.stores.topics.list(),
      this.stores.partitions.list(),
    ]);
    const brokers = livenessOf(registrations, now, lease.clockSkewMarginMs);
    const live = registrations.filter((r) => brokers.get(r.brokerId)!.live);
    let changed = false;
    const liveSignature = live.map((b) => `${b.brokerId}/${b.epoch}`).join(',');
    if (liveSignature !== this.lastLiveSignature) {
      this.lastLiveSignature = liveSignature;
      changed = true;
    }

    const topicsByName = new Map(topics.map((t) => [t.name, t]));
    const placed = new Map<string, Set<number>>();
    for (const state of states) {
      const topic = topicsByName.get(state.topic);
      if (!topic || topic.topicId !== state.topicId) {
        if (!lease.isValid()) return;
        changed = (await this.attempt(() => this.stores.partitions.delete(state, fence), state)) || changed;
        continue;
      }
      getOrCreate(placed, topic.name, () => new Set<number>()).add(state.partition);
      const outcome = electPartition(state, {
        brokers,
        now,
        controllerEpoch: lease.controllerEpoch,
        uncleanElection: resolveTopicConfig(topic.config)['unclean.leader.election.enable'] === 'true',
        preferredLeaderDelayMs: this.options.preferredLeaderDelayMs ?? 5000,
      });
      if (!outcome || !lease.isValid()) continue;
      const write = () => this.stores.partitions.update(outcome.next, state.version, fence);
      if (await this.attempt(write, state)) {
        changed = true;
        this.logger.info(
          {
            topic: state.topic,
            partition: state.partition,
            reason: outcome.reason,
            leader: outcome.next.leader,
            leaderEpoch: outcome.next.leaderEpoch,
            isr: outcome.next.isr,
          },
          'partition state changed',
        );
      }
    }

    const leaderCounts = new Map<number, number>();
    for (const state of states) leaderCounts.set(state.leader, (leaderCounts.get(state.leader) ?? 0) + 1);
    for (const topic of topics) {
      const missing = missingPartitions(topic, placed.get(topic.name));
      if (missing.length === 0 || !lease.isValid()) continue;
      const created = this.place(topic, missing, live, brokers, leaderCounts, lease.controllerEpoch);
      if (created.length === 0) continue;
      changed =
        (await this.attempt(() => this.stores.partitions.create(created, fence), created[0]!)) || changed;
    }
    if (changed) await this.stores.version.bump();
  }

  private place(
    topic: TopicRecord,
    missing: number[],
    live: BrokerLeaseRecord[],
    brokers: ReadonlyMap<number, BrokerLiveness>,
    leaderCounts: ReadonlyMap<number, number>,
    controllerEpoch: number,
  ): PartitionState[] {
    if (live.length < topic.replicationFactor) {
      this.logger.warn(
        { topic: topic.name, replicationFactor: topic.replicationFactor, liveBrokers: live.length },
        'not enough live brokers to place partitions; waiting',
      );
      return [];
    }
    const assignment = assignReplicas(
      live.map((b) => ({ nodeId: b.brokerId, rack: b.rack })),
      missing.length,
      topic.replicationFactor,
      { existingLeaderCounts: leaderCounts, firstPartition: missing[0] },
    );
    return missing.map((partition, i) => {
      const replicas = assignment[i]!;
      return {
        topic: topic.name,
        topicId: topic.topicId,
        partition,
        replicas,
        leader: replicas[0]!,
        leaderEpoch: 0,
        leaderBrokerEpoch: brokers.get(replicas[0]!)!.brokerEpoch,
        isr: [...replicas],
        version: 1,
        controllerEpoch,
      };
    });
  }

  /** Runs one conditional write; a lost race is not an error (the next pass re-reads). */
  private async attempt(write: () => Promise<void>, subject: { topic: string; partition: number }) {
    try {
      await write();
      return true;
    } catch (error) {
      if (!(error instanceof PartitionStateConflictError)) throw error;
      this.logger.debug(
        { topic: subject.topic, partition: subject.partition, reason: error.reason },
        'write lost a race',
      );
      return false;
    }
  }
}

function missingPartitions(topic: TopicRecord, placed: ReadonlySet<number> | undefined): number[] {
  const missing: number[] = [];
  for (let p = 0; p < topic.partitionCount; p++) if (!placed?.has(p)) missing.push(p);
  return missing;
}

/** Classifies every registered broker by lease expiry, with the clock-skew margin (see broker-lease.ts). */
export function livenessOf(
  registrations: readonly BrokerLeaseRecord[],
  now: number,
  marginMs: number,
): Map<number, BrokerLiveness> {
  return new Map(
    registrations.map((r) => [
      r.brokerId,
      {
        live: r.expiresAt > now,
        dead: now > r.expiresAt + marginMs,
        brokerEpoch: r.epoch,
        registeredAt: r.acquiredAt,
        rejoining: r.rejoining,
      },
    ]),
  );
}
