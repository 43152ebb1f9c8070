import { ErrorCode } from '../../protocol/error-codes.js';
import { GroupMember, type JoinOutcome, joinError, type SyncOutcome, syncError } from './group-member.js';
import type {
  LoadedGroup,
  StoredGroup,
  StoredGroupState,
  StoredOffset,
  StoredProtocol,
} from './group-store.js';

/** Kafka's classic group states, named as DescribeGroups and ListGroups report them. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** The states each state may be entered from (Kafka's GroupState.validPreviousStates). */
const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
};

/** A bug, not a client error: the group's state machine was driven somewhere it cannot go. */
export class IllegalGroupStateError extends Error {
  override name = 'IllegalGroupStateError';
}

export interface MemberSummary {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupSummary {
  groupId: string;
  state: GroupState;
  protocolType: string;
  /** The chosen protocol while Stable, else empty (as Kafka reports it). */
  protocolData: string;
  members: MemberSummary[];
}

/**
 * State and membership of one classic group, with no I/O and no timers: the coordinator drives
 * it and persists it. Invariants:
 * - `staticMembers` maps every static member's instance id to its current member id, and nothing else;
 * - `leaderId` is a member id of `members`, or null exactly when there are no members;
 * - Empty ⇔ no members once a generation has completed (PreparingRebalance may briefly have none);
 * - `pendingMembers` are ids handed out with MEMBER_ID_REQUIRED and not yet used to join;
 * - `pendingSyncMembers` are members of the current generation that have not sent SyncGroup yet.
 */
export class ConsumerGroup {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Insertion-ordered, so "the first member" is well defined. */
  readonly members = new Map<string, GroupMember>();
  readonly pendingMembers = new Set<string>();
  readonly pendingSyncMembers = new Set<string>();
  /** Committed offsets by topic, then partition. */
  readonly offsets = new Map<string, Map<number, StoredOffset>>();
  /** Version of the stored group item; undefined while none is stored. */
  storedVersion: number | undefined;
  /** A new member joined during the initial rebalance delay, which may therefore be extended. */
  newMemberAdded = false;
  private readonly staticMembers = new Map<string, string>();

  constructor(readonly groupId: string) {}

  /** A group as stored: same generation, members and assignments; sessions restart at `now`. */
  static fromStored(groupId: string, loaded: LoadedGroup, now: number): ConsumerGroup {
    const group = new ConsumerGroup(groupId);
    for (const offset of loaded.offsets) group.putOffset(offset);
    if (!loaded.group) return group;
    const { record, version } = loaded.group;
    group.state = record.state;
    group.generationId = record.generationId;
    group.protocolType = record.protocolType;
    group.protocolName = record.protocolName;
    group.storedVersion = version;
    for (const stored of record.members) group.add(new GroupMember(stored, now));
    if (record.leaderId !== null && group.members.has(record.leaderId)) group.leaderId = record.leaderId;
    if (group.state === 'CompletingRebalance') {
      for (const id of group.members.keys()) group.pendingSyncMembers.add(id);
    }
    return group;
  }

  /** Nothing in memory or in storage: the group does not exist. */
  get isVacant(): boolean {
    return (
      this.state === 'Empty' &&
      this.members.size === 0 &&
      this.pendingMembers.size === 0 &&
      this.offsets.size === 0 &&
      this.storedVersion === undefined
    );
  }

  transitionTo(next: GroupState): void {
    if (!VALID_PREVIOUS[next].includes(this.state)) {
      throw new IllegalGroupStateError(`group ${this.groupId}: cannot go from ${this.state} to ${next}`);
    }
    this.state = next;
  }

  canRebalance(): boolean {
    return this.state === 'Stable' || this.state === 'CompletingRebalance' || this.state === 'Empty';
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /**
   * Kafka's validateMember: UNKNOWN_MEMBER_ID for an unknown member or instance id,
   * FENCED_INSTANCE_ID when the instance id now belongs to another member id.
   */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /**
   * Whether a member with these protocols may (re)join: a first member needs a protocol type and
   * at least one protocol; later ones need the group's protocol type and a protocol that every
   * other member supports.
   */
  supportsProtocols(protocolType: string, protocols: readonly string[], memberId: string): boolean {
    const others = [...this.members.values()].filter((m) => m.memberId !== memberId);
    if (others.length === 0) return protocolType !== '' && protocols.length > 0;
    return (
      protocolType === this.protocolType && protocols.some((name) => others.every((m) => m.supports(name)))
    );
  }

  /** The protocol every member supports that most members prefer (ties go to the earliest vote). */
  selectProtocol(): string {
    const all = [...this.members.values()];
    const candidates = new Set(
      all[0]?.protocols.map((p) => p.name).filter((n) => all.every((m) => m.supports(n))),
    );
    const votes = new Map<string, number>();
    for (const member of all) {
      const vote = member.vote(candidates);
      if (vote !== undefined) votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [name, count] of votes) if (best === undefined || count > votes.get(best)!) best = name;
    if (best === undefined) throw new IllegalGroupStateError(`group ${this.groupId}: no common protocol`);
    return best;
  }

  /** The longest rebalance timeout of any member: how long a rebalance waits for rejoins. */
  rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const m of this.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    return timeout;
  }

  /** Adds a member; the first member of an empty group sets the group's protocol type. */
  add(member: GroupMember, protocolType: string | null = this.protocolType): void {
    if (this.members.size === 0) this.protocolType = protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.pendingMembers.delete(member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  /** Removes a member, answering anything it has parked with UNKNOWN_MEMBER_ID. */
  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    member.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    member.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  /**
   * A static member came back under a new member id (KIP-345). The old id is fenced: anything it
   * has parked is answered with FENCED_INSTANCE_ID. The member keeps its assignment and, if it
   * led the group, the leadership.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    if (!member)
      throw new IllegalGroupStateError(`static member ${groupInstanceId} has no member ${oldMemberId}`);
    member.completeJoin(joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    member.completeSync(syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    return member;
  }

  /** New protocols and timeouts from a rejoin. */
  updateMember(
    member: GroupMember,
    protocols: StoredProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
  ) {
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
  }

  hasAllMembersJoined(): boolean {
    return this.pendingMembers.size === 0 && [...this.members.values()].every((m) => m.isAwaitingJoin);
  }

  notYetRejoinedMembers(): GroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /**
   * Before completing a join: if the leader did not rejoin, hand leadership to a member that did.
   * False when no member rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    if (this.members.get(this.leaderId)?.isAwaitingJoin) return true;
    const joined = [...this.members.values()].find((m) => m.isAwaitingJoin);
    if (!joined) return false;
    this.leaderId = joined.memberId;
    return true;
  }

  /** Completes the join phase: a new generation, CompletingRebalance (or Empty without members). */
  initNextGeneration(): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance');
    } else {
      this.protocolName = null;
      this.transitionTo('Empty');
    }
  }

  /** What the leader assigns from: every member's metadata for the chosen protocol. */
  currentMemberMetadata(): JoinOutcome['members'] {
    const protocol = this.protocolName ?? '';
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol),
    }));
  }

  /** The current generation as a JoinGroup response for `member`. */
  joinOutcome(member: GroupMember, overrides: Partial<JoinOutcome> = {}): JoinOutcome {
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leaderId: this.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: this.isLeader(member.memberId) ? this.currentMemberMetadata() : [],
      ...overrides,
    };
  }

  syncOutcome(member: GroupMember): SyncOutcome {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      assignment: member.assignment,
    };
  }

  /** Answers every parked SyncGroup with `errorCode` and forgets the assignments (a new rebalance began). */
  resetAndPropagateAssignmentError(errorCode: number): void {
    for (const member of this.members.values()) {
      member.assignment = Buffer.alloc(0);
      member.completeSync(syncError(errorCode));
    }
  }

  /** Answers everything parked in this group with `errorCode` (coordinator shutdown or unload). */
  failAllWaiters(errorCode: number): void {
    for (const member of this.members.values()) {
      member.completeJoin(joinError(errorCode, member.memberId));
      member.completeSync(syncError(errorCode));
    }
  }

  /**
   * Kafka's validateOffsetCommit. Generation -1 with no member id is a simple consumer (or admin)
   * and may commit only while the group is Empty; anything else must be a current member of the
   * current generation, and not mid-way through a rebalance's sync phase.
   */
  validateOffsetCommit(generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (this.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && this.state === 'Empty') return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const memberError = this.validateMember(memberId, groupInstanceId);
      if (memberError !== ErrorCode.NONE) return memberError;
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (this.state !== 'Empty') {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    return this.state === 'CompletingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  putOffset(offset: StoredOffset): void {
    let partitions = this.offsets.get(offset.topic);
    if (!partitions) {
      partitions = new Map();
      this.offsets.set(offset.topic, partitions);
    }
    partitions.set(offset.partition, offset);
  }

  offset(topic: string, partition: number): StoredOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  /** The group as stored. Only called in a storable state (never PreparingRebalance or Dead). */
  toStored(): StoredGroup {
    if (this.state === 'PreparingRebalance' || this.state === 'Dead') {
      throw new IllegalGroupStateError(`group ${this.groupId}: ${this.state} is not stored`);
    }
    return {
      groupId: this.groupId,
      state: this.state satisfies StoredGroupState,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
      members: [...this.members.values()].map((m) => m.toStored()),
    };
  }

  summary(): GroupSummary {
    const stable = this.state === 'Stable';
    const protocol = this.protocolName ?? '';
    return {
      groupId: this.groupId,
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocolData: stable ? protocol : '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadata(protocol) : Buffer.alloc(0),
        assignment: stable ? m.assignment : Buffer.alloc(0),
      })),
    };
  }
}
