import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMemberAssignment,
  decodeMemberSubscription,
  encodeMemberAssignment,
  encodeMemberSubscription,
  type GroupAssignment,
  type GroupMember,
  type PartitionAssignor,
  performAssignment,
  type TopicPartitions,
} from '../../../client/consumer/assignors/assignor.js';
import {
  CooperativeStickyAssignor,
  stickyAssign,
} from '../../../client/consumer/assignors/cooperative-sticky.js';
import { RangeAssignor } from '../../../client/consumer/assignors/range.js';
import { RoundRobinAssignor } from '../../../client/consumer/assignors/round-robin.js';
import { encodeSubscription } from '../../../protocol/messages/consumer-protocol.js';

// ---------------------------------------------------------------- helpers

function member(memberId: string, topics: string[], extra: Partial<GroupMember> = {}): GroupMember {
  return { memberId, topics, ownedPartitions: [], generationId: -1, ...extra };
}

function tps(spec: Record<string, number[]>): TopicPartitions[] {
  return Object.entries(spec).map(([topic, partitions]) => ({ topic, partitions }));
}

/** memberId → { topic → partitions } for readable expectations. */
function plain(assignment: GroupAssignment): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [id, list] of assignment) {
    out[id] = {};
    for (const { topic, partitions } of list) out[id][topic] = partitions;
  }
  return out;
}

const key = (topic: string, p: number) => `${p}:${topic}`;

function pairs(list: readonly TopicPartitions[] | undefined): Set<string> {
  const set = new Set<string>();
  for (const { topic, partitions } of list ?? []) for (const p of partitions) set.add(key(topic, p));
  return set;
}

function count(list: readonly TopicPartitions[] | undefined): number {
  return (list ?? []).reduce((n, { partitions }) => n + partitions.length, 0);
}

/** Every partition of every topic some member subscribes to (and that exists). */
function expectedPartitions(
  members: readonly GroupMember[],
  partitionsPerTopic: Map<string, number>,
): Set<string> {
  const set = new Set<string>();
  for (const m of members)
    for (const t of m.topics) for (let p = 0; p < (partitionsPerTopic.get(t) ?? 0); p++) set.add(key(t, p));
  return set;
}

/** At most once, only subscribed topics, only existing partitions; returns the assigned set. */
function checkValid(
  members: readonly GroupMember[],
  partitionsPerTopic: Map<string, number>,
  assignment: GroupAssignment,
): Set<string> {
  expect([...assignment.keys()].sort()).toEqual(members.map((m) => m.memberId).sort());
  const seen = new Set<string>();
  for (const m of members) {
    for (const { topic, partitions } of assignment.get(m.memberId)!) {
      expect(m.topics).toContain(topic);
      for (const p of partitions) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(partitionsPerTopic.get(topic)!);
        expect(seen.has(key(topic, p))).toBe(false);
        seen.add(key(topic, p));
      }
    }
  }
  return seen;
}

/** Counts differ by at most one among members with the same subscription. */
function checkBalancedPerSubscription(members: readonly GroupMember[], assignment: GroupAssignment): void {
  const groups = new Map<string, number[]>();
  for (const m of members) {
    const sub = [...new Set(m.topics)].sort().join('\u0000');
    groups.set(sub, [...(groups.get(sub) ?? []), count(assignment.get(m.memberId))]);
  }
  for (const counts of groups.values())
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
}

/** Kafka's general balance: no partition could move to an eligible member with two or more fewer. */
function checkNoImprovingMove(members: readonly GroupMember[], assignment: GroupAssignment): void {
  for (const a of members) {
    for (const b of members) {
      if (count(assignment.get(a.memberId)) - count(assignment.get(b.memberId)) < 2) continue;
      for (const { topic } of assignment.get(a.memberId)!) expect(b.topics).not.toContain(topic);
    }
  }
}

/** Members after a rebalance: each owns exactly what it was assigned, in the next generation. */
function afterRebalance(members: readonly GroupMember[], assignment: GroupAssignment, generation: number) {
  return members.map((m) => ({
    ...m,
    ownedPartitions: assignment.get(m.memberId)!,
    generationId: generation,
  }));
}

/** No partition is handed to a member in the same rebalance in which another member loses it. */
function checkCooperative(members: readonly GroupMember[], assignment: GroupAssignment): void {
  const revoked = new Set<string>();
  for (const m of members) {
    const assigned = pairs(assignment.get(m.memberId));
    for (const k of pairs(m.ownedPartitions)) if (!assigned.has(k)) revoked.add(k);
  }
  for (const m of members) {
    const owned = pairs(m.ownedPartitions);
    for (const k of pairs(assignment.get(m.memberId))) if (!owned.has(k)) expect(revoked.has(k)).toBe(false);
  }
}

// ---------------------------------------------------------------- arbitraries

const TOPICS = ['a', 'b', 'c', 'd'];

/** A group: 1..8 members, subscriptions over up to 4 topics (plus one that does not exist). */
const groupArb = (equalSubscriptions: boolean) =>
  fc
    .record({
      counts: fc.tuple(...TOPICS.map(() => fc.integer({ min: 0, max: 12 }))),
      shared: fc.subarray([...TOPICS, 'missing'], { minLength: 1 }),
      subs: fc.array(fc.subarray([...TOPICS, 'missing'], { minLength: 1 }), { minLength: 1, maxLength: 8 }),
      statics: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      memberIds: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 8, maxLength: 8 }),
    })
    .map(({ counts, shared, subs, statics, memberIds }) => {
      const partitionsPerTopic = new Map(TOPICS.map((t, i) => [t, counts[i]!]));
      const members = subs.map((sub, i) =>
        member(memberIds[i]!, equalSubscriptions ? [...shared] : sub, {
          groupInstanceId: statics[i] ? `static-${memberIds[i]}` : null,
        }),
      );
      return { members, partitionsPerTopic };
    });

/** A previous assignment claimed by members: random ownership with stale and duplicate claims. */
const ownershipArb = fc.array(
  fc.record({
    member: fc.nat(7),
    topic: fc.constantFrom(...TOPICS, 'missing'),
    partition: fc.integer({ min: 0, max: 14 }),
    generation: fc.integer({ min: 1, max: 4 }),
  }),
  { maxLength: 40 },
);

function withOwnership(members: GroupMember[], claims: Claim[]): GroupMember[] {
  return members.map((m, i) => {
    const mine = claims.filter((c) => c.member % members.length === i);
    return {
      ...m,
      generationId: mine.length > 0 ? Math.max(...mine.map((c) => c.generation)) : -1,
      ownedPartitions: tps(
        mine.reduce<Record<string, number[]>>((acc, c) => {
          acc[c.topic] = [...(acc[c.topic] ?? []), c.partition];
          return acc;
        }, {}),
      ),
    };
  });
}
interface Claim {
  member: number;
  topic: string;
  partition: number;
  generation: number;
}

// ---------------------------------------------------------------- range

describe('RangeAssignor', () => {
  const range = new RangeAssignor();

  it('names the protocol and rebalances eagerly', () => {
    expect(range.name).toBe('range');
    expect(range.protocols).toBe('eager');
  });

  it('gives contiguous ranges per topic, the first members one extra', () => {
    const members = [member('c2', ['t1', 't2']), member('c0', ['t1', 't2']), member('c1', ['t1', 't2'])];
    const result = range.assign(
      members,
      new Map([
        ['t1', 7],
        ['t2', 3],
      ]),
    );
    expect(plain(result)).toEqual({
      c0: { t1: [0, 1, 2], t2: [0] },
      c1: { t1: [3, 4], t2: [1] },
      c2: { t1: [5, 6], t2: [2] },
    });
  });

  it('orders static members by groupInstanceId ahead of dynamic ones, and skips unknown topics', () => {
    const members = [
      member('a', ['t', 'ghost']),
      member('z', ['t'], { groupInstanceId: 'i2' }),
      member('y', ['t'], { groupInstanceId: 'i1' }),
    ];
    expect(plain(range.assign(members, new Map([['t', 4]])))).toEqual({
      y: { t: [0, 1] },
      z: { t: [2] },
      a: { t: [3] },
    });
  });

  it('ranges each topic over its own subscribers only', () => {
    const members = [member('m1', ['t1']), member('m2', ['t1', 't2']), member('m3', ['t2'])];
    expect(
      plain(
        range.assign(
          members,
          new Map([
            ['t1', 3],
            ['t2', 2],
          ]),
        ),
      ),
    ).toEqual({ m1: { t1: [0, 1] }, m2: { t1: [2], t2: [0] }, m3: { t2: [1] } });
  });
});

// ---------------------------------------------------------------- round robin

describe('RoundRobinAssignor', () => {
  const rr = new RoundRobinAssignor();

  it('names the protocol and rebalances eagerly', () => {
    expect(rr.name).toBe('roundrobin');
    expect(rr.protocols).toBe('eager');
  });

  it('deals sorted partitions to sorted members in turn', () => {
    const members = [member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])];
    const result = rr.assign(
      members,
      new Map([
        ['t1', 3],
        ['t0', 3],
      ]),
    );
    expect(plain(result)).toEqual({ c0: { t0: [0, 2], t1: [1] }, c1: { t0: [1], t1: [0, 2] } });
  });

  it("skips members not subscribed to a partition's topic (Kafka's documented example)", () => {
    // C0: t0; C1: t0, t1; C2: t0, t1, t2 — t0 has 1 partition, t1 2, t2 3.
    const members = [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])];
    const result = rr.assign(
      members,
      new Map([
        ['t0', 1],
        ['t1', 2],
        ['t2', 3],
      ]),
    );
    expect(plain(result)).toEqual({
      C0: { t0: [0] },
      C1: { t1: [0] },
      C2: { t1: [1], t2: [0, 1, 2] },
    });
  });
});

// ---------------------------------------------------------------- cooperative sticky

describe('CooperativeStickyAssignor', () => {
  const sticky = new CooperativeStickyAssignor();
  const six = new Map([['t', 6]]);

  it('names the protocol and rebalances cooperatively', () => {
    expect(sticky.name).toBe('cooperative-sticky');
    expect(sticky.protocols).toBe('cooperative');
    expect(sticky.subscriptionUserData({ topics: [], ownedPartitions: [], generationId: 7 })).toEqual(
      Buffer.from([0, 0, 0, 7]),
    );
  });

  it('balances a fresh group', () => {
    const result = sticky.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], six);
    expect([...result.values()].map(count)).toEqual([2, 2, 2]);
  });

  it('keeps owned partitions and only revokes, then hands over in the follow-up rebalance', () => {
    const a = member('a', ['t'], { ownedPartitions: tps({ t: [0, 1, 2] }), generationId: 3 });
    const b = member('b', ['t'], { ownedPartitions: tps({ t: [3, 4, 5] }), generationId: 3 });
    const c = member('c', ['t'], { generationId: -1 });
    const first = sticky.assign([a, b, c], six);
    // a and b each give one up, but c does not get them yet.
    expect(plain(first)).toEqual({ a: { t: [0, 1] }, b: { t: [3, 4] }, c: {} });
    const second = sticky.assign(afterRebalance([a, b, c], first, 4), six);
    expect(plain(second)).toEqual({ a: { t: [0, 1] }, b: { t: [3, 4] }, c: { t: [2, 5] } });
    // Stable from here on.
    expect(plain(sticky.assign(afterRebalance([a, b, c], second, 5), six))).toEqual(plain(second));
  });

  it('gives the partitions of a departed member out at once (nobody has to revoke them)', () => {
    const a = member('a', ['t'], { ownedPartitions: tps({ t: [0, 1] }), generationId: 5 });
    const b = member('b', ['t'], { ownedPartitions: tps({ t: [2, 3] }), generationId: 5 });
    // c owned 4 and 5 and left.
    expect(plain(sticky.assign([a, b], six))).toEqual({ a: { t: [0, 1, 4] }, b: { t: [2, 3, 5] } });
  });

  it('resolves double claims by generation: the stale claimant loses', () => {
    const a = member('a', ['t'], { ownedPartitions: tps({ t: [0, 1, 2] }), generationId: 2 });
    const b = member('b', ['t'], { ownedPartitions: tps({ t: [2, 3] }), generationId: 4 });
    const result = stickyAssign([a, b], new Map([['t', 4]]));
    expect(plain(result)).toEqual({ a: { t: [0, 1] }, b: { t: [2, 3] } });
    // The cooperative result is the same: a drops 2, which b keeps.
    expect(plain(sticky.assign([a, b], new Map([['t', 4]])))).toEqual(plain(result));
  });

  it('reads the generation from the int32 userData of pre-v2 subscriptions', () => {
    const a = member('a', ['t'], {
      ownedPartitions: tps({ t: [0, 1] }),
      userData: Buffer.from([0, 0, 0, 9]),
    });
    const b = member('b', ['t'], { ownedPartitions: tps({ t: [1] }), userData: Buffer.from([0, 0, 0, 8]) });
    expect(plain(stickyAssign([a, b], new Map([['t', 2]])))).toEqual({ a: { t: [0] }, b: { t: [1] } });
    const c = member('c', ['t'], { ownedPartitions: tps({ t: [1] }), userData: Buffer.from([0, 0, 0, 10]) });
    expect(plain(stickyAssign([a, c], new Map([['t', 2]])))).toEqual({ a: { t: [0] }, c: { t: [1] } });
  });

  it('handles new topics, new partitions and unsubscribed topics', () => {
    const a = member('a', ['x', 'y'], { ownedPartitions: tps({ x: [0, 1], old: [0] }), generationId: 1 });
    const b = member('b', ['x', 'y'], { ownedPartitions: tps({ x: [2, 3], old: [1] }), generationId: 1 });
    const partitions = new Map([
      ['x', 6], // grew from 4
      ['y', 2], // new
      ['old', 2], // nobody subscribes any more
    ]);
    const result = sticky.assign([a, b], partitions);
    const assigned = checkValid([a, b], partitions, result);
    expect(assigned.size).toBe(8);
    expect(count(result.get('a'))).toBe(4);
    for (const k of ['0:x', '1:x']) expect(pairs(result.get('a')).has(k)).toBe(true);
    for (const k of ['2:x', '3:x']) expect(pairs(result.get('b')).has(k)).toBe(true);
  });

  it('withholds a partition whose owner unsubscribed from its topic until the owner revokes it', () => {
    const a = member('a', ['y'], { ownedPartitions: tps({ x: [0], y: [0] }), generationId: 2 });
    const b = member('b', ['x', 'y'], { ownedPartitions: tps({ y: [1] }), generationId: 2 });
    const partitions = new Map([
      ['x', 1],
      ['y', 2],
    ]);
    const first = sticky.assign([a, b], partitions);
    expect(plain(first)).toEqual({ a: { y: [0] }, b: { y: [1] } });
    const second = sticky.assign(afterRebalance([a, b], first, 3), partitions);
    expect(plain(second)).toEqual({ a: { y: [0] }, b: { x: [0], y: [1] } });
  });

  it('balances unequal subscriptions so no partition could move to a member with two fewer', () => {
    const members = [member('a', ['t', 'u']), member('b', ['t']), member('c', ['u', 'v'])];
    const partitions = new Map([
      ['t', 4],
      ['u', 4],
      ['v', 4],
    ]);
    const result = sticky.assign(members, partitions);
    expect(checkValid(members, partitions, result).size).toBe(12);
    checkNoImprovingMove(members, result);
  });
});

// ---------------------------------------------------------------- properties

describe('assignor properties', () => {
  const eager: PartitionAssignor[] = [
    new RangeAssignor(),
    new RoundRobinAssignor(),
    new CooperativeStickyAssignor(),
  ];

  it('every partition of subscribed topics is assigned exactly once, only to subscribers', () => {
    fc.assert(
      fc.property(fc.boolean(), groupArb(false), (_, { members, partitionsPerTopic }) => {
        // Without prior ownership the cooperative assignor has nothing to withhold.
        for (const assignor of eager) {
          const assigned = checkValid(
            members,
            partitionsPerTopic,
            assignor.assign(members, partitionsPerTopic),
          );
          expect(assigned).toEqual(expectedPartitions(members, partitionsPerTopic));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('with equal subscriptions every assignor balances to within one', () => {
    fc.assert(
      fc.property(groupArb(true), ({ members, partitionsPerTopic }) => {
        for (const assignor of [new RoundRobinAssignor(), new CooperativeStickyAssignor()]) {
          checkBalancedPerSubscription(members, assignor.assign(members, partitionsPerTopic));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('range balances each topic to within one among its subscribers', () => {
    fc.assert(
      fc.property(groupArb(false), ({ members, partitionsPerTopic }) => {
        const result = new RangeAssignor().assign(members, partitionsPerTopic);
        for (const [topic, n] of partitionsPerTopic) {
          const counts = members
            .filter((m) => m.topics.includes(topic))
            .map((m) => result.get(m.memberId)!.find((tp) => tp.topic === topic)?.partitions.length ?? 0);
          if (counts.length === 0) continue;
          expect(counts.reduce((x, y) => x + y, 0)).toBe(n);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('cooperative-sticky: valid and cooperative for any prior ownership; with equal subscriptions one follow-up completes it', () => {
    const sticky = new CooperativeStickyAssignor();
    fc.assert(
      fc.property(fc.boolean(), groupArb(true), groupArb(false), ownershipArb, (equal, g1, g2, claims) => {
        const { members: base, partitionsPerTopic } = equal ? g1 : g2;
        const members = withOwnership(base, claims);
        const first = sticky.assign(members, partitionsPerTopic);
        checkValid(members, partitionsPerTopic, first);
        checkCooperative(members, first);

        // Follow-up rebalances: each member owns what it was assigned. With equal subscriptions the
        // first follow-up completes the assignment and only adds; with differing subscriptions the
        // balancing heuristic may need a further round or two (see cooperative-sticky.ts).
        let current: GroupMember[] = members;
        let assignment = first;
        const rounds = equal ? 1 : 3;
        for (let round = 1; round <= rounds; round++) {
          const next = afterRebalance(current, assignment, 10 + round);
          const result = sticky.assign(next, partitionsPerTopic);
          const assigned = checkValid(next, partitionsPerTopic, result);
          checkCooperative(next, result);
          current = next;
          assignment = result;
          if (assigned.size === expectedPartitions(members, partitionsPerTopic).size) break;
        }
        expect(checkValid(current, partitionsPerTopic, assignment)).toEqual(
          expectedPartitions(members, partitionsPerTopic),
        );
        if (equal) {
          checkBalancedPerSubscription(current, assignment);
          // The follow-up only adds: nobody loses anything it kept through the first rebalance.
          for (const m of current)
            for (const k of pairs(m.ownedPartitions))
              expect(pairs(assignment.get(m.memberId)).has(k)).toBe(true);
        } else checkNoImprovingMove(current, assignment);
      }),
      { numRuns: 300 },
    );
  });

  it('cooperative-sticky is sticky: with stable membership, reassigning what each owns changes nothing', () => {
    const sticky = new CooperativeStickyAssignor();
    fc.assert(
      fc.property(fc.boolean(), groupArb(true), groupArb(false), (equal, g1, g2) => {
        const { members, partitionsPerTopic } = equal ? g1 : g2;
        const first = sticky.assign(members, partitionsPerTopic);
        const second = sticky.assign(afterRebalance(members, first, 1), partitionsPerTopic);
        expect(plain(second)).toEqual(plain(first));
      }),
      { numRuns: 200 },
    );
  });

  it('cooperative-sticky keeps what survivors owned when a member leaves', () => {
    const sticky = new CooperativeStickyAssignor();
    fc.assert(
      fc.property(groupArb(true), fc.nat(), ({ members, partitionsPerTopic }, leaver) => {
        fc.pre(members.length >= 2);
        const first = sticky.assign(members, partitionsPerTopic);
        const owned = afterRebalance(members, first, 1);
        const survivors = owned.filter((_, i) => i !== leaver % owned.length);
        const second = sticky.assign(survivors, partitionsPerTopic);
        // Nothing is revoked from survivors, so the leaver's partitions are handed out at once.
        expect(checkValid(survivors, partitionsPerTopic, second)).toEqual(
          expectedPartitions(survivors, partitionsPerTopic),
        );
        for (const m of survivors)
          for (const k of pairs(m.ownedPartitions)) expect(pairs(second.get(m.memberId)).has(k)).toBe(true);
        checkBalancedPerSubscription(survivors, second);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------- bytes

describe('consumer-protocol helpers', () => {
  it('round-trips a subscription into a GroupMember', () => {
    const bytes = encodeMemberSubscription({
      topics: ['t', 'u'],
      ownedPartitions: tps({ u: [3, 1], t: [0] }),
      generationId: 7,
      userData: Buffer.from([1, 2]),
      rackId: 'az1',
    });
    expect(decodeMemberSubscription('m-1', 'static', bytes)).toEqual({
      memberId: 'm-1',
      groupInstanceId: 'static',
      topics: ['t', 'u'],
      ownedPartitions: tps({ t: [0], u: [1, 3] }),
      generationId: 7,
      userData: Buffer.from([1, 2]),
      rackId: 'az1',
    });
  });

  it('decodes a v0 subscription with no ownership and generation -1', () => {
    const v0 = encodeSubscription(
      { topics: ['t'], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
      0,
    );
    expect(decodeMemberSubscription('m', null, v0)).toMatchObject({
      topics: ['t'],
      ownedPartitions: [],
      generationId: -1,
      groupInstanceId: null,
    });
    // And a v1 one: owned partitions, still no generation.
    const v1 = encodeMemberSubscription(
      { topics: ['t'], ownedPartitions: tps({ t: [2] }), generationId: 4 },
      1,
    );
    expect(decodeMemberSubscription('m', null, v1)).toMatchObject({
      ownedPartitions: tps({ t: [2] }),
      generationId: -1,
    });
  });

  it('round-trips assignments, and reads an empty buffer as nothing assigned', () => {
    const bytes = encodeMemberAssignment(tps({ b: [2, 0], a: [1] }), Buffer.from([9]));
    expect(decodeMemberAssignment(bytes)).toEqual({
      partitions: tps({ a: [1], b: [0, 2] }),
      userData: Buffer.from([9]),
    });
    expect(decodeMemberAssignment(Buffer.alloc(0))).toEqual({ partitions: [], userData: null });
  });

  it('performAssignment decodes the join metadata, assigns and encodes for SyncGroup', () => {
    const sticky = new CooperativeStickyAssignor();
    const joined = [
      {
        memberId: 'b',
        metadata: encodeMemberSubscription({
          topics: ['t'],
          ownedPartitions: tps({ t: [0, 1, 2] }),
          generationId: 1,
        }),
      },
      { memberId: 'a', groupInstanceId: null, metadata: encodeMemberSubscription({ topics: ['t'] }) },
    ];
    const out = performAssignment(sticky, joined, new Map([['t', 4]]));
    expect(out.map((o) => o.memberId)).toEqual(['b', 'a']);
    const decoded = Object.fromEntries(
      out.map((o) => [o.memberId, decodeMemberAssignment(o.assignment).partitions]),
    );
    // b keeps two of its three and gives up 2 (withheld); a gets the unowned 3 now.
    expect(decoded).toEqual({ b: tps({ t: [0, 1] }), a: tps({ t: [3] }) });
  });
});
