import { Kafka, logLevel } from 'kafkajs';
import { expect } from 'vitest';

/** Shared checks for the client-compatibility tests. */

/** A record as a compatibility test saw it. */
export interface SeenRecord {
  key: string;
  seq: number;
  partition: number;
  member: number;
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether `group` has committed the high watermark of every partition of `topic` (checked with kafkajs). */
export async function committedEqualsEnd(
  bootstrap: string[],
  group: string,
  topic: string,
): Promise<boolean> {
  const admin = new Kafka({ brokers: bootstrap, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return ends.every(
      (end) => committed!.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Every sequence number in [from, from + count) was seen exactly once, and in order within each key. */
export function expectExactlyOnceInKeyOrder(seen: readonly SeenRecord[], from: number, count: number): void {
  const seqs = seen.map((s) => s.seq).filter((s) => s >= from && s < from + count);
  expect(seqs.length).toBe(count);
  expect(new Set(seqs).size).toBe(count);
  const byKey = new Map<string, number[]>();
  for (const s of seen) if (s.seq >= from) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s.seq]);
  for (const [, order] of byKey) expect(order).toEqual([...order].sort((a, b) => a - b));
}

/** Each key landed in exactly one partition. */
export function expectOnePartitionPerKey(seen: readonly SeenRecord[]): void {
  const partitionsByKey = new Map<string, Set<number>>();
  for (const s of seen)
    partitionsByKey.set(s.key, (partitionsByKey.get(s.key) ?? new Set()).add(s.partition));
  for (const [, partitions] of partitionsByKey) expect(partitions.size).toBe(1);
}

/** Waits until `group` is Stable with exactly `members` members (checked with kafkajs). */
export async function waitForStableGroup(bootstrap: string[], group: string, members: number): Promise<void> {
  const admin = new Kafka({ brokers: bootstrap, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const { groups } = await admin.describeGroups([group]);
        return groups[0]?.state === 'Stable' && groups[0].members.length === members;
      },
      30_000,
      `group ${group} to settle with ${members} members`,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every sequence number in [from, from + count) was seen, and first deliveries are in order within
 * each key. This is what an auto-committing consumer group guarantees across a rebalance: records
 * consumed but not yet committed by a member that loses a partition are delivered again.
 */
export function expectAtLeastOnceInKeyOrder(seen: readonly SeenRecord[], from: number, count: number): void {
  const first = new Map<number, SeenRecord>();
  for (const s of seen) if (s.seq >= from && s.seq < from + count && !first.has(s.seq)) first.set(s.seq, s);
  expect(first.size).toBe(count);
  const byKey = new Map<string, number[]>();
  for (const s of seen) {
    if (first.get(s.seq) === s) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s.seq]);
  }
  for (const [, order] of byKey) expect(order).toEqual([...order].sort((a, b) => a - b));
}
