import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../../../client/kafka-connection.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { APIS } from '../../../protocol/messages/index.js';
import { makeBatch, recordsOf } from '../../helpers/batches.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Replication against a real 3-broker cluster: min.insync.replicas with acks=all as the ISR
 * shrinks and expands, and an unclean election followed by the old leader truncating its
 * divergent tail (KIP-101) when it rejoins. Requests go straight to chosen brokers over Spool's own
 * connection: a client library would wait out frozen brokers picked for metadata.
 */

const { Metadata: METADATA, Produce: PRODUCE, Fetch: FETCH, CreateTopics: CREATE_TOPICS } = APIS;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  env = await startLocalCluster({ brokers: 3, leaseMs: 3000 });
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

// Each scenario pauses and kills brokers; the next one starts from a cluster with all three live.
beforeEach(async () => {
  await env.cluster.waitUntilHealthy();
}, 120_000);

async function withBroker<T>(id: number, use: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const broker = env.cluster.state.brokers.find((b) => b.nodeId === id)!;
  const connection = await KafkaConnection.connect(broker.host, broker.port, {
    clientId: 'replication-it',
    requestTimeoutMs: 15_000,
  });
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

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

/** Partition 0 of `topic` as broker `via` sees it. */
async function partitionState(topic: string, via: number) {
  const response = await withBroker(via, (c) =>
    c.request(METADATA, 12, {
      topics: [{ name: topic, topicId: NO_ID }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    }),
  );
  const p = response.topics[0]!.partitions[0]!;
  return { leader: p.leaderId, isr: p.isrNodes, replicas: p.replicaNodes };
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

/** Produces one batch to partition 0 on broker `leader`; resolves to the partition's error code. */
async function produce(
  topic: string,
  leader: number,
  acks: number,
  label: string,
  count = 1,
): Promise<number> {
  const response = await withBroker(leader, (c) =>
    c.request(PRODUCE, 9, {
      transactionalId: null,
      acks,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: makeBatch(count, { label }) }] }],
    }),
  );
  return response.responses[0]!.partitionResponses[0]!.errorCode;
}

/** Every record value of partition 0, read from its leader as a consumer. */
async function readAll(topic: string, leader: number): Promise<string[]> {
  const response = await withBroker(leader, (c) =>
    c.request(FETCH, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          topicId: NO_ID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 1 << 20,
              replicaDirectoryId: NO_ID,
            },
          ],
          spoolTagFilter: null,
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    }),
  );
  const partition = response.responses[0]!.partitions[0]!;
  expect(partition.errorCode).toBe(ErrorCode.NONE);
  return recordsOf(partition.records ?? Buffer.alloc(0)).map(([, value]) => value);
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
