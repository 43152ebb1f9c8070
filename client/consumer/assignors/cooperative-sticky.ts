import {
  compareMembers,
  compareStrings,
  type GroupAssignment,
  type GroupMember,
  groupPairs,
  type PartitionAssignor,
  type SubscriptionContext,
  subscribedTopics,
} from './assignor.js';

/**
 * The cooperative-sticky assignor (KIP-429), the SDK's default.
 *
 * - Balanced: members with the same subscription get partition counts that differ by at most one;
 *   with differing subscriptions, no partition could move from a member to one it is eligible for
 *   that has two or more fewer.
 * - Sticky: a member keeps as many of the partitions it owned as balance allows. Ownership comes
 *   from each subscription's ownedPartitions; when two members claim a partition the one with the
 *   higher generationId wins (the other's claim is stale), and a tie discards both claims.
 * - Cooperative: a partition that moves from member A to member B is left out of both assignments
 *   in this rebalance. A sees it gone, revokes it and rejoins; the follow-up rebalance gives it to
 *   B. A partition is therefore never owned by two members at once, and partitions that stay put
 *   keep flowing through the rebalance. With identical subscriptions the follow-up rebalance
 *   completes the assignment and only adds; with differing subscriptions the balancing is a
 *   heuristic (fresh-partition chains before moving owned ones) and may take another round.
 */
export class CooperativeStickyAssignor implements PartitionAssignor {
  readonly name = 'cooperative-sticky';
  readonly protocols = 'cooperative' as const;

  /**
   * The generation as an int32, as Kafka's CooperativeStickyAssignor does, for leaders that read
   * subscriptions older than v2 (which carry no generationId field).
   */
  subscriptionUserData(context?: SubscriptionContext): Buffer {
    const buf = Buffer.alloc(4);
    buf.writeInt32BE(context?.generationId ?? -1);
    return buf;
  }

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
    const eager = stickyAssign(members, partitionsPerTopic);
    return withholdTransfers(members, eager);
  }
}

/** The generation a member's owned partitions belong to: the v2+ field, else the int32 userData. */
function generationOf(member: GroupMember): number {
  if (member.generationId >= 0) return member.generationId;
  const data = member.userData;
  if (data && data.length === 4) return data.readInt32BE(0);
  return -1;
}

interface Partition {
  topic: string;
  partition: number;
}

/**
 * The sticky, balanced assignment before the cooperative adjustment: the assignment this
 * rebalance is heading for (what an eager sticky assignor would hand out).
 */
export function stickyAssign(
  members: readonly GroupMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): GroupAssignment {
  const sorted = [...members].sort(compareMembers);
  const subs = sorted.map((m) => new Set(subscribedTopics(m, partitionsPerTopic)));

  // Every partition of every subscribed topic, indexed in (topic, partition) order.
  const topics = [...new Set(subs.flatMap((s) => [...s]))].sort(compareStrings);
  const partitions: Partition[] = [];
  const firstIndex = new Map<string, number>();
  for (const topic of topics) {
    firstIndex.set(topic, partitions.length);
    for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) partitions.push({ topic, partition: p });
  }

  // Valid claims: existing partition of a topic the member still subscribes to; highest generation wins.
  const claimant = new Int32Array(partitions.length).fill(-1);
  const claimGeneration = new Float64Array(partitions.length).fill(-Infinity);
  sorted.forEach((member, m) => {
    const generation = generationOf(member);
    for (const { topic, partitions: owned } of member.ownedPartitions) {
      const first = firstIndex.get(topic);
      if (first === undefined || !subs[m]!.has(topic)) continue;
      const count = partitionsPerTopic.get(topic)!;
      for (const p of new Set(owned)) {
        if (!Number.isInteger(p) || p < 0 || p >= count) continue;
        const i = first + p;
        if (generation > claimGeneration[i]!) {
          claimGeneration[i] = generation;
          claimant[i] = m;
        } else if (generation === claimGeneration[i]! && claimant[i] !== m) {
          claimant[i] = -1; // two members claim it in one generation: trust neither
        }
      }
    }
  });
  const owned: number[][] = sorted.map(() => []);
  claimant.forEach((m, i) => {
    if (m >= 0) owned[m]!.push(i);
  });

  const assigned = allSubscriptionsEqual(subs)
    ? assignWithQuotas(owned, partitions.length)
    : assignGeneral(owned, partitions, subs);

  const result: GroupAssignment = new Map(members.map((m) => [m.memberId, []]));
  sorted.forEach((member, m) => {
    result.set(
      member.memberId,
      groupPairs(assigned[m]!.map((i) => [partitions[i]!.topic, partitions[i]!.partition] as const)),
    );
  });
  return result;
}

function allSubscriptionsEqual(subs: readonly Set<string>[]): boolean {
  const first = subs[0];
  if (!first) return true;
  return subs.every((s) => s.size === first.size && [...s].every((t) => first.has(t)));
}

/**
 * Identical subscriptions: every member gets `floor(n/m)` or `ceil(n/m)` partitions, exactly
 * `n % m` of them the larger count. Members keep owned partitions up to their quota first.
 */
function assignWithQuotas(owned: readonly number[][], total: number): number[][] {
  const count = owned.length;
  if (count === 0) return [];
  const min = Math.floor(total / count);
  const max = Math.ceil(total / count);
  let maxSlots = total % count;
  const taken = new Uint8Array(total);
  const result = owned.map((list) => {
    let keep = Math.min(list.length, min);
    if (max > min && list.length >= max && maxSlots > 0) {
      keep = max;
      maxSlots--;
    }
    const kept = [...list].sort((a, b) => a - b).slice(0, keep);
    for (const i of kept) taken[i] = 1;
    return kept;
  });
  const free: number[] = [];
  for (let i = 0; i < total; i++) if (!taken[i]) free.push(i);
  let next = 0;
  for (const list of result) while (list.length < min) list.push(free[next++]!);
  for (const list of result) {
    if (maxSlots === 0) break;
    if (list.length === min && next < free.length) {
      list.push(free[next++]!);
      maxSlots--;
    }
  }
  return result;
}

/**
 * Differing subscriptions: keep every valid owned partition, give each unowned one (most
 * constrained first) to the least-loaded eligible member, then move partitions from members to
 * eligible members with at least two fewer until no such move exists. Moves prefer partitions
 * nobody owned (they cost no revocation). Each move lowers the sum of squared counts, so it ends.
 */
function assignGeneral(
  owned: readonly number[][],
  partitions: readonly Partition[],
  subs: readonly Set<string>[],
): number[][] {
  const memberCount = owned.length;
  const eligible = new Map<string, number[]>();
  subs.forEach((s, m) => {
    for (const t of s) {
      const list = eligible.get(t) ?? [];
      eligible.set(t, list);
      list.push(m);
    }
  });
  const owner = new Int32Array(partitions.length).fill(-1);
  const wasOwned = new Uint8Array(partitions.length);
  const counts = new Int32Array(memberCount);
  owned.forEach((list, m) => {
    for (const i of list) {
      owner[i] = m;
      wasOwned[i] = 1;
      counts[m]!++;
    }
  });

  const leastLoaded = (candidates: readonly number[]): number => {
    let best = candidates[0]!;
    for (const m of candidates) if (counts[m]! < counts[best]!) best = m;
    return best;
  };

  const unowned: number[] = [];
  for (let i = 0; i < partitions.length; i++) if (owner[i] === -1) unowned.push(i);
  unowned.sort(
    (a, b) =>
      eligible.get(partitions[a]!.topic)!.length - eligible.get(partitions[b]!.topic)!.length || a - b,
  );
  for (const i of unowned) {
    const m = leastLoaded(eligible.get(partitions[i]!.topic)!);
    owner[i] = m;
    counts[m]!++;
  }

  repairWithFreshMoves(owner, wasOwned, counts, partitions, eligible);

  // Fresh partitions first, then owned ones; within each, highest index first (keeps low ones put).
  const order = [...partitions.keys()].sort((a, b) => wasOwned[a]! - wasOwned[b]! || b - a);
  for (;;) {
    let moved = false;
    for (const i of order) {
      const from = owner[i]!;
      const to = leastLoaded(eligible.get(partitions[i]!.topic)!);
      if (counts[from]! - counts[to]! >= 2) {
        owner[i] = to;
        counts[from]!--;
        counts[to]!++;
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }

  const result: number[][] = owned.map(() => []);
  owner.forEach((m, i) => {
    result[m]!.push(i);
  });
  return result;
}

/**
 * The cooperative adjustment: a partition added to one member's assignment while it is revoked
 * from another member (it was in that member's ownedPartitions) is left out for now.
 */
export function withholdTransfers(members: readonly GroupMember[], target: GroupAssignment): GroupAssignment {
  const key = (topic: string, partition: number) => `${partition}:${topic}`;
  const ownedBy = new Map<string, Set<string>>();
  for (const member of members) {
    const set = new Set<string>();
    for (const { topic, partitions } of member.ownedPartitions)
      for (const p of partitions) set.add(key(topic, p));
    ownedBy.set(member.memberId, set);
  }
  const revoked = new Set<string>();
  for (const member of members) {
    const assigned = new Set<string>();
    for (const { topic, partitions } of target.get(member.memberId) ?? [])
      for (const p of partitions) assigned.add(key(topic, p));
    for (const k of ownedBy.get(member.memberId)!) if (!assigned.has(k)) revoked.add(k);
  }
  const result: GroupAssignment = new Map();
  for (const [memberId, list] of target) {
    const own = ownedBy.get(memberId) ?? new Set<string>();
    result.set(
      memberId,
      list
        .map(({ topic, partitions }) => ({
          topic,
          partitions: partitions.filter((p) => own.has(key(topic, p)) || !revoked.has(key(topic, p))),
        }))
        .filter(({ partitions }) => partitions.length > 0),
    );
  }
  return result;
}

/**
 * Fixes imbalance by moving only partitions nobody owned, along chains (member u hands a fresh
 * partition to v, v one to w, ...), so that owned partitions move only when nothing else helps. A
 * member is unbalanced when it holds a partition some eligible member with two fewer could take.
 * Chains that end at a member with two fewer lower the sum of squared counts; chains ending at one
 * with one fewer (sideways) are kept only when they leave the receiving member balanced.
 */
function repairWithFreshMoves(
  owner: Int32Array,
  wasOwned: Uint8Array,
  counts: Int32Array,
  partitions: readonly Partition[],
  eligible: ReadonlyMap<string, readonly number[]>,
): void {
  const memberCount = counts.length;
  const held: Set<number>[] = Array.from({ length: memberCount }, () => new Set());
  owner.forEach((m, i) => {
    held[m]!.add(i);
  });
  const move = (i: number, to: number) => {
    const from = owner[i]!;
    held[from]!.delete(i);
    counts[from]!--;
    held[to]!.add(i);
    counts[to]!++;
    owner[i] = to;
  };
  const unbalanced = (m: number): boolean => {
    const seen = new Set<string>();
    for (const i of held[m]!) {
      const topic = partitions[i]!.topic;
      if (seen.has(topic)) continue;
      seen.add(topic);
      for (const other of eligible.get(topic)!) if (counts[other]! <= counts[m]! - 2) return true;
    }
    return false;
  };
  /**
   * Breadth-first over fresh moves from `start`; applies the chain to the first member `accept`
   * takes and returns it (as partition, previous owner) for undoing, or null when there is none.
   */
  const chain = (start: number, accept: (m: number) => boolean): { i: number; from: number }[] | null => {
    const parent = new Map<number, { from: number; partition: number }>();
    const queue = [start];
    const visited = new Set([start]);
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]!;
      for (const i of held[u]!) {
        if (wasOwned[i]) continue;
        for (const v of eligible.get(partitions[i]!.topic)!) {
          if (visited.has(v)) continue;
          visited.add(v);
          parent.set(v, { from: u, partition: i });
          if (!accept(v)) {
            queue.push(v);
            continue;
          }
          const hops: { i: number; from: number; to: number }[] = [];
          for (let w = v; w !== start; w = parent.get(w)!.from) {
            const { from, partition } = parent.get(w)!;
            hops.push({ i: partition, from, to: w });
          }
          for (const hop of hops) move(hop.i, hop.to);
          return hops;
        }
      }
    }
    return null;
  };
  const limit = 4 * partitions.length + 16;
  for (let round = 0; round < limit; round++) {
    const candidates = [...counts.keys()].filter(unbalanced).sort((a, b) => counts[b]! - counts[a]! || a - b);
    let progressed = false;
    for (const h of candidates) {
      const c = counts[h]!;
      if (chain(h, (m) => counts[m]! <= c - 2)) {
        progressed = true;
        break;
      }
      let receiver = -1;
      const sideways = chain(h, (m) => {
        receiver = m;
        return counts[m]! === c - 1;
      });
      if (sideways) {
        if (!unbalanced(receiver)) {
          progressed = true;
          break;
        }
        for (const hop of sideways) move(hop.i, hop.from);
      }
    }
    if (!progressed) return;
  }
}
