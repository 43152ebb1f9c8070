import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Replication against a real 3-broker cluster: min.insync.replicas with acks=all as the ISR
 * shrinks and expands, and an unclean election followed by the old leader truncating its
 * divergent tail (KIP-101) when it rejoins.
 */

let env: Awaited<ReturnType<typeof startLocalCluster>>;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  env = await startLocalCluster({ brokers: 3 });
  kafka = new Kafka({ clientId: 'replication-it', brokers: env.bootstrap, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await env?.stop();
});

async function partitionState(topic: string) {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]!.partitions[0]!;
}

async function waitForPartition(
  topic: string,
  condition: (p: Awaited<ReturnType<typeof partitionState>>) => boolean,
  what: string,
) {
  let ok = false;
  await waitFor(
    async () => {
      ok = condition(await partitionState(topic).catch(() => ({ leader: -1, isr: [], replicas: [] }) as never));
      return ok;
    },
    30_000,
    what,
  );
}

async function produce(topic: string, acks: number, values: string[]) {
  const producer = kafka.producer({ retry: { retries: 2 }, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    return await producer.send({ topic, acks, messages: values.map((value) => ({ partition: 0, value })) });
  } finally {
    await producer.disconnect();
  }
}

async function consumeAll(topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  await waitFor(() => values.length >= expected, 30_000, `${expected} records`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await consumer.disconnect();
  return values;
}

describe('replication across three brokers', () => {
  it('enforces min.insync.replicas for acks=all as the ISR shrinks, and recovers when it expands', async () => {
    const topic = 'min-isr';
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    });
    await produce(topic, -1, ['a']);
    const { leader, replicas } = await partitionState(topic);
    const followers = replicas.filter((id) => id !== leader);

    // Freeze both followers: their leases lapse and the ISR shrinks to the leader alone.
    for (const id of followers) env.cluster.pauseBroker(id);
    try {
      await waitForPartition(topic, (p) => p.isr.length === 1 && p.leader === leader, 'ISR shrunk to the leader');
      await expect(produce(topic, -1, ['b'])).rejects.toThrow(/not enough|in-sync|NOT_ENOUGH_REPLICAS/i);
      // acks=1 does not need the ISR.
      await produce(topic, 1, ['c']);
    } finally {
      for (const id of followers) env.cluster.resumeBroker(id);
    }
    await waitForPartition(topic, (p) => p.isr.length === 3, 'followers back in the ISR');
    await produce(topic, -1, ['d']);
    expect(await consumeAll(topic, 3)).toEqual(['a', 'c', 'd']);
  }, 120_000);

  it('elects an out-of-sync replica only when the topic allows it, and the old leader truncates its divergent tail', async () => {
    const topic = 'unclean';
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'unclean.leader.election.enable', value: 'true' }],
        },
      ],
    });
    await produce(topic, -1, ['shared-1', 'shared-2']);
    const { leader: oldLeader, replicas } = await partitionState(topic);
    const followers = replicas.filter((id) => id !== oldLeader);

    // Isolate the followers, then write to the old leader alone (acks=1): these records exist
    // only on it.
    for (const id of followers) env.cluster.pauseBroker(id);
    try {
      await waitForPartition(topic, (p) => p.isr.length === 1, 'ISR shrunk to the old leader');
      await produce(topic, 1, ['lost-1', 'lost-2', 'lost-3']);
    } finally {
      env.cluster.pauseBroker(oldLeader);
      for (const id of followers) env.cluster.resumeBroker(id);
    }
    try {
      // The only ISR member is gone: a follower is elected uncleanly and takes new writes.
      await waitForPartition(topic, (p) => followers.includes(p.leader), 'unclean election');
      await produce(topic, -1, ['new-1']);
    } finally {
      env.cluster.resumeBroker(oldLeader);
    }
    // The old leader rejoins as a follower, truncates what it alone had, and catches up; as the
    // preferred replica it then gets leadership back, so reading from it shows its log.
    await waitForPartition(topic, (p) => p.leader === oldLeader && p.isr.length === 3, 'old leader back and leading');
    expect(await consumeAll(topic, 3)).toEqual(['shared-1', 'shared-2', 'new-1']);
  }, 120_000);
});
