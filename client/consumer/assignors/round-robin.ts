import {
  compareMembers,
  compareStrings,
  type GroupAssignment,
  type GroupMember,
  groupPairs,
  type PartitionAssignor,
  subscribedTopics,
} from './assignor.js';

/**
 * Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by topic then
 * partition, is dealt in turn to the members (in member order, cycling), skipping members not
 * subscribed to the partition's topic. With identical subscriptions counts differ by at most one.
 */
export class RoundRobinAssignor implements PartitionAssignor {
  readonly name = 'roundrobin';
  readonly protocols = 'eager' as const;

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
    const sorted = [...members].sort(compareMembers);
    const subscriptions = sorted.map((m) => new Set(subscribedTopics(m, partitionsPerTopic)));
    const pairs = new Map<string, [string, number][]>(members.map((m) => [m.memberId, []]));
    const topics = new Set<string>();
    for (const s of subscriptions) for (const t of s) topics.add(t);
    let next = 0;
    for (const topic of [...topics].sort(compareStrings)) {
      const count = partitionsPerTopic.get(topic)!;
      for (let p = 0; p < count; p++) {
        // Some member subscribes to `topic`, so this stops within one cycle.
        while (!subscriptions[next]!.has(topic)) next = (next + 1) % sorted.length;
        pairs.get(sorted[next]!.memberId)!.push([topic, p]);
        next = (next + 1) % sorted.length;
      }
    }
    return new Map([...pairs].map(([id, list]) => [id, groupPairs(list)]));
  }
}
