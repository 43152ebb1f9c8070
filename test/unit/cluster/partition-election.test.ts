import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BrokerLiveness,
  type ElectionContext,
  electPartition,
} from '../../../broker/cluster/partition-election.js';
import type { PartitionState } from '../../../broker/cluster/partition-state-store.js';

const LIVE: BrokerLiveness = { live: true, dead: false, brokerEpoch: 1, registeredAt: 0, rejoining: false };
const DEAD: BrokerLiveness = { live: false, dead: true, brokerEpoch: 1, registeredAt: 0, rejoining: false };
/** Lease expired, but not by more than the clock-skew margin: the holder may still be acting. */
const UNCERTAIN: BrokerLiveness = {
  live: false,
  dead: false,
  brokerEpoch: 1,
  registeredAt: 0,
  rejoining: false,
};
/** A new incarnation that came back with an empty data directory. */
const REJOINING: BrokerLiveness = {
  live: true,
  dead: false,
  brokerEpoch: 2,
  registeredAt: 0,
  rejoining: true,
};

function state(overrides: Partial<PartitionState> = {}): PartitionState {
  return {
    topic: 't',
    topicId: 'id',
    partition: 0,
    replicas: [0, 1, 2],
    leader: 0,
    leaderEpoch: 5,
    leaderBrokerEpoch: 1,
    isr: [0, 1, 2],
    version: 10,
    controllerEpoch: 1,
    ...overrides,
  };
}

function ctx(
  brokers: Record<number, BrokerLiveness>,
  overrides: Partial<ElectionContext> = {},
): ElectionContext {
  return {
    brokers: new Map(Object.entries(brokers).map(([id, b]) => [Number(id), b])),
    now: 100_000,
    controllerEpoch: 7,
    uncleanElection: false,
    preferredLeaderDelayMs: 5000,
    ...overrides,
  };
}

describe('electPartition', () => {
  it('leaves a healthy partition alone', () => {
    expect(electPartition(state(), ctx({ 0: LIVE, 1: LIVE, 2: LIVE }))).toBeNull();
  });

  it('elects the next ISR member in preference order when the leader is dead, bumping epoch and version', () => {
    const outcome = electPartition(state(), ctx({ 0: DEAD, 1: LIVE, 2: LIVE }));
    expect(outcome?.reason).toBe('leader-failed');
    expect(outcome?.next).toMatchObject({
      leader: 1,
      leaderEpoch: 6,
      version: 11,
      isr: [1, 2],
      controllerEpoch: 7,
    });
  });

  it('waits while the leader lease is expired but within the clock-skew margin', () => {
    expect(electPartition(state(), ctx({ 0: UNCERTAIN, 1: LIVE, 2: LIVE }))).toBeNull();
  });

  it('re-elects when the leader restarted as a new incarnation (new broker epoch)', () => {
    const outcome = electPartition(state(), ctx({ 0: { ...LIVE, brokerEpoch: 2 }, 1: LIVE, 2: LIVE }));
    expect(outcome?.reason).toBe('leader-restarted');
    expect(outcome?.next.leader).toBe(0);
    expect(outcome?.next.leaderBrokerEpoch).toBe(2);
    expect(outcome?.next.leaderEpoch).toBe(6);
  });

  it('never elects a live replica outside the ISR unless unclean election is enabled', () => {
    const s = state({ isr: [0] });
    const clean = electPartition(s, ctx({ 0: DEAD, 1: LIVE, 2: LIVE }));
    expect(clean?.reason).toBe('offline');
    expect(clean?.next).toMatchObject({ leader: -1, isr: [0], leaderEpoch: 6 });
    const unclean = electPartition(s, ctx({ 0: DEAD, 1: LIVE, 2: LIVE }, { uncleanElection: true }));
    expect(unclean?.reason).toBe('unclean');
    expect(unclean?.next).toMatchObject({ leader: 1, isr: [1] });
  });

  it('brings an offline partition back when an ISR member returns', () => {
    const offline = state({ leader: -1, leaderBrokerEpoch: -1, isr: [0] });
    expect(electPartition(offline, ctx({ 0: DEAD, 1: LIVE }))).toBeNull();
    const back = electPartition(offline, ctx({ 0: { ...LIVE, brokerEpoch: 3 }, 1: LIVE }));
    expect(back?.reason).toBe('leader-returned');
    expect(back?.next).toMatchObject({ leader: 0, leaderBrokerEpoch: 3 });
  });

  it('drops dead followers from the ISR of a healthy leader', () => {
    const outcome = electPartition(state(), ctx({ 0: LIVE, 1: DEAD, 2: LIVE }));
    expect(outcome?.reason).toBe('isr-dead-replicas');
    expect(outcome?.next).toMatchObject({ leader: 0, leaderEpoch: 5, isr: [0, 2], version: 11 });
  });

  it('returns leadership to the preferred replica once it has been registered long enough', () => {
    const s = state({ leader: 1, isr: [1, 2, 0] });
    const fresh = ctx({ 0: { ...LIVE, registeredAt: 99_000 }, 1: LIVE, 2: LIVE });
    expect(electPartition(s, fresh)).toBeNull();
    const settled = ctx({ 0: { ...LIVE, registeredAt: 90_000 }, 1: LIVE, 2: LIVE });
    const outcome = electPartition(s, settled);
    expect(outcome?.reason).toBe('preferred-leader');
    expect(outcome?.next).toMatchObject({ leader: 0, leaderEpoch: 6 });
  });

  describe('a broker rejoining with an empty data directory', () => {
    it('is not re-elected from its old ISR membership; another ISR member leads', () => {
      const outcome = electPartition(state(), ctx({ 0: REJOINING, 1: LIVE, 2: LIVE }));
      expect(outcome?.reason).toBe('leader-restarted');
      expect(outcome?.next).toMatchObject({ leader: 1, isr: [1, 2] });
    });

    it('leaves the ISR of a healthy leader, and is not made preferred leader', () => {
      const healthy = state({ leader: 1, leaderBrokerEpoch: 1 });
      const outcome = electPartition(healthy, ctx({ 0: REJOINING, 1: LIVE, 2: LIVE }, { now: 1e9 }));
      expect(outcome?.reason).toBe('isr-rejoining-replicas');
      expect(outcome?.next).toMatchObject({ leader: 1, isr: [1, 2], leaderEpoch: 5 });
    });

    it('takes the partition offline rather than lead it when it was the last ISR member', () => {
      const outcome = electPartition(state({ isr: [0] }), ctx({ 0: REJOINING, 1: LIVE, 2: LIVE }));
      expect(outcome?.reason).toBe('offline');
      expect(outcome?.next).toMatchObject({ leader: -1, isr: [0] });
      // Once it has finished rejoining it is the only copy left, and leads.
      const back = electPartition(
        outcome!.next,
        ctx({ 0: { ...REJOINING, rejoining: false }, 1: LIVE, 2: LIVE }),
      );
      expect(back?.next).toMatchObject({ leader: 0, isr: [0] });
    });

    it('is not elected uncleanly', () => {
      const offline = state({ leader: -1, leaderBrokerEpoch: -1, isr: [2] });
      const outcome = electPartition(
        offline,
        ctx({ 0: REJOINING, 1: LIVE, 2: DEAD }, { uncleanElection: true }),
      );
      expect(outcome?.next).toMatchObject({ leader: 1, isr: [1] });
    });

    it('leaves an offline ISR it shares, keeping one member when every member is rejoining', () => {
      const offline = state({ leader: -1, leaderBrokerEpoch: -1, isr: [0, 1, 2] });
      const outcome = electPartition(offline, ctx({ 0: REJOINING, 1: REJOINING, 2: REJOINING }));
      expect(outcome?.reason).toBe('isr-rejoining-replicas');
      expect(outcome?.next).toMatchObject({ leader: -1, isr: [0] });
      const mixed = electPartition(offline, ctx({ 0: REJOINING, 1: DEAD, 2: REJOINING }));
      expect(mixed?.next).toMatchObject({ leader: -1, isr: [1] });
    });
  });

  it('keeps its safety rules for any cluster state', () => {
    const liveness = fc.constantFrom(LIVE, DEAD, UNCERTAIN, { ...LIVE, brokerEpoch: 2 }, REJOINING);
    fc.assert(
      fc.property(
        fc.array(liveness, { minLength: 3, maxLength: 3 }),
        fc.subarray([0, 1, 2], { minLength: 1 }),
        fc.integer({ min: -1, max: 2 }),
        fc.boolean(),
        (brokers, isr, leader, unclean) => {
          const before = state({
            leader,
            isr: leader >= 0 && !isr.includes(leader) ? [...isr, leader] : isr,
          });
          const c = ctx({ 0: brokers[0]!, 1: brokers[1]!, 2: brokers[2]! }, { uncleanElection: unclean });
          const outcome = electPartition(before, c);
          if (!outcome) return;
          const next = outcome.next;
          expect(next.version).toBe(before.version + 1);
          expect(next.isr.length).toBeGreaterThan(0);
          expect(next.isr.every((id) => before.replicas.includes(id))).toBe(true);
          if (next.leader !== before.leader) {
            expect(next.leaderEpoch).toBe(before.leaderEpoch + 1);
            // A leader that might still be acting is never replaced.
            const old = before.leader >= 0 ? c.brokers.get(before.leader)! : undefined;
            if (old)
              expect(
                old.dead ||
                  (old.live && old.brokerEpoch !== before.leaderBrokerEpoch) ||
                  outcome.reason === 'preferred-leader',
              ).toBe(true);
          }
          // A rejoining broker's ISR memberships are never grounds to elect it.
          if (next.leader !== before.leader && next.leader >= 0) {
            expect(c.brokers.get(next.leader)!.rejoining).toBe(false);
          }
          // Nor does it stay in an ISR next to another member.
          if (next.isr.length > 1) expect(next.isr.some((id) => c.brokers.get(id)!.rejoining)).toBe(false);
          if (next.leader >= 0) {
            expect(c.brokers.get(next.leader)!.live).toBe(true);
            expect(next.isr).toContain(next.leader);
            // Clean elections pick only from the previous ISR.
            if (outcome.reason !== 'unclean') expect(before.isr).toContain(next.leader);
          }
        },
      ),
    );
  });
});
