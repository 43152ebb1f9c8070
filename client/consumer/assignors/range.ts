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
 * Kafka's RangeAssignor: topic by topic, the members subscribed to it (in member order) get
 * contiguous ranges of its partitions; when the count does not divide evenly the first members get
 * one more. Members subscribed to the same topics therefore get the same partition numbers of every
 * topic, which is what co-partitioned joins want.
 */
export class RangeAssignor implements PartitionAssignor {
  readonly name = 'range';
  readonly protocols = 'eager' as const;

  assign(members: readonly GroupMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
    const sorted = [...members].sort(compareMembers);
    const pairs = new Map<string, [string, number][]>(members.map((m) => [m.memberId, []]));
    const topics = new Set<string>();
    for (const m of sorted) for (const t of subscribedTopics(m, partitionsPerTopic)) topics.add(t);
    for (const topic of [...topics].sort(compareStrings)) {
      const count = partitionsPerTopic.get(topic)!;
      const consumers = sorted.filter((m) => m.topics.includes(topic));
      const per = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        const list = pairs.get(m.memberId)!;
        for (let p = start; p < start + length; p++) list.push([topic, p]);
      });
    }
    return new Map([...pairs].map(([id, list]) => [id, groupPairs(list)]));
  }
}
