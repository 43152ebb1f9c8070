import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignReplicas,
  type PlacementBroker,
  ReplicationFactorError,
} from '../../../broker/cluster/replica-placement.js';

const RACKS = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e'];

/** 1-12 brokers with distinct node ids, each in one of a few racks or in none. */
const brokersArb: fc.Arbitrary<PlacementBroker[]> = fc.integer({ min: 1, max: 5 }).chain((rackPool) =>
  fc.uniqueArray(
    fc.record({
      nodeId: fc.integer({ min: 0, max: 500 }),
      rack: fc.option(fc.constantFrom(...RACKS.slice(0, rackPool)), { nil: null, freq: 6 }),
    }),
    { minLength: 1, maxLength: 12, selector: (broker) => broker.nodeId },
  ),
);

/** Brokers spread over racks of equal size (a single rack may be "no rack"). */
const uniformBrokersArb: fc.Arbitrary<PlacementBroker[]> = fc
  .record({
    racks: fc.integer({ min: 1, max: 4 }),
    perRack: fc.integer({ min: 1, max: 4 }),
    noRack: fc.boolean(),
    ids: fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 16, maxLength: 16 }),
  })
  .map(({ racks, perRack, noRack, ids }) =>
    ids.slice(0, racks * perRack).map((nodeId, i) => ({
      nodeId,
      rack: racks === 1 && noRack ? null : RACKS[i % racks]!,
    })),
  );

/** A broker set with a replication factor it can satisfy and a partition count. */
const scenarioArb = (brokers: fc.Arbitrary<PlacementBroker[]>) =>
  brokers.chain((bs) =>
    fc.record({
      brokers: fc.constant(bs),
      replicationFactor: fc.integer({ min: 1, max: bs.length }),
      partitionCount: fc.integer({ min: 0, max: 60 }),
      startIndex: fc.integer({ min: 0, max: 30 }),
    }),
  );

function rackOf(brokers: readonly PlacementBroker[]): Map<number, string | null> {
  return new Map(brokers.map((b) => [b.nodeId, b.rack]));
}

function countBy<T>(items: readonly T[], universe: readonly T[] = []): Map<T, number> {
  const counts = new Map<T, number>(universe.map((item) => [item, 0]));
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

function spread(counts: Map<unknown, number>): number {
  const values = [...counts.values()];
  return values.length === 0 ? 0 : Math.max(...values) - Math.min(...values);
}

describe('assignReplicas properties', () => {
  it('gives every partition replicationFactor distinct known brokers', () => {
    fc.assert(
      fc.property(scenarioArb(brokersArb), ({ brokers, replicationFactor, partitionCount, startIndex }) => {
        const ids = new Set(brokers.map((b) => b.nodeId));
        const assignment = assignReplicas(brokers, partitionCount, replicationFactor, { startIndex });
        expect(assignment).toHaveLength(partitionCount);
        for (const replicas of assignment) {
          expect(replicas).toHaveLength(replicationFactor);
          expect(new Set(replicas).size).toBe(replicationFactor);
          for (const id of replicas) expect(ids.has(id)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('spreads each partition over racks as evenly as the rack sizes allow', () => {
    fc.assert(
      fc.property(scenarioArb(brokersArb), ({ brokers, replicationFactor, partitionCount, startIndex }) => {
        const racks = rackOf(brokers);
        const rackSizes = countBy(brokers.map((b) => b.rack));
        const assignment = assignReplicas(brokers, partitionCount, replicationFactor, { startIndex });
        for (const replicas of assignment) {
          const perRack = countBy(
            replicas.map((id) => racks.get(id)!),
            [...rackSizes.keys()],
          );
          if (rackSizes.size >= replicationFactor) {
            // Enough racks: no two replicas share one.
            expect([...perRack.values()].every((count) => count <= 1)).toBe(true);
          }
          // A rack holds two more replicas than another only if the other has no broker left.
          for (const heavyCount of perRack.values()) {
            for (const [light, lightCount] of perRack) {
              if (heavyCount >= lightCount + 2) expect(lightCount).toBe(rackSizes.get(light));
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('balances leadership across all brokers to within one', () => {
    fc.assert(
      fc.property(
        scenarioArb(brokersArb),
        fc.integer({ min: 0, max: 40 }),
        ({ brokers, replicationFactor, partitionCount, startIndex }, firstPartition) => {
          const assignment = assignReplicas(brokers, partitionCount, replicationFactor, {
            startIndex,
            firstPartition,
          });
          const leaders = countBy(
            assignment.map((replicas) => replicas[0]!),
            brokers.map((b) => b.nodeId),
          );
          expect(spread(leaders)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('balances every follower position to within one when racks are the same size', () => {
    fc.assert(
      fc.property(
        scenarioArb(uniformBrokersArb),
        ({ brokers, replicationFactor, partitionCount, startIndex }) => {
          const assignment = assignReplicas(brokers, partitionCount, replicationFactor, { startIndex });
          for (let position = 1; position < replicationFactor; position++) {
            const holders = countBy(
              assignment.map((replicas) => replicas[position]!),
              brokers.map((b) => b.nodeId),
            );
            expect(spread(holders), `replica position ${position}`).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('varies the brokers that follow a given leader', () => {
    // With enough partitions, the first follower of one leader is not always the same broker.
    const brokers = [0, 1, 2, 3, 4].map((nodeId) => ({ nodeId, rack: null }));
    const assignment = assignReplicas(brokers, 20, 2);
    const followersOf0 = new Set(assignment.filter((r) => r[0] === 0).map((r) => r[1]));
    expect(followersOf0.size).toBeGreaterThan(1);
  });

  it('assigns later partitions exactly as one assignment of all of them would', () => {
    fc.assert(
      fc.property(
        scenarioArb(brokersArb),
        fc.integer({ min: 0, max: 40 }),
        ({ brokers, replicationFactor, partitionCount, startIndex }, firstPartition) => {
          const all = assignReplicas(brokers, firstPartition + partitionCount, replicationFactor, {
            startIndex,
          });
          const tail = assignReplicas(brokers, partitionCount, replicationFactor, {
            startIndex,
            firstPartition,
          });
          expect(tail).toEqual(all.slice(firstPartition));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not depend on the order brokers are listed in', () => {
    fc.assert(
      fc.property(
        scenarioArb(brokersArb).chain((scenario) =>
          fc.record({
            scenario: fc.constant(scenario),
            shuffled: fc.shuffledSubarray(scenario.brokers, {
              minLength: scenario.brokers.length,
              maxLength: scenario.brokers.length,
            }),
          }),
        ),
        ({ scenario, shuffled }) => {
          const { brokers, partitionCount, replicationFactor, startIndex } = scenario;
          expect(assignReplicas(shuffled, partitionCount, replicationFactor, { startIndex })).toEqual(
            assignReplicas(brokers, partitionCount, replicationFactor, { startIndex }),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives new leaders to the least-loaded brokers first when existing counts are given', () => {
    fc.assert(
      fc.property(
        scenarioArb(brokersArb).chain((scenario) =>
          fc.record({
            scenario: fc.constant(scenario),
            existing: fc.array(fc.integer({ min: 0, max: 15 }), {
              minLength: scenario.brokers.length,
              maxLength: scenario.brokers.length,
            }),
          }),
        ),
        ({ scenario, existing }) => {
          const { brokers, partitionCount, replicationFactor, startIndex } = scenario;
          const existingLeaderCounts = new Map(brokers.map((b, i) => [b.nodeId, existing[i]!]));
          const assignment = assignReplicas(brokers, partitionCount, replicationFactor, {
            startIndex,
            existingLeaderCounts,
          });
          const totals = new Map(existingLeaderCounts);
          for (const replicas of assignment) totals.set(replicas[0]!, totals.get(replicas[0]!)! + 1);
          const initialMax = Math.max(...existingLeaderCounts.values());
          const finalMin = Math.min(...totals.values());
          // Water-filling: no broker is pushed above the old maximum while another trails by two.
          expect(Math.max(...totals.values())).toBeLessThanOrEqual(Math.max(initialMax, finalMin + 1));
          expect(spread(totals)).toBeLessThanOrEqual(Math.max(1, spread(existingLeaderCounts)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is the plain rotation when existing leader counts are all equal', () => {
    fc.assert(
      fc.property(
        scenarioArb(brokersArb),
        fc.integer({ min: 0, max: 5 }),
        ({ brokers, replicationFactor, partitionCount, startIndex }, level) => {
          const existingLeaderCounts = new Map(brokers.map((b) => [b.nodeId, level]));
          expect(
            assignReplicas(brokers, partitionCount, replicationFactor, { startIndex, existingLeaderCounts }),
          ).toEqual(assignReplicas(brokers, partitionCount, replicationFactor, { startIndex }));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('assignReplicas examples', () => {
  it('3 brokers in 3 racks, RF 3: every partition on every rack, each broker leading once', () => {
    const brokers = [
      { nodeId: 0, rack: 'a' },
      { nodeId: 1, rack: 'b' },
      { nodeId: 2, rack: 'c' },
    ];
    expect(assignReplicas(brokers, 3, 3)).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
    // startIndex also seeds the follower shift, so the followers come in the other order.
    expect(assignReplicas(brokers, 3, 3, { startIndex: 1 })).toEqual([
      [1, 0, 2],
      [2, 1, 0],
      [0, 2, 1],
    ]);
  });

  it('6 brokers in 3 racks, RF 3: one replica per rack, leadership rotating in rack-alternating order', () => {
    // Rack-alternating order: a's first, b's first, c's first, then the seconds: [0, 2, 4, 1, 3, 5].
    const brokers = [
      { nodeId: 5, rack: 'c' },
      { nodeId: 0, rack: 'a' },
      { nodeId: 2, rack: 'b' },
      { nodeId: 1, rack: 'a' },
      { nodeId: 4, rack: 'c' },
      { nodeId: 3, rack: 'b' },
    ];
    const rack = rackOf(brokers);
    const assignment = assignReplicas(brokers, 12, 3);
    expect(assignment.slice(0, 7)).toEqual([
      [0, 2, 4],
      [2, 4, 1],
      [4, 1, 3],
      [1, 3, 5],
      [3, 5, 0],
      [5, 0, 2],
      // Second round: the followers shift by the rack count (3 places past the leader).
      [0, 3, 5],
    ]);
    for (const replicas of assignment) {
      expect(new Set(replicas.map((id) => rack.get(id))).size).toBe(3);
    }
    expect([...countBy(assignment.map((r) => r[0]!)).values()]).toEqual([2, 2, 2, 2, 2, 2]);
    expect([...countBy(assignment.flat()).values()]).toEqual([6, 6, 6, 6, 6, 6]);
  });

  it('4 brokers without racks, RF 2: round-robin leaders, followers shifting every round', () => {
    const brokers = [0, 1, 2, 3].map((nodeId) => ({ nodeId, rack: null }));
    expect(assignReplicas(brokers, 8, 2)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
      [0, 2],
      [1, 3],
      [2, 0],
      [3, 1],
    ]);
  });

  it('puts a replica in a small rack whenever racks are needed to spread', () => {
    const brokers = [
      { nodeId: 0, rack: 'a' },
      { nodeId: 1, rack: 'b' },
      { nodeId: 2, rack: 'b' },
      { nodeId: 3, rack: 'b' },
    ];
    for (const replicas of assignReplicas(brokers, 8, 2)) expect(replicas).toContain(0);
    for (const replicas of assignReplicas(brokers, 8, 3)) {
      expect(replicas).toContain(0);
      expect(replicas.filter((id) => id !== 0)).toHaveLength(2);
    }
  });

  it('with fewer racks than replicas, no rack holds two more replicas than another', () => {
    const brokers = [0, 1, 2, 3, 4, 5].map((nodeId) => ({ nodeId, rack: ['x', 'y', 'z'][nodeId % 3]! }));
    const rack = rackOf(brokers);
    for (const replicas of assignReplicas(brokers, 12, 5)) {
      const perRack = [...countBy(replicas.map((id) => rack.get(id))).values()].sort((a, b) => a - b);
      expect(perRack).toEqual([1, 2, 2]);
    }
  });

  it('continues an existing topic with firstPartition', () => {
    const brokers = [0, 1, 2].map((nodeId) => ({ nodeId, rack: null }));
    expect(assignReplicas(brokers, 2, 2, { firstPartition: 3 })).toEqual([
      [0, 2],
      [1, 0],
    ]);
  });

  it('starts new leadership on the least-loaded brokers', () => {
    const brokers = [0, 1, 2, 3].map((nodeId) => ({ nodeId, rack: null }));
    const existingLeaderCounts = new Map([
      [0, 2],
      [1, 1],
      [2, 2],
      [3, 1],
    ]);
    const leaders = assignReplicas(brokers, 2, 1, { existingLeaderCounts }).map((r) => r[0]);
    expect(leaders).toEqual([1, 3]);
  });

  it('returns no partitions for a count of zero', () => {
    expect(assignReplicas([{ nodeId: 7, rack: null }], 0, 1)).toEqual([]);
  });

  it('throws ReplicationFactorError when RF exceeds the brokers or is below 1', () => {
    const brokers = [
      { nodeId: 0, rack: 'a' },
      { nodeId: 1, rack: 'b' },
    ];
    const tooMany = (() => {
      try {
        assignReplicas(brokers, 3, 3);
      } catch (error) {
        return error;
      }
    })();
    expect(tooMany).toBeInstanceOf(ReplicationFactorError);
    expect(tooMany).toMatchObject({ name: 'ReplicationFactorError', replicationFactor: 3, brokerCount: 2 });
    expect(() => assignReplicas(brokers, 3, 0)).toThrow(ReplicationFactorError);
    expect(() => assignReplicas([], 1, 1)).toThrow(ReplicationFactorError);
  });

  it('rejects duplicate node ids and negative counts', () => {
    const dup = [
      { nodeId: 1, rack: null },
      { nodeId: 1, rack: 'a' },
    ];
    expect(() => assignReplicas(dup, 1, 1)).toThrow(RangeError);
    expect(() => assignReplicas([{ nodeId: 1, rack: null }], -1, 1)).toThrow(RangeError);
    expect(() => assignReplicas([{ nodeId: 1, rack: null }], 1, 1, { firstPartition: -1 })).toThrow(
      RangeError,
    );
  });
});
