import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { APIS } from '../../../protocol/messages/index.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { partitionRequests } from '../../helpers/partition-requests.js';

/**
 * Replication against a real 3-broker cluster: min.insync.replicas with acks=all as the ISR
 * shrinks and expands, and an unclean election followed by the old leader truncating its
 * divergent tail (KIP-101) when it rejoins. Requests go straight to chosen brokers over Spool's own
 * connection: a client library would wait out frozen brokers picked for metadata.
 */

const { CreateTopics: CREATE_TOPICS } = APIS;

let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  env = await startLocalCluster({ brokers: 3, leaseMs: 3000 });
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

const { withBroker, partitionState, produce, readAll } = partitionRequests(
  () => env.cluster,
  'replication-it',
);

// Each scenario pauses and kills brokers; the next one starts from a cluster with all three live.
beforeEach(async () => {
  await env.cluster.waitUntilHealthy();
}, 120_000);

async function createTopic(topic: string, configs: Record<string, string>): Promise<void> {
  const response = await withBroker(0, (c) =>
    c.request(CREATE_TOPICS, 5, {
      topics: [
        {
          name: topic,
          numPartitions: 1,
          replicationFactor: 3,
          assignments: [],
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    }),
  );
  expect(response.topics[0]!.errorCode).toBe(ErrorCode.NONE);
}

async function waitForPartition(
  topic: string,
  via: number,
  condition: (p: Awaited<ReturnType<typeof partitionState>>) => boolean,
  what: string,
): Promise<void> {
  await waitFor(
    async () =>
      condition(await partitionState(topic, via).catch(() => ({ leader: -1, isr: [], replicas: [] }))),
    // Generous: on a loaded 2-core CI machine brokers may lose and regain leases along the way.
    60_000,
    what,
  );
}

describe('replication across three brokers', () => {
  it('enforces min.insync.replicas for acks=all as the ISR shrinks, and recovers when it expands', async () => {
    const topic = 'min-isr';
    await createTopic(topic, { 'min.insync.replicas': '2' });
    await env.cluster.waitUntilHealthy();
    const { leader, replicas } = await partitionState(topic, 0);
    expect(await produce(topic, leader, -1, 'a')).toBe(ErrorCode.NONE);
    const followers = replicas.filter((id) => id !== leader);

    // Freeze both followers: their leases lapse and the ISR shrinks to the leader alone.
    for (const id of followers) env.cluster.pauseBroker(id);
    try {
      await waitForPartition(
        topic,
        leader,
        (p) => p.isr.length === 1 && p.leader === leader,
        'ISR shrunk to the leader',
      );
      expect(await produce(topic, leader, -1, 'b')).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
      // acks=1 does not need the ISR.
      expect(await produce(topic, leader, 1, 'c')).toBe(ErrorCode.NONE);
    } finally {
      for (const id of followers) env.cluster.resumeBroker(id);
    }
    // Every broker, the leader included, must report the full ISR again (a resumed broker may
    // briefly serve the metadata it had before it was frozen).
    await env.cluster.waitUntilHealthy();
    expect(await produce(topic, leader, -1, 'd')).toBe(ErrorCode.NONE);
    expect(await readAll(topic, leader)).toEqual(['a-0', 'c-0', 'd-0']);
  }, 180_000);

  it('elects an out-of-sync replica only when the topic allows it, and the old leader truncates its divergent tail', async () => {
    const topic = 'unclean';
    await createTopic(topic, { 'unclean.leader.election.enable': 'true' });
    await env.cluster.waitUntilHealthy();
    const { leader: oldLeader, replicas } = await partitionState(topic, 0);
    expect(await produce(topic, oldLeader, -1, 'shared', 2)).toBe(ErrorCode.NONE);
    const followers = replicas.filter((id) => id !== oldLeader);

    // Isolate the followers, then write to the old leader alone (acks=1): these records exist
    // only on it.
    for (const id of followers) env.cluster.pauseBroker(id);
    try {
      await waitForPartition(topic, oldLeader, (p) => p.isr.length === 1, 'ISR shrunk to the old leader');
      expect(await produce(topic, oldLeader, 1, 'lost', 3)).toBe(ErrorCode.NONE);
    } finally {
      env.cluster.pauseBroker(oldLeader);
      for (const id of followers) env.cluster.resumeBroker(id);
    }
    let newLeader = -1;
    try {
      // The only ISR member is gone: a follower is elected uncleanly and takes new writes.
      await waitForPartition(
        topic,
        followers[0]!,
        (p) => {
          newLeader = p.leader;
          // Any follower leading means an unclean election: the ISR was the old leader alone. (The
          // other follower may already have rejoined the new leader's ISR, so its size varies.)
          return followers.includes(p.leader);
        },
        'unclean election',
      );
      await waitFor(
        async () => (await produce(topic, newLeader, 1, 'new')) === ErrorCode.NONE,
        10_000,
        'write to the new leader',
      );
    } finally {
      env.cluster.resumeBroker(oldLeader);
    }
    // The old leader rejoins as a follower, truncates what it alone had, and catches up; as the
    // preferred replica it then gets leadership back, so reading from it shows its own log.
    expect(replicas[0]).toBe(oldLeader);
    await waitForPartition(
      topic,
      oldLeader,
      (p) => p.leader === oldLeader && p.isr.length === 3,
      'old leader back and leading',
    );
    expect(await readAll(topic, oldLeader)).toEqual(['shared-0', 'shared-1', 'new-0']);
  }, 180_000);
});
