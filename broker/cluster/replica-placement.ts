/**
 * Replica placement for new partitions (CreateTopics, CreatePartitions): which brokers hold each
 * partition's replicas, first entry the preferred leader. A pure function of its inputs.
 *
 * The scheme follows Kafka's rack-aware assignment:
 *
 * 1. Brokers are put in a rack-alternating order: racks sorted by name (brokers without a rack form
 *    one group of their own, placed last), brokers within a rack by node id, then the first broker
 *    of every rack, the second of every rack, and so on. For racks a: [0, 1], b: [2, 3], c: [4] that
 *    is [0, 2, 4, 1, 3]. The order depends only on the set of brokers, not on the input order.
 * 2. Partition p's leader is the broker at (start + p) mod n in that order, so leadership rotates
 *    over all brokers and counts differ by at most one.
 * 3. Followers are taken from the brokers after the leader, at an offset that shifts by one every n
 *    partitions (by the number of racks when there are several), so that the brokers following a
 *    given leader vary and each replica position is itself spread across brokers. A candidate is
 *    skipped if the partition already has it, or if its rack already holds more of the partition's
 *    replicas than some other rack that still has unused brokers. So replicas are spread over the
 *    racks as evenly as the racks' sizes allow, and with at least RF racks every replica of a
 *    partition is on a different rack.
 *
 * Partition ids are absolute: assigning partitions [f, f + k) with `firstPartition: f` gives
 * exactly the tail of what assigning [0, f + k) would, so CreatePartitions continues the rotation
 * a topic was created with (given the same brokers and start).
 */

export interface PlacementBroker {
  nodeId: number;
  /** The broker's rack (availability zone); null when it has none. */
  rack: string | null;
}

export interface PlacementOptions {
  /**
   * Position in the rack-alternating broker order of partition 0's leader (taken modulo the
   * broker count); it also seeds the follower shift. Default 0.
   */
  startIndex?: number;
  /** Id of the first partition to assign; the result's entry i is partition firstPartition + i. Default 0. */
  firstPartition?: number;
  /**
   * Partitions each broker already leads (brokers left out lead none). When given, each new
   * partition's leader is the least-loaded broker counting the leaders already assigned, ties going
   * to the next broker in rotation order. With equal counts this is the plain rotation.
   */
  existingLeaderCounts?: ReadonlyMap<number, number>;
}

/** The replication factor cannot be satisfied by the brokers available. */
export class ReplicationFactorError extends Error {
  override name = 'ReplicationFactorError';
  constructor(
    readonly replicationFactor: number,
    readonly brokerCount: number,
  ) {
    super(
      replicationFactor < 1
        ? `replication factor ${replicationFactor} is less than 1`
        : `replication factor ${replicationFactor} is larger than the ${brokerCount} available brokers`,
    );
  }
}

/**
 * Assigns replicas to `partitionCount` partitions, starting at partition `options.firstPartition`.
 * Returns one replica list per partition (distinct node ids, preferred leader first).
 *
 * @throws ReplicationFactorError if `replicationFactor` is less than 1 or more than the brokers.
 * @throws RangeError on duplicate node ids or non-integer / negative counts.
 */
export function assignReplicas(
  brokers: readonly PlacementBroker[],
  partitionCount: number,
  replicationFactor: number,
  options: PlacementOptions = {},
): number[][] {
  if (
    !Number.isSafeInteger(replicationFactor) ||
    replicationFactor < 1 ||
    replicationFactor > brokers.length
  ) {
    throw new ReplicationFactorError(replicationFactor, brokers.length);
  }
  requireInteger('partitionCount', partitionCount, 0);
  const firstPartition = options.firstPartition ?? 0;
  requireInteger('firstPartition', firstPartition, 0);
  const rawStart = options.startIndex ?? 0;
  requireInteger('startIndex', rawStart, Number.MIN_SAFE_INTEGER);

  const { order, rackOf, rackSizes } = rackAlternatedOrder(brokers);
  const n = order.length;
  const rackCount = rackSizes.length;
  const start = mod(rawStart, n);

  // Leader loads in rotation order; only consulted when existing counts are given.
  const existing = options.existingLeaderCounts;
  const leaderLoad = order.map((nodeId) => existing?.get(nodeId) ?? 0);

  const result: number[][] = [];
  let nextLeader = mod(start + firstPartition, n);
  for (let i = 0; i < partitionCount; i++) {
    const partition = firstPartition + i;
    const leader = existing === undefined ? nextLeader : leastLoadedFrom(leaderLoad, nextLeader);
    leaderLoad[leader]!++;
    nextLeader = (leader + 1) % n;

    const replicas = [leader];
    if (replicationFactor > 1) {
      const shift = start + Math.floor(partition / n);
      // Offset of the first follower candidate, as in Kafka: the shift, scaled by the rack count.
      const followerShift = (mod(shift, n - 1) * mod(rackCount, n - 1)) % (n - 1);
      pickFollowers(replicas, replicationFactor, followerShift, n, rackOf, rackSizes);
    }
    result.push(replicas.map((index) => order[index]!));
  }
  return result;
}

/**
 * Appends followers to `replicas` (which holds the leader's index in the broker order) until it has
 * `replicationFactor` entries. Candidates are the brokers after the leader, starting `followerShift`
 * past the next one and wrapping around (the leader itself never); each is taken only if unused
 * and its rack has the fewest replicas among racks that still have unused brokers.
 */
function pickFollowers(
  replicas: number[],
  replicationFactor: number,
  followerShift: number,
  n: number,
  rackOf: readonly number[],
  rackSizes: readonly number[],
): void {
  const leader = replicas[0]!;
  const used = new Array<boolean>(n).fill(false);
  const perRack = new Array<number>(rackSizes.length).fill(0);
  const unusedInRack = [...rackSizes];
  const take = (index: number) => {
    used[index] = true;
    perRack[rackOf[index]!]!++;
    unusedInRack[rackOf[index]!]!--;
  };
  take(leader);

  let k = 0;
  while (replicas.length < replicationFactor) {
    let fewest = Number.POSITIVE_INFINITY;
    for (let rack = 0; rack < perRack.length; rack++) {
      if (unusedInRack[rack]! > 0) fewest = Math.min(fewest, perRack[rack]!);
    }
    // n - 1 consecutive values of k visit every broker but the leader, and at least one unused
    // broker is in a rack with the fewest replicas, so this always succeeds within n - 1 steps.
    let chosen = -1;
    for (let tries = 0; tries < n - 1 && chosen < 0; tries++, k++) {
      const candidate = (leader + 1 + ((followerShift + k) % (n - 1))) % n;
      if (!used[candidate] && perRack[rackOf[candidate]!] === fewest) chosen = candidate;
    }
    if (chosen < 0) throw new Error('replica placement found no follower candidate (bug)');
    take(chosen);
    replicas.push(chosen);
  }
}

/** Index of the broker with the lowest load, ties going to the first at or after `from` cyclically. */
function leastLoadedFrom(load: readonly number[], from: number): number {
  let best = from;
  for (let step = 1; step < load.length; step++) {
    const index = (from + step) % load.length;
    if (load[index]! < load[best]!) best = index;
  }
  return best;
}

interface BrokerOrder {
  /** Node ids in rack-alternating order. */
  order: number[];
  /** Rack group of each position in `order`. */
  rackOf: number[];
  /** Brokers in each rack group. */
  rackSizes: number[];
}

function rackAlternatedOrder(brokers: readonly PlacementBroker[]): BrokerOrder {
  const byRack = new Map<string | null, number[]>();
  const seen = new Set<number>();
  for (const { nodeId, rack } of brokers) {
    if (seen.has(nodeId)) throw new RangeError(`broker ${nodeId} is listed more than once`);
    seen.add(nodeId);
    const members = byRack.get(rack);
    if (members) members.push(nodeId);
    else byRack.set(rack, [nodeId]);
  }
  const racks = [...byRack.keys()].sort((a, b) => {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const groups = racks.map((rack) => byRack.get(rack)!.sort((a, b) => a - b));

  const order: number[] = [];
  const rackOf: number[] = [];
  const largest = Math.max(0, ...groups.map((group) => group.length));
  for (let i = 0; i < largest; i++) {
    groups.forEach((group, rack) => {
      if (i < group.length) {
        order.push(group[i]!);
        rackOf.push(rack);
      }
    });
  }
  return { order, rackOf, rackSizes: groups.map((group) => group.length) };
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Modulo with a non-negative result. */
function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
