import { ErrorCode } from '../../protocol/error-codes.js';
import type { Logger } from '../common/logger.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { GroupMember } from './group-member.js';
import type { GroupRegistry, GroupSlot } from './group-registry.js';

/**
 * The timed half of the classic protocol: preparing and completing rebalances, and expiring
 * members whose session, pending member id or pending sync ran out. Everything here runs inside
 * the group's queue (called from a request or from a timer scheduled through the registry).
 *
 * Timers (names within the group): `join` completes the join phase, `sync` expires members that
 * never sent SyncGroup, `session:<id>` and `pending:<id>` expire members and pending member ids.
 */
export class Rebalancer {
  /** Groups waiting out the initial rebalance delay (not completed early even if all joined). */
  private readonly initialDelay = new WeakSet<ConsumerGroup>();

  constructor(
    private readonly registry: GroupRegistry,
    private readonly initialRebalanceDelayMs: number,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Restarts a freshly loaded group's timers: sessions count from now; an unfinished sync phase gets its deadline. */
  resume(slot: GroupSlot, group: ConsumerGroup): void {
    for (const member of group.members.values()) this.touch(slot, group, member);
    if (group.state === 'CompletingRebalance') this.scheduleSyncExpiry(slot, group);
  }

  /** The member was heard from: its session restarts. */
  touch(slot: GroupSlot, group: ConsumerGroup, member: GroupMember): void {
    member.lastSeen = this.now();
    const name = `session:${member.memberId}`;
    if (!slot.timers.has(name)) this.scheduleSession(slot, group, member.memberId, member.sessionTimeoutMs);
  }

  /** Resets the session timer outright (the session timeout may have changed). */
  resetSession(slot: GroupSlot, group: ConsumerGroup, member: GroupMember): void {
    member.lastSeen = this.now();
    this.scheduleSession(slot, group, member.memberId, member.sessionTimeoutMs);
  }

  forgetMemberTimers(slot: GroupSlot, memberId: string): void {
    slot.timers.clear(`session:${memberId}`);
  }

  /** A member id handed out with MEMBER_ID_REQUIRED expires if not used within the session timeout. */
  addPendingMember(slot: GroupSlot, group: ConsumerGroup, memberId: string, sessionTimeoutMs: number): void {
    group.pendingMembers.add(memberId);
    this.registry.schedule(slot, group, `pending:${memberId}`, sessionTimeoutMs, async () => {
      if (group.pendingMembers.delete(memberId)) await this.tryCompleteJoin(slot, group);
    });
  }

  removePendingMember(slot: GroupSlot, memberId: string): void {
    slot.group?.pendingMembers.delete(memberId);
    slot.timers.clear(`pending:${memberId}`);
  }

  async maybePrepareRebalance(slot: GroupSlot, group: ConsumerGroup, reason: string): Promise<void> {
    if (group.canRebalance()) await this.prepareRebalance(slot, group, reason);
  }

  /**
   * Enters PreparingRebalance: parked syncs are told to rejoin, and the join phase ends when every
   * member has rejoined or the rebalance timeout passes. A group starting from Empty first waits
   * the initial rebalance delay, extended (up to the rebalance timeout) while new members keep
   * arriving, so consumers that start together share one generation.
   */
  async prepareRebalance(slot: GroupSlot, group: ConsumerGroup, reason: string): Promise<void> {
    if (group.state === 'CompletingRebalance')
      group.resetAndPropagateAssignmentError(ErrorCode.REBALANCE_IN_PROGRESS);
    slot.timers.clear('sync');
    group.pendingSyncMembers.clear();
    const fromEmpty = group.state === 'Empty';
    group.transitionTo('PreparingRebalance');
    this.logger.info(
      { group: group.groupId, generation: group.generationId, members: group.members.size, reason },
      'preparing to rebalance group',
    );
    if (fromEmpty) {
      const delay = this.initialRebalanceDelayMs;
      this.initialDelay.add(group);
      this.scheduleInitialJoin(slot, group, delay, Math.max(group.rebalanceTimeoutMs() - delay, 0));
    } else {
      this.initialDelay.delete(group);
      this.registry.schedule(slot, group, 'join', group.rebalanceTimeoutMs(), () =>
        this.completeJoin(slot, group),
      );
      await this.tryCompleteJoin(slot, group);
    }
  }

  /** Completes the join phase early once every member (and no pending member id) has joined. */
  async tryCompleteJoin(slot: GroupSlot, group: ConsumerGroup): Promise<void> {
    if (group.state !== 'PreparingRebalance' || this.initialDelay.has(group)) return;
    if (group.hasAllMembersJoined()) await this.completeJoin(slot, group);
  }

  /**
   * Ends the join phase: members that did not rejoin are dropped (static members are kept for
   * their session timeout, KIP-345), a new generation starts and is stored, and every parked
   * JoinGroup is answered — the leader with everyone's metadata, followers with none.
   */
  async completeJoin(slot: GroupSlot, group: ConsumerGroup): Promise<void> {
    if (group.state !== 'PreparingRebalance') return;
    slot.timers.clear('join');
    this.initialDelay.delete(group);
    for (const member of group.notYetRejoinedMembers()) {
      if (member.isStatic) continue;
      group.remove(member.memberId);
      this.forgetMemberTimers(slot, member.memberId);
    }
    if (!group.maybeElectNewJoinedLeader() && group.members.size > 0) {
      // Only absent static members remain: wait for them (or for their sessions to expire).
      this.registry.schedule(slot, group, 'join', group.rebalanceTimeoutMs(), () =>
        this.completeJoin(slot, group),
      );
      return;
    }
    group.initNextGeneration();
    // Without members the new generation is Empty; otherwise it is CompletingRebalance.
    const empty = group.members.size === 0;
    await this.registry.persist(slot, group);
    this.logger.info(
      {
        group: group.groupId,
        generation: group.generationId,
        protocol: group.protocolName,
        leader: group.leaderId,
        members: group.members.size,
      },
      empty ? 'group is now empty' : 'group rebalanced; awaiting assignment',
    );
    if (empty) return;
    for (const member of group.members.values()) {
      member.completeJoin(group.joinOutcome(member));
      member.isNew = false;
      this.touch(slot, group, member);
      group.pendingSyncMembers.add(member.memberId);
    }
    this.scheduleSyncExpiry(slot, group);
  }

  /**
   * Removes a member (left, expired or never synced): anything it parked is answered with
   * UNKNOWN_MEMBER_ID and the group rebalances (or, mid-join, may now complete its join phase).
   */
  async removeMemberAndUpdateGroup(
    slot: GroupSlot,
    group: ConsumerGroup,
    member: GroupMember,
    reason: string,
  ): Promise<void> {
    group.remove(member.memberId);
    this.forgetMemberTimers(slot, member.memberId);
    this.logger.info({ group: group.groupId, member: member.memberId, reason }, 'member removed from group');
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') {
      await this.maybePrepareRebalance(slot, group, reason);
    } else if (group.state === 'PreparingRebalance') {
      await this.tryCompleteJoin(slot, group);
    }
  }

  private scheduleInitialJoin(
    slot: GroupSlot,
    group: ConsumerGroup,
    delayMs: number,
    remainingMs: number,
  ): void {
    this.registry.schedule(slot, group, 'join', delayMs, async () => {
      if (group.state !== 'PreparingRebalance') return;
      if (group.newMemberAdded && remainingMs > 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.initialRebalanceDelayMs, remainingMs);
        this.scheduleInitialJoin(slot, group, next, remainingMs - next);
        return;
      }
      group.newMemberAdded = false;
      await this.completeJoin(slot, group);
    });
  }

  /**
   * Members of a new generation must send SyncGroup within the rebalance timeout; those that do
   * not are removed and the group rebalances without them.
   */
  private scheduleSyncExpiry(slot: GroupSlot, group: ConsumerGroup): void {
    const generation = group.generationId;
    this.registry.schedule(slot, group, 'sync', group.rebalanceTimeoutMs(), async () => {
      if (group.generationId !== generation || group.pendingSyncMembers.size === 0) return;
      if (group.state !== 'CompletingRebalance' && group.state !== 'Stable') return;
      const missing = [...group.pendingSyncMembers];
      for (const memberId of missing) {
        group.remove(memberId);
        this.forgetMemberTimers(slot, memberId);
      }
      group.pendingSyncMembers.clear();
      await this.prepareRebalance(slot, group, `members ${missing.join(', ')} did not sync in time`);
    });
  }

  /**
   * The session timer fires at the last known deadline and re-arms itself if the member was heard
   * from since, so a heartbeat only updates `lastSeen`. Members with a parked JoinGroup or
   * SyncGroup are waiting on the coordinator, not silent, and are kept alive.
   */
  private scheduleSession(slot: GroupSlot, group: ConsumerGroup, memberId: string, delayMs: number): void {
    this.registry.schedule(slot, group, `session:${memberId}`, delayMs, async () => {
      const member = group.get(memberId);
      if (!member) return;
      const remaining = member.lastSeen + member.sessionTimeoutMs - this.now();
      if (remaining > 0) return this.scheduleSession(slot, group, memberId, remaining);
      if (member.isAwaitingJoin || member.isAwaitingSync) {
        return this.scheduleSession(slot, group, memberId, member.sessionTimeoutMs);
      }
      await this.removeMemberAndUpdateGroup(slot, group, member, 'session timeout expired');
    });
  }
}
