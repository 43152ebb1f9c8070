import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  committedEqualsEnd,
  expectAtLeastOnceInKeyOrder,
  expectExactlyOnceInKeyOrder,
  expectOnePartitionPerKey,
  type SeenRecord,
  waitFor,
  waitForStableGroup,
} from '../helpers/compat-checks.js';
import { startLocalCluster } from '../helpers/local-cluster.js';

/**
 * @platformatic/kafka (which speaks only flexible protocol versions) against a real `spool dev`
 * cluster: the same flow as the kafkajs test. kafkajs's admin is used only as an independent
 * observer of committed offsets.
 */
const TOPIC = 'compat-platformatic';
const GROUP = 'compat-platformatic-group';
const KEYS = 50;

let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  env = await startLocalCluster({ leaseMs: 3000 });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

async function produce(from: number, count: number): Promise<void> {
  const producer = new Producer({
    clientId: 'compat-producer',
    bootstrapBrokers: env.bootstrap,
    serializers: stringSerializers,
    acks: -1,
    compression: 'gzip',
  });
  for (let start = from; start < from + count; start += 500) {
    const messages = [];
    for (let i = start; i < Math.min(start + 500, from + count); i++) {
      messages.push({ topic: TOPIC, key: `key-${i % KEYS}`, value: JSON.stringify({ seq: i }) });
    }
    await producer.send({ messages });
  }
  await producer.close();
}

interface Member {
  consumer: Consumer<string, string, string, string>;
  done: Promise<void>;
}

/** The next offset to consume per partition: the furthest any member has got. */
const positions = new Map<number, bigint>();

/**
 * Commits the furthest consumed position of every partition through one live member, as an
 * application does before it stops. The client's timer-driven auto-commit does not always commit
 * the last records of a partition it took over in a rebalance (the broker rejected none of its
 * commits), so the test does not rely on it for the final positions. The furthest position across
 * members is used because a classic-protocol commit is not checked against partition ownership,
 * and a stale position must never overwrite a newer one.
 */
async function commitConsumed(member: Member): Promise<void> {
  const offsets = [...positions].map(([partition, offset]) => ({
    topic: TOPIC,
    partition,
    offset,
    leaderEpoch: 0,
  }));
  await member.consumer.commit({ offsets });
}

/**
 * Commits the final positions until the group holds them: another member's timer-driven commit,
 * sent just before, may still land after ours with the position it had then.
 */
async function commitFinalPositions(member: Member): Promise<void> {
  await waitFor(
    async () => {
      await commitConsumed(member);
      return committedEqualsEnd(env.bootstrap, GROUP, TOPIC);
    },
    45_000,
    'offsets committed',
  );
}

function startMember(member: number, seen: SeenRecord[]): Member {
  const consumer = new Consumer({
    clientId: `compat-consumer-${member}`,
    groupId: GROUP,
    bootstrapBrokers: env.bootstrap,
    deserializers: stringDeserializers,
    sessionTimeout: 30_000,
    rebalanceTimeout: 30_000,
    heartbeatInterval: 300,
    maxWaitTime: 200,
  });
  const done = (async () => {
    const stream = await consumer.consume({
      topics: [TOPIC],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: 200,
    });
    for await (const message of stream) {
      const { seq } = JSON.parse(message.value) as { seq: number };
      seen.push({ key: message.key, seq, partition: message.partition, member });
      const next = message.offset + 1n;
      if (next > (positions.get(message.partition) ?? -1n)) positions.set(message.partition, next);
    }
  })().catch(() => undefined);
  return { consumer, done };
}

describe('@platformatic/kafka against spool dev', () => {
  it('creates a 6-partition topic with the admin client', async () => {
    const admin = new Admin({ clientId: 'compat-admin', bootstrapBrokers: env.bootstrap });
    const [created] = await admin.createTopics({ topics: [TOPIC], partitions: 6, replicas: 1 });
    expect(created!.partitions).toBe(6);
    expect(await admin.listTopics()).toContain(TOPIC);
    await admin.close();
  });

  const seen: SeenRecord[] = [];
  let members: Member[] = [];

  it('a group of three consumes 10,000 gzip acks=all records exactly once, in order per key', async () => {
    await produce(0, 10_000);
    members = [0, 1, 2].map((m) => startMember(m, seen));
    await waitFor(() => seen.length >= 10_000, 60_000, '10,000 records');
    expectExactlyOnceInKeyOrder(seen, 0, 10_000);
    expectOnePartitionPerKey(seen);
    expect(new Set(seen.map((s) => s.member)).size).toBe(3);
    await commitFinalPositions(members[0]!);
  }, 120_000);

  it('rebalances when a member leaves, and the rest consume a new batch fully (at least once, in key order)', async () => {
    await members[2]!.consumer.close(true);
    // Produce only once the rebalance is over, so the check below can demand exactly-once.
    await waitForStableGroup(env.bootstrap, GROUP, 2);
    const before = seen.length;
    await produce(10_000, 2_000);
    await waitFor(
      () => new Set(seen.slice(before).map((s) => s.seq)).size >= 2_000,
      60_000,
      '2,000 more records',
    );
    expectAtLeastOnceInKeyOrder(seen, 10_000, 2_000);
    expect(new Set(seen.slice(before).map((s) => s.member)).has(2)).toBe(false);
    await commitFinalPositions(members[0]!);
    await Promise.all(members.slice(0, 2).map((m) => m.consumer.close(true)));
  }, 120_000);

  it('keeps committed offsets across a broker restart', async () => {
    await env.cluster.stopBroker(0);
    await env.cluster.startBroker(0);
    await env.cluster.waitUntilHealthy();
    expect(await committedEqualsEnd(env.bootstrap, GROUP, TOPIC)).toBe(true);
    const after: SeenRecord[] = [];
    const member = startMember(9, after);
    await produce(12_000, 100);
    await waitFor(() => after.length >= 100, 60_000, 'records after restart');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(after.map((s) => s.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => 12_000 + i),
    );
    await member.consumer.close(true);
  }, 120_000);
});
