import {
  ASSIGNMENT_MAX_VERSION,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  SUBSCRIPTION_MAX_VERSION,
} from '../../../protocol/messages/consumer-protocol.js';

/**
 * Client-side partition assignment for the classic consumer-group protocol. The group leader
 * decodes every member's subscription (JoinGroup metadata), runs the assignor the group agreed on,
 * and encodes each member's assignment for SyncGroup. Assignors are pure: no I/O, deterministic.
 */

/** How members give partitions up: all at once before rejoining (eager) or only those moving (KIP-429). */
export type RebalanceProtocol = 'eager' | 'cooperative';

/** Partitions of one topic. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** One group member as the leader sees it: its subscription, decoded. */
export interface GroupMember {
  memberId: string;
  /** Static membership (KIP-345): sorts ahead of memberId where the assignor orders members. */
  groupInstanceId?: string | null;
  /** Subscribed topics. Topics absent from `partitionsPerTopic` (unknown to metadata) are ignored. */
  topics: string[];
  /** What the member owned when it joined (subscription v1+; empty for older members). */
  ownedPartitions: TopicPartitions[];
  /** The generation in which it owned them (subscription v2+); -1 when unknown. */
  generationId: number;
  /** The assignor-specific bytes from `subscriptionUserData`. */
  userData?: Buffer | null;
  rackId?: string | null;
}

/** memberId → the member's partitions (every member present, possibly with nothing). */
export type GroupAssignment = Map<string, TopicPartitions[]>;

/** What a member knows about itself when it builds its subscription. */
export interface SubscriptionContext {
  topics: readonly string[];
  ownedPartitions: readonly TopicPartitions[];
  generationId: number;
}

export interface PartitionAssignor {
  /** The protocol name sent in JoinGroup, e.g. 'range', 'roundrobin', 'cooperative-sticky'. */
  readonly name: string;
  /** The rebalance protocol the assignor is safe for. */
  readonly protocols: RebalanceProtocol;
  /** Assignor-specific bytes for the subscription's userData. */
  subscriptionUserData?(context?: SubscriptionContext): Buffer | null;
  /**
   * Assigns the partitions of `partitionsPerTopic` (topic → partition count) to `members`. The
   * result has an entry for every member, topics sorted by name and partitions ascending.
   */
  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment;
}

// ---------------------------------------------------------------- helpers shared by the assignors

/** Kafka's member order: static members first (by groupInstanceId), then by memberId; code-unit order. */
export function compareMembers(a: GroupMember, b: GroupMember): number {
  const ai = a.groupInstanceId ?? null;
  const bi = b.groupInstanceId ?? null;
  if (ai !== null && bi !== null) return compareStrings(ai, bi) || compareStrings(a.memberId, b.memberId);
  if (ai !== null) return -1;
  if (bi !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** UTF-16 code-unit order, as Java's String.compareTo (not locale-dependent). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Merges duplicate topics, removes duplicate partitions, sorts topics by name and partitions ascending. */
export function normalizePartitions(list: Iterable<TopicPartitions>): TopicPartitions[] {
  const byTopic = new Map<string, Set<number>>();
  for (const { topic, partitions } of list) {
    const set = byTopic.get(topic) ?? new Set<number>();
    byTopic.set(topic, set);
    for (const p of partitions) set.add(p);
  }
  return [...byTopic.keys()]
    .sort(compareStrings)
    .map((topic) => ({ topic, partitions: [...byTopic.get(topic)!].sort((a, b) => a - b) }));
}

/** Collects (topic, partition) pairs into normalized TopicPartitions. */
export function groupPairs(pairs: Iterable<readonly [string, number]>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const [topic, partition] of pairs) {
    const list = byTopic.get(topic) ?? [];
    byTopic.set(topic, list);
    list.push(partition);
  }
  return normalizePartitions([...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
}

/** Topics `member` subscribes to that exist in `partitionsPerTopic`, sorted, without duplicates. */
export function subscribedTopics(
  member: GroupMember,
  partitionsPerTopic: ReadonlyMap<string, number>,
): string[] {
  return [...new Set(member.topics)].filter((t) => (partitionsPerTopic.get(t) ?? 0) > 0).sort(compareStrings);
}

// ---------------------------------------------------------------- consumer-protocol bytes

/** The fields a member puts in its JoinGroup metadata. */
export interface MemberSubscription {
  topics: readonly string[];
  ownedPartitions?: readonly TopicPartitions[];
  generationId?: number;
  userData?: Buffer | null;
  rackId?: string | null;
}

/** JoinGroup protocol metadata: a ConsumerProtocolSubscription (v3 unless told). */
export function encodeMemberSubscription(
  subscription: MemberSubscription,
  version: number = SUBSCRIPTION_MAX_VERSION,
): Buffer {
  return encodeSubscription(
    {
      topics: [...subscription.topics],
      userData: subscription.userData ?? null,
      ownedPartitions: normalizePartitions(subscription.ownedPartitions ?? []),
      generationId: subscription.generationId ?? -1,
      rackId: subscription.rackId ?? null,
    },
    version,
  );
}

/**
 * A JoinGroup member's metadata as a GroupMember. Fields newer than the sender's version take
 * their defaults (no owned partitions, generation -1).
 */
export function decodeMemberSubscription(
  memberId: string,
  groupInstanceId: string | null | undefined,
  metadata: Buffer,
): GroupMember {
  const { value } = decodeSubscription(metadata);
  return {
    memberId,
    groupInstanceId: groupInstanceId ?? null,
    topics: value.topics,
    ownedPartitions: normalizePartitions(value.ownedPartitions),
    generationId: value.generationId,
    userData: value.userData,
    rackId: value.rackId,
  };
}

/** SyncGroup assignment bytes: a ConsumerProtocolAssignment. */
export function encodeMemberAssignment(
  partitions: readonly TopicPartitions[],
  userData: Buffer | null = null,
  version: number = ASSIGNMENT_MAX_VERSION,
): Buffer {
  return encodeAssignment({ assignedPartitions: normalizePartitions(partitions), userData }, version);
}

export interface MemberAssignment {
  partitions: TopicPartitions[];
  userData: Buffer | null;
}

/** SyncGroup assignment bytes; an empty buffer (the coordinator's "nothing for you") is no partitions. */
export function decodeMemberAssignment(bytes: Buffer): MemberAssignment {
  if (bytes.length === 0) return { partitions: [], userData: null };
  const { value } = decodeAssignment(bytes);
  return { partitions: normalizePartitions(value.assignedPartitions), userData: value.userData };
}

/** A JoinGroup response member: its id, static id and protocol metadata. */
export interface JoinedMember {
  memberId: string;
  groupInstanceId?: string | null;
  metadata: Buffer;
}

/**
 * The leader's whole job between JoinGroup and SyncGroup: decode every member's subscription,
 * run `assignor`, encode each member's assignment.
 */
export function performAssignment(
  assignor: PartitionAssignor,
  members: readonly JoinedMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): { memberId: string; assignment: Buffer }[] {
  const decoded = members.map((m) => decodeMemberSubscription(m.memberId, m.groupInstanceId, m.metadata));
  const result = assignor.assign(decoded, partitionsPerTopic);
  return decoded.map(({ memberId }) => ({
    memberId,
    assignment: encodeMemberAssignment(result.get(memberId) ?? []),
  }));
}
