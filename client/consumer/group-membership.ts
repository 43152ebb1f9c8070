import { ErrorCode } from '../../protocol/error-codes.js';
import { APIS } from '../../protocol/messages/index.js';
import { CLIENT_VERSIONS, type Cluster, throwIfError } from '../cluster/index.js';
import { errorFromCode, SpoolError, toSpoolError } from '../errors.js';
import {
  decodeMemberAssignment,
  decodeMemberSubscription,
  encodeMemberSubscription,
  type PartitionAssignor,
  performAssignment,
  type RebalanceProtocol,
  type TopicPartitions,
} from './assignors/assignor.js';
import {
  COORDINATOR_MOVED,
  type CoordinatorLink,
  GENERATION_LOST,
  GROUP_LANE,
  JOIN_LANE,
} from './coordinator-link.js';
import type { TopicPartition } from './types.js';

export interface MembershipOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  metadataMaxAgeMs: number;
  assignors: readonly PartitionAssignor[];
}

/** What the membership needs from the consumer around a rebalance. Each may take its time. */
export interface MembershipHooks {
  topics(): readonly string[];
  owned(): TopicPartition[];
  /** Give partitions up cleanly: finish their handlers, commit, run the user's listener. */
  revoke(partitions: TopicPartition[]): Promise<void>;
  /** Partitions lost with the generation: nothing may be committed for them. */
  lose(partitions: TopicPartition[]): Promise<void>;
  assign(partitions: TopicPartition[]): Promise<void>;
  /** Something went wrong that retrying will not fix (fenced static member, bad config). */
  fatal(error: SpoolError): void;
  event(name: 'rebalancing', detail: { reason: string }): void;
  event(
    name: 'joined',
    detail: { generationId: number; memberId: string; leader: boolean; protocol: string },
  ): void;
}

/**
 * A member of a classic consumer group: JoinGroup/SyncGroup rounds, heartbeats, commits and
 * leaving. Heartbeats run on their own timer, never waiting for the user's handlers, so slow
 * processing cannot get the member evicted (the kafkajs rebalance loop); only the rebalance
 * timeout bounds how long a revoked partition's handler may take.
 *
 * Rebalance protocol: cooperative when every assignor is (KIP-429), else eager.
 * - eager: everything is revoked before JoinGroup; the new assignment is assigned whole.
 * - cooperative: owned partitions are sent in JoinGroup and keep flowing; after SyncGroup only the
 *   partitions taken away are revoked, then the member rejoins at once so they can move.
 */
export class GroupMembership {
  memberId = '';
  generationId = -1;
  readonly groupInstanceId: string | null;
  readonly protocol: RebalanceProtocol;
  private rejoinNeeded = true;
  private joining: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private metadataTimer: NodeJS.Timeout | undefined;
  /** Partition counts of the subscribed topics at the last join; a change means rebalance. */
  private partitionCounts = new Map<string, number>();
  private closed = false;
  /** Why joining stopped for good (fenced static member, unknown assignor, bad session timeout). */
  private fatalError: SpoolError | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly link: CoordinatorLink,
    private readonly options: MembershipOptions,
    private readonly hooks: MembershipHooks,
  ) {
    this.groupInstanceId = options.groupInstanceId;
    this.protocol = options.assignors.every((a) => a.protocols === 'cooperative') ? 'cooperative' : 'eager';
  }

  get isStable(): boolean {
    return this.generationId >= 0 && !this.rejoinNeeded && this.joining === undefined;
  }

  /** Joins the group in the background and keeps heartbeating. */
  start(): void {
    this.requestRejoin('joining');
    this.scheduleHeartbeat(this.options.heartbeatIntervalMs);
    this.metadataTimer = setInterval(() => void this.checkPartitionCounts(), this.options.metadataMaxAgeMs);
    this.metadataTimer.unref();
  }

  /** Resolves once the member has an assignment (or is closed); rejects if joining failed for good. */
  async waitUntilStable(): Promise<void> {
    while (!this.closed && !this.isStable) {
      if (this.fatalError) throw this.fatalError;
      await (this.joining ?? new Promise((r) => setTimeout(r, 10)));
    }
  }

  requestRejoin(reason: string): void {
    this.rejoinNeeded = true;
    if (this.joining || this.closed) return;
    this.hooks.event('rebalancing', { reason });
    this.joining = this.joinUntilStable()
      .catch((error) => {
        this.fatalError = toSpoolError(error);
        this.hooks.fatal(this.fatalError);
      })
      .finally(() => {
        this.joining = undefined;
      });
  }

  private async joinUntilStable(): Promise<void> {
    while (this.rejoinNeeded && !this.closed) {
      try {
        await this.joinOnce();
      } catch (error) {
        const spoolError = toSpoolError(error);
        if (!spoolError.retriable) throw spoolError;
        await sleep(this.options.retryBackoffMs);
      }
    }
  }

  private async joinOnce(): Promise<void> {
    const coordinator = await this.link.connection(JOIN_LANE);
    if (this.protocol === 'eager') {
      const owned = this.hooks.owned();
      if (owned.length > 0) await this.hooks.revoke(owned);
    }
    const topics = [...this.hooks.topics()];
    const owned = this.hooks.owned();
    const context = { topics, ownedPartitions: toTopicPartitions(owned), generationId: this.generationId };
    const { response: join } = await coordinator.send(
      APIS.JoinGroup,
      CLIENT_VERSIONS.JoinGroup,
      {
        groupId: this.options.groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
        protocolType: 'consumer',
        protocols: this.options.assignors.map((assignor) => ({
          name: assignor.name,
          metadata: encodeMemberSubscription({
            topics,
            ownedPartitions: context.ownedPartitions,
            generationId: this.generationId,
            userData: assignor.subscriptionUserData?.(context) ?? null,
          }),
        })),
        reason: null,
      },
      { timeoutMs: this.options.rebalanceTimeoutMs + this.options.requestTimeoutMs },
    );
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = join.memberId; // KIP-394: rejoin straight away with the id we were given
      return;
    }
    if (join.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) return;
    if (await this.handleGroupError(join.errorCode, 'JoinGroup')) return;

    this.memberId = join.memberId;
    this.generationId = join.generationId;
    const assignor = this.options.assignors.find((a) => a.name === join.protocolName);
    if (!assignor)
      throw new SpoolError(`the group chose assignor ${join.protocolName}, which this member does not have`);
    const isLeader = join.leader === join.memberId;
    const assignments = isLeader ? await this.assignAsLeader(assignor, join.members) : [];

    const { response: sync } = await coordinator.send(
      APIS.SyncGroup,
      CLIENT_VERSIONS.SyncGroup,
      {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
        protocolType: 'consumer',
        protocolName: assignor.name,
        assignments,
      },
      { timeoutMs: this.options.rebalanceTimeoutMs + this.options.requestTimeoutMs },
    );
    if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) return;
    if (await this.handleGroupError(sync.errorCode, 'SyncGroup')) return;

    const assigned = decodeMemberAssignment(sync.assignment).partitions.flatMap((t) =>
      t.partitions.map((partition) => ({ topic: t.topic, partition })),
    );
    await this.recordPartitionCounts(topics);
    this.rejoinNeeded = false;
    const current = this.hooks.owned();
    const revoked = current.filter((p) => !assigned.some((a) => same(a, p)));
    const added = assigned.filter((a) => !current.some((p) => same(a, p)));
    if (revoked.length > 0) {
      await this.hooks.revoke(revoked);
      // The revoked partitions go to their new owners in the follow-up round.
      if (this.protocol === 'cooperative') this.rejoinNeeded = true;
    }
    if (added.length > 0) await this.hooks.assign(added);
    this.hooks.event('joined', {
      generationId: this.generationId,
      memberId: this.memberId,
      leader: isLeader,
      protocol: assignor.name,
    });
  }

  /**
   * Handles a JoinGroup/SyncGroup error. Returns true when the round is over and should be retried
   * (after a generation reset or a coordinator change); throws errors retrying cannot fix.
   */
  private async handleGroupError(code: number, api: string): Promise<boolean> {
    if (code === ErrorCode.NONE) return false;
    if (GENERATION_LOST.has(code)) {
      await this.resetGeneration(code === ErrorCode.UNKNOWN_MEMBER_ID);
      return true;
    }
    if (COORDINATOR_MOVED.has(code)) {
      this.link.forget();
      return true;
    }
    throwIfError(code, { serverMessage: `${api} for group ${this.options.groupId}` });
    return true;
  }

  /** The leader's job: assign every member's subscribed partitions with the chosen assignor. */
  private async assignAsLeader(
    assignor: PartitionAssignor,
    members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const allTopics = new Set<string>();
    for (const member of members) {
      for (const topic of decodeMemberSubscription(member.memberId, member.groupInstanceId, member.metadata)
        .topics)
        allTopics.add(topic);
    }
    await this.cluster.retry(() => this.cluster.metadata.refresh([...allTopics]));
    const counts = new Map<string, number>();
    for (const topic of allTopics)
      counts.set(topic, this.cluster.metadata.topic(topic)?.partitions.length ?? 0);
    return performAssignment(assignor, members, counts);
  }

  /** Heartbeats on a timer of their own, whatever the handlers are doing. */
  private scheduleHeartbeat(delayMs: number): void {
    if (this.closed) return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs);
  }

  private async heartbeat(): Promise<void> {
    let next = this.options.heartbeatIntervalMs;
    try {
      // No heartbeats while a JoinGroup/SyncGroup round is out: the coordinator is not expecting them.
      if (this.joining || this.generationId < 0) return;
      const coordinator = await this.link.connection(GROUP_LANE);
      const { response } = await coordinator.send(APIS.Heartbeat, CLIENT_VERSIONS.Heartbeat, {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
      });
      const code = response.errorCode;
      if (code === ErrorCode.REBALANCE_IN_PROGRESS) this.requestRejoin('the coordinator started a rebalance');
      else if (GENERATION_LOST.has(code)) {
        await this.resetGeneration(code === ErrorCode.UNKNOWN_MEMBER_ID);
        this.requestRejoin('the member was evicted');
      } else if (COORDINATOR_MOVED.has(code)) {
        this.link.forget();
        next = this.options.retryBackoffMs;
      } else if (code === ErrorCode.FENCED_INSTANCE_ID) {
        this.hooks.fatal(
          errorFromCode(code, { serverMessage: `static member ${this.options.groupInstanceId}` })!,
        );
      } else throwIfError(code);
    } catch {
      // Lost connection or timeout: find the coordinator again and try sooner.
      this.link.forget();
      next = this.options.retryBackoffMs;
    } finally {
      this.scheduleHeartbeat(next);
    }
  }

  /** Ends the generation. Owned partitions are lost: another member may already have them. */
  private async resetGeneration(forgetMemberId: boolean): Promise<void> {
    this.generationId = -1;
    if (forgetMemberId) this.memberId = '';
    this.rejoinNeeded = true;
    const owned = this.hooks.owned();
    if (owned.length > 0) await this.hooks.lose(owned);
  }

  private async recordPartitionCounts(topics: readonly string[]): Promise<void> {
    await this.cluster.metadata.refresh([...topics]).catch(() => {});
    this.partitionCounts = new Map(
      topics.map((t) => [t, this.cluster.metadata.topic(t)?.partitions.length ?? 0] as const),
    );
  }

  /** A subscribed topic gained partitions (or appeared): rebalance so they get consumed. */
  private async checkPartitionCounts(): Promise<void> {
    if (!this.isStable) return;
    const topics = [...this.hooks.topics()];
    try {
      await this.cluster.metadata.refresh(topics);
    } catch {
      return;
    }
    for (const topic of topics) {
      const count = this.cluster.metadata.topic(topic)?.partitions.length ?? 0;
      if (count !== (this.partitionCounts.get(topic) ?? 0)) {
        this.requestRejoin(`topic ${topic} now has ${count} partitions`);
        return;
      }
    }
  }

  /**
   * Stops heartbeating and leaves the group so the others rebalance at once. Static members do
   * not leave: their session timeout covers a restart and their partitions wait for them.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.metadataTimer) clearInterval(this.metadataTimer);
    if (this.options.groupInstanceId !== null || this.memberId === '') return;
    try {
      const coordinator = await this.link.connection(GROUP_LANE);
      await coordinator.send(APIS.LeaveGroup, CLIENT_VERSIONS.LeaveGroup, {
        groupId: this.options.groupId,
        memberId: this.memberId,
        members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the consumer is closing' }],
      });
    } catch {
      // Leaving is a courtesy: if it fails, the session timeout removes the member.
    }
  }
}

function same(a: TopicPartition, b: TopicPartition): boolean {
  return a.topic === b.topic && a.partition === b.partition;
}

function toTopicPartitions(partitions: readonly TopicPartition[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions)
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
