import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/error-codes.js';
import { type Logger, silentLogger } from '../common/logger.js';
import { type ConsumerGroup, type GroupSummary, IllegalGroupStateError } from './consumer-group.js';
import type { CoordinatorLocator } from './coordinator-locator.js';
import { GroupAdmin, type ListedGroup } from './group-admin.js';
import { GroupMember, type JoinOutcome, joinError, type SyncOutcome, syncError } from './group-member.js';
import { CoordinatorError, GroupRegistry, type GroupSlot } from './group-registry.js';
import type { GroupStore, StoredProtocol } from './group-store.js';
import {
  type OffsetCommitParams,
  type OffsetCommitResult,
  type OffsetFetchResult,
  OffsetManager,
} from './offset-manager.js';
import { Rebalancer } from './rebalance.js';

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms: shorter session timeouts get INVALID_SESSION_TIMEOUT. */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms. */
  maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms: how long a new group waits for more members to join. */
  initialRebalanceDelayMs: number;
  /** offset.metadata.max.bytes. */
  maxOffsetMetadataBytes: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3000,
  maxOffsetMetadataBytes: 4096,
};

export interface GroupCoordinatorOptions {
  /** Whether a topic partition exists; commits to others get UNKNOWN_TOPIC_OR_PARTITION. */
  partitionExists: (topic: string, partition: number) => boolean;
  config?: Partial<GroupCoordinatorConfig>;
  logger?: Logger;
  now?: () => number;
  /**
   * Which groups this broker coordinates. Without one, it coordinates every group (a single
   * broker). Pass the same locator FindCoordinator answers from, so clients are sent exactly where
   * groups are served.
   */
  locator?: CoordinatorLocator;
}

export interface JoinGroupParams {
  groupId: string;
  /** Empty for a member joining for the first time. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** Negative (JoinGroup v0) means "same as the session timeout". */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: StoredProtocol[];
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED and an id to rejoin with (KIP-394). */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a Stable group is told it leads but may skip assigning (KIP-814). */
  supportSkippingAssignment: boolean;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+: must match the group's when given. */
  protocolType: string | null;
  protocolName: string | null;
  /** The leader's assignment for each member; empty from followers. */
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberRef {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveOutcome {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

/** Parked responses are returned wrapped so that the group's queue never awaits them. */
type Parked<T> = { outcome: Promise<T> };
const ready = <T>(value: T): Parked<T> => ({ outcome: Promise.resolve(value) });

/**
 * The classic (pre-KIP-848) consumer group coordinator, persisted in DynamoDB. Follows Kafka's
 * GroupCoordinator: JoinGroup/SyncGroup rebalances with a leader-computed assignment, heartbeats
 * and session expiry, static membership (KIP-345), offsets fenced by generation, and the admin
 * APIs. All work on one group is serialized by the registry.
 *
 * In a cluster each broker coordinates the groups its locator assigns it: requests for other
 * groups get NOT_COORDINATOR (clients then re-run FindCoordinator), a group whose ownership moves
 * away is unloaded, and a group gained is read from DynamoDB on first access. See GroupRegistry.
 */
export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly registry: GroupRegistry;
  private readonly rebalancer: Rebalancer;
  private readonly offsets: OffsetManager;
  private readonly admin: GroupAdmin;
  private readonly unsubscribeLocator: () => void;

  constructor(store: GroupStore, options: GroupCoordinatorOptions) {
    this.config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...options.config };
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? Date.now;
    const locator = options.locator;
    this.registry = new GroupRegistry(
      store,
      this.logger,
      (slot, group) => this.rebalancer.resume(slot, group),
      this.now,
      locator ? (groupId) => locator.coordinatorFor(groupId)?.nodeId === locator.localNodeId : () => true,
    );
    this.unsubscribeLocator = locator?.onChange(() => this.registry.ownershipChanged()) ?? (() => {});
    this.rebalancer = new Rebalancer(
      this.registry,
      this.config.initialRebalanceDelayMs,
      this.logger,
      this.now,
    );
    this.offsets = new OffsetManager(this.registry, {
      partitionExists: options.partitionExists,
      maxMetadataBytes: this.config.maxOffsetMetadataBytes,
      onMemberCommit: (slot, group, member) => this.rebalancer.touch(slot, group, member),
      errorCodeFor: (error) => this.errorCodeFor(error),
      now: this.now,
    });
    this.admin = new GroupAdmin(this.registry, this.logger, (error) => this.errorCodeFor(error));
  }

  /** Groups loaded on this coordinator, by state (for metrics). */
  groupCountsByState(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const group of this.registry.cached()) counts.set(group.state, (counts.get(group.state) ?? 0) + 1);
    return counts;
  }

  /** Cancels every timer and answers parked joins and syncs with COORDINATOR_NOT_AVAILABLE. */
  close(): Promise<void> {
    this.unsubscribeLocator();
    return this.registry.close();
  }

  async joinGroup(params: JoinGroupParams): Promise<JoinOutcome> {
    if (params.groupId === '') return joinError(ErrorCode.INVALID_GROUP_ID, params.memberId);
    if (
      params.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      params.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, params.memberId);
    }
    try {
      const parked = await this.registry.run(params.groupId, (slot, group) => this.join(slot, group, params));
      return await parked.outcome;
    } catch (error) {
      return joinError(this.errorCodeFor(error), params.memberId);
    }
  }

  async syncGroup(params: SyncGroupParams): Promise<SyncOutcome> {
    if (params.groupId === '') return syncError(ErrorCode.INVALID_GROUP_ID);
    try {
      const parked = await this.registry.run(params.groupId, (slot, group) => this.sync(slot, group, params));
      return await parked.outcome;
    } catch (error) {
      return syncError(this.errorCodeFor(error));
    }
  }

  async heartbeat(params: MemberRef): Promise<number> {
    if (params.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    try {
      return await this.registry.run(params.groupId, (slot, group) => {
        const error = group.validateMember(params.memberId, params.groupInstanceId);
        if (error !== ErrorCode.NONE) return error;
        if (params.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
        if (group.state === 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID;
        this.rebalancer.touch(slot, group, group.get(params.memberId)!);
        // While preparing a rebalance, the heartbeat response is how members learn to rejoin.
        return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
      });
    } catch (error) {
      return this.errorCodeFor(error);
    }
  }

  /** Members leave by member id or (administratively, member id empty) by group instance id. */
  async leaveGroup(
    groupId: string,
    members: readonly { memberId: string; groupInstanceId: string | null }[],
  ): Promise<LeaveOutcome> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    try {
      return await this.registry.run(groupId, async (slot, group) => {
        const results: LeaveOutcome['members'] = [];
        for (const leaving of members) {
          results.push({ ...leaving, errorCode: await this.leave(slot, group, leaving) });
        }
        return { errorCode: ErrorCode.NONE, members: results };
      });
    } catch (error) {
      return { errorCode: this.errorCodeFor(error), members: [] };
    }
  }

  async commitOffsets(params: OffsetCommitParams): Promise<OffsetCommitResult> {
    const result = await this.offsets.commit(params);
    const rejected = result.flatMap((t) =>
      t.partitions.filter((p) => p.errorCode !== 0).map((p) => [t.name, p.partitionIndex, p.errorCode]),
    );
    if (rejected.length > 0) {
      // Rejected commits are normal around rebalances, but they explain "lag" that clients report.
      this.logger.info(
        { group: params.groupId, generation: params.generationId, member: params.memberId, rejected },
        'offset commit rejected',
      );
    }
    return result;
  }

  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  ): Promise<OffsetFetchResult> {
    return this.offsets.fetch(groupId, topics);
  }

  describeGroup(groupId: string): Promise<GroupSummary & { errorCode: number }> {
    return this.admin.describeGroup(groupId);
  }

  listGroups(): Promise<{ errorCode: number; groups: ListedGroup[] }> {
    return this.admin.listGroups();
  }

  deleteGroup(groupId: string): Promise<number> {
    return this.admin.deleteGroup(groupId);
  }

  private errorCodeFor(error: unknown): number {
    if (error instanceof CoordinatorError) return error.errorCode;
    this.logger.error({ err: error }, 'group coordinator failure');
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  // ---- JoinGroup ----

  private async join(
    slot: GroupSlot,
    group: ConsumerGroup,
    params: JoinGroupParams,
  ): Promise<Parked<JoinOutcome>> {
    // A static member's earlier incarnation does not vote on whether its new protocols fit.
    const self =
      params.memberId !== '' || params.groupInstanceId === null
        ? params.memberId
        : (group.staticMemberId(params.groupInstanceId) ?? '');
    const names = params.protocols.map((p) => p.name);
    if (!group.supportsProtocols(params.protocolType, names, self)) {
      return ready(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, params.memberId));
    }
    const parked =
      params.memberId === ''
        ? await this.joinNewMember(slot, group, params)
        : await this.joinCurrentMember(slot, group, params);
    await this.rebalancer.tryCompleteJoin(slot, group);
    return parked;
  }

  private async joinNewMember(
    slot: GroupSlot,
    group: ConsumerGroup,
    params: JoinGroupParams,
  ): Promise<Parked<JoinOutcome>> {
    const memberId = `${params.clientId}-${randomUUID()}`;
    if (params.groupInstanceId !== null) return this.joinStaticMember(slot, group, params, memberId);
    if (params.requireKnownMemberId) {
      // KIP-394: the client rejoins with this id, so a retried JoinGroup cannot leave a ghost member.
      this.rebalancer.addPendingMember(slot, group, memberId, params.sessionTimeoutMs);
      return ready(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId));
    }
    return this.addMemberAndRebalance(slot, group, params, memberId);
  }

  private async joinCurrentMember(
    slot: GroupSlot,
    group: ConsumerGroup,
    params: JoinGroupParams,
  ): Promise<Parked<JoinOutcome>> {
    if (group.pendingMembers.has(params.memberId)) {
      return this.addMemberAndRebalance(slot, group, params, params.memberId);
    }
    const error = group.validateMember(params.memberId, params.groupInstanceId);
    if (error !== ErrorCode.NONE) return ready(joinError(error, params.memberId));
    const member = group.get(params.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(slot, group, member, params);
      case 'CompletingRebalance':
        // Unchanged metadata: the member probably lost the join response; resend the generation.
        if (member.matches(params.protocols)) {
          this.rebalancer.touch(slot, group, member);
          return ready(group.joinOutcome(member));
        }
        return this.updateMemberAndRebalance(slot, group, member, params);
      case 'Stable':
        // The leader rejoining, or a member with new metadata, forces a rebalance; a follower
        // with nothing new just gets the current generation back.
        if (group.isLeader(member.memberId) || !member.matches(params.protocols)) {
          return this.updateMemberAndRebalance(slot, group, member, params);
        }
        this.rebalancer.touch(slot, group, member);
        return ready(group.joinOutcome(member));
      default:
        return ready(joinError(ErrorCode.UNKNOWN_MEMBER_ID, params.memberId));
    }
  }

  private async addMemberAndRebalance(
    slot: GroupSlot,
    group: ConsumerGroup,
    params: JoinGroupParams,
    memberId: string,
  ): Promise<Parked<JoinOutcome>> {
    const member = new GroupMember(
      {
        memberId,
        groupInstanceId: params.groupInstanceId,
        clientId: params.clientId,
        clientHost: params.clientHost,
        sessionTimeoutMs: params.sessionTimeoutMs,
        rebalanceTimeoutMs: rebalanceTimeout(params),
        protocols: params.protocols,
        assignment: Buffer.alloc(0),
      },
      this.now(),
    );
    member.isNew = true;
    // During the first rebalance of a new group, each arrival may extend the initial delay.
    if (group.state === 'PreparingRebalance' && group.generationId === 0) group.newMemberAdded = true;
    const waiter = member.awaitJoin();
    group.add(member, params.protocolType);
    this.rebalancer.removePendingMember(slot, memberId);
    this.rebalancer.resetSession(slot, group, member);
    await this.rebalancer.maybePrepareRebalance(slot, group, `member ${memberId} joined`);
    return { outcome: waiter.promise };
  }

  private async updateMemberAndRebalance(
    slot: GroupSlot,
    group: ConsumerGroup,
    member: GroupMember,
    params: JoinGroupParams,
  ): Promise<Parked<JoinOutcome>> {
    group.updateMember(member, params.protocols, rebalanceTimeout(params), params.sessionTimeoutMs);
    const waiter = member.awaitJoin();
    this.rebalancer.resetSession(slot, group, member);
    await this.rebalancer.maybePrepareRebalance(slot, group, `member ${member.memberId} rejoined`);
    return { outcome: waiter.promise };
  }

  /**
   * A static member joining with no member id (KIP-345): new instance ids join like new members;
   * a known instance id takes over its previous member id (which is fenced from now on). In a
   * Stable group whose chosen protocol would not change, there is no rebalance: the member gets
   * the current generation and then its stored assignment from SyncGroup.
   */
  private async joinStaticMember(
    slot: GroupSlot,
    group: ConsumerGroup,
    params: JoinGroupParams,
    newMemberId: string,
  ): Promise<Parked<JoinOutcome>> {
    const instanceId = params.groupInstanceId!;
    const oldMemberId = group.staticMemberId(instanceId);
    if (oldMemberId === undefined) return this.addMemberAndRebalance(slot, group, params, newMemberId);
    const previousLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.rebalancer.forgetMemberTimers(slot, oldMemberId);
    group.updateMember(member, params.protocols, rebalanceTimeout(params), params.sessionTimeoutMs);
    this.rebalancer.resetSession(slot, group, member);
    this.logger.info(
      { group: group.groupId, instanceId, oldMemberId, newMemberId },
      'static member replaced',
    );
    switch (group.state) {
      case 'Stable': {
        if (group.selectProtocol() !== group.protocolName) break;
        // Stored at once, so a restarted broker fences the old member id too.
        await this.registry.persist(slot, group);
        // Before v9 the old leader id is returned, so a returning leader does not think it must
        // assign (a Stable group would not propagate that assignment anyway).
        const skip = params.supportSkippingAssignment && group.isLeader(newMemberId);
        return ready(
          group.joinOutcome(member, {
            leaderId: params.supportSkippingAssignment ? (group.leaderId ?? '') : previousLeader,
            skipAssignment: skip,
            members: skip ? group.currentMemberMetadata() : [],
          }),
        );
      }
      case 'CompletingRebalance':
      case 'PreparingRebalance':
        break;
      default:
        throw new IllegalGroupStateError(`group ${group.groupId}: static member in ${group.state} group`);
    }
    // Rebalance so the member gets a join response and the group's metadata stays consistent.
    const waiter = member.awaitJoin();
    await this.rebalancer.maybePrepareRebalance(slot, group, `static member ${instanceId} rejoined`);
    return { outcome: waiter.promise };
  }

  // ---- SyncGroup and LeaveGroup ----

  private async sync(
    slot: GroupSlot,
    group: ConsumerGroup,
    params: SyncGroupParams,
  ): Promise<Parked<SyncOutcome>> {
    const error = group.validateMember(params.memberId, params.groupInstanceId);
    if (error !== ErrorCode.NONE) return ready(syncError(error));
    if (params.generationId !== group.generationId) return ready(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (
      (params.protocolType !== null && params.protocolType !== group.protocolType) ||
      (params.protocolName !== null && params.protocolName !== group.protocolName)
    ) {
      return ready(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.get(params.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return ready(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        group.pendingSyncMembers.delete(member.memberId);
        this.rebalancer.touch(slot, group, member);
        return ready(group.syncOutcome(member));
      case 'CompletingRebalance':
        break;
      default:
        return ready(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
    const waiter = member.awaitSync();
    group.pendingSyncMembers.delete(member.memberId);
    this.rebalancer.touch(slot, group, member);
    if (group.isLeader(member.memberId)) {
      const assignments = new Map(params.assignments.map((a) => [a.memberId, a.assignment]));
      for (const id of assignments.keys()) {
        if (!group.has(id))
          this.logger.warn({ group: group.groupId, member: id }, 'assignment for unknown member');
      }
      // Members the leader left out get an empty assignment.
      for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? Buffer.alloc(0);
      group.transitionTo('Stable');
      await this.registry.persist(slot, group);
      for (const m of group.members.values()) m.completeSync(group.syncOutcome(m));
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group stable');
    }
    return { outcome: waiter.promise };
  }

  private async leave(
    slot: GroupSlot,
    group: ConsumerGroup,
    leaving: { memberId: string; groupInstanceId: string | null },
  ): Promise<number> {
    const { memberId, groupInstanceId } = leaving;
    if (memberId === '') {
      // Administrative removal by instance id (KIP-345).
      const current = groupInstanceId === null ? undefined : group.staticMemberId(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      await this.rebalancer.removeMemberAndUpdateGroup(
        slot,
        group,
        group.get(current)!,
        'removed by instance id',
      );
      return ErrorCode.NONE;
    }
    if (group.pendingMembers.has(memberId)) {
      this.rebalancer.removePendingMember(slot, memberId);
      await this.rebalancer.tryCompleteJoin(slot, group);
      return ErrorCode.NONE;
    }
    if (groupInstanceId !== null) {
      const current = group.staticMemberId(groupInstanceId);
      if (current !== undefined && current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    const member = group.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    await this.rebalancer.removeMemberAndUpdateGroup(slot, group, member, 'left the group');
    return ErrorCode.NONE;
  }
}

function rebalanceTimeout(params: JoinGroupParams): number {
  return params.rebalanceTimeoutMs < 0 ? params.sessionTimeoutMs : params.rebalanceTimeoutMs;
}
