import { CompressionTypes, type Consumer, type EachMessagePayload, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster } from '../helpers/local-cluster.js';

/**
 * kafkajs 2.2 against a real `spool dev` cluster: admin, a gzip acks=all producer, and a consumer
 * group of three that must see every record exactly once and in order per key, rebalance when a
 * member leaves, and resume from committed offsets after a broker restart.
 */
const TOPIC = 'compat-kafkajs';
const GROUP = 'compat-kafkajs-group';
const KEYS = 50;

let env: Awaited<ReturnType<typeof startLocalCluster>>;
let kafka: Kafka;

beforeAll(async () => {
  env = await startLocalCluster();
  kafka = new Kafka({
    clientId: 'compat',
    brokers: env.bootstrap,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8 },
  });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

interface Seen {
  key: string;
  seq: number;
  partition: number;
  offset: number;
  member: number;
}

async function produce(from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let start = from; start < from + count; start += 500) {
    const messages = [];
    for (let i = start; i < Math.min(start + 500, from + count); i++) {
      messages.push({ key: `key-${i % KEYS}`, value: JSON.stringify({ seq: i }) });
    }
    await producer.send({ topic: TOPIC, acks: -1, compression: CompressionTypes.GZIP, messages });
  }
  await producer.disconnect();
}

function startMember(member: number, seen: Seen[]): Consumer {
  const consumer = kafka.consumer({
    groupId: GROUP,
    sessionTimeout: 6000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
  });
  void (async () => {
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      autoCommitInterval: 200,
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        const { seq } = JSON.parse(message.value!.toString()) as { seq: number };
        seen.push({ key: message.key!.toString(), seq, partition, offset: Number(message.offset), member });
      },
    });
  })();
  return consumer;
}

async function waitFor(
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

async function committedEqualsEnd(): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(TOPIC);
    const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return ends.every(
      (end) => committed!.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
    );
  } finally {
    await admin.disconnect();
  }
}

function expectExactlyOnceInKeyOrder(seen: Seen[], from: number, count: number): void {
  const seqs = seen.map((s) => s.seq).filter((s) => s >= from && s < from + count);
  expect(seqs.length).toBe(count);
  expect(new Set(seqs).size).toBe(count);
  const byKey = new Map<string, number[]>();
  for (const s of seen) if (s.seq >= from) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s.seq]);
  for (const [, order] of byKey) expect(order).toEqual([...order].sort((a, b) => a - b));
}

describe('kafkajs 2.2 against spool dev', () => {
  it('creates a 6-partition topic with the admin client', async () => {
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }] })).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    expect(metadata.topics[0]!.partitions).toHaveLength(6);
    await admin.disconnect();
  });

  const seen: Seen[] = [];
  let members: Consumer[] = [];

  it('a group of three consumes 10,000 gzip acks=all records exactly once, in order per key', async () => {
    await produce(0, 10_000);
    members = [0, 1, 2].map((m) => startMember(m, seen));
    await waitFor(() => seen.length >= 10_000, 60_000, '10,000 records');
    expectExactlyOnceInKeyOrder(seen, 0, 10_000);
    // Each key lives in one partition (murmur2), and the work was spread over all three members.
    const partitionsByKey = new Map<string, Set<number>>();
    for (const s of seen)
      partitionsByKey.set(s.key, (partitionsByKey.get(s.key) ?? new Set()).add(s.partition));
    for (const [, partitions] of partitionsByKey) expect(partitions.size).toBe(1);
    expect(new Set(seen.map((s) => s.member)).size).toBe(3);
    await waitFor(committedEqualsEnd, 20_000, 'offsets committed');
  }, 120_000);

  it('rebalances when a member leaves, and the rest consume a new batch fully', async () => {
    await members[2]!.disconnect();
    const before = seen.length;
    await produce(10_000, 2_000);
    await waitFor(() => seen.length - before >= 2_000, 60_000, '2,000 more records');
    expectExactlyOnceInKeyOrder(seen, 10_000, 2_000);
    const lateMembers = new Set(seen.slice(before).map((s) => s.member));
    expect(lateMembers.has(2)).toBe(false);
    await waitFor(committedEqualsEnd, 20_000, 'offsets committed');
    await Promise.all(members.slice(0, 2).map((m) => m.disconnect()));
  }, 120_000);

  it('keeps committed offsets across a broker restart', async () => {
    await env.cluster.stopBroker(0);
    await env.cluster.startBroker(0);
    expect(await committedEqualsEnd()).toBe(true);
    // A new member resumes where the group left off: only records produced now are delivered.
    const after: Seen[] = [];
    const consumer = startMember(9, after);
    await produce(12_000, 100);
    await waitFor(() => after.length >= 100, 60_000, 'records after restart');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(after.map((s) => s.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => 12_000 + i),
    );
    await consumer.disconnect();
  }, 120_000);
});
