import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MARKER_FILE } from '../../../broker/storage/storage-marker.js';
import { KafkaConnection } from '../../../client/kafka-connection.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { APIS } from '../../../protocol/messages/index.js';
import { makeBatch, recordsOf } from '../../helpers/batches.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * A broker whose data directory is gone comes back under the same node id: what an ECS task
 * replacement does, since ECS-managed EBS volumes are deleted with their task (cdk/lib/brokers.ts).
 * The empty broker must not lead or count as in sync until it has re-replicated; otherwise it
 * would be elected with an empty log and its followers would truncate to it.
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

async function withBroker<T>(id: number, use: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const broker = env.cluster.state.brokers.find((b) => b.nodeId === id)!;
  const connection = await KafkaConnection.connect(broker.host, broker.port, {
    clientId: 'replaced-storage-it',
    requestTimeoutMs: 15_000,
  });
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

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

async function produce(topic: string, leader: number, label: string, count: number): Promise<number> {
  const response = await withBroker(leader, (c) =>
    c.request(PRODUCE, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: makeBatch(count, { label }) }] }],
    }),
  );
  return response.responses[0]!.partitionResponses[0]!.errorCode;
}

async function readAll(topic: string, via: number): Promise<string[]> {
  const response = await withBroker(via, (c) =>
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

describe('a broker that returns with an empty data directory', () => {
  it.each([
    ['crashed', 'SIGKILL'],
    ['stopped gracefully', 'SIGTERM'],
  ] as const)(
    're-replicates before it leads again (%s)',
    async (_how, signal) => {
      const topic = `replaced-${signal.toLowerCase()}`;
      const created = await withBroker(0, (c) =>
        c.request(CREATE_TOPICS, 5, {
          topics: [{ name: topic, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }],
          timeoutMs: 10_000,
          validateOnly: false,
        }),
      );
      expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
      await env.cluster.waitUntilHealthy(60_000);
      // The preferred replica: the controller hands it leadership back whenever it may.
      const target = (await partitionState(topic, 0)).replicas[0]!;
      const other = (target + 1) % 3;
      await waitFor(
        async () => (await partitionState(topic, other)).leader === target,
        60_000,
        'preferred leader',
      );
      expect(await produce(topic, target, 'before', 50)).toBe(ErrorCode.NONE);

      const replaced = env.cluster.state.brokers.find((b) => b.nodeId === target)!;
      await env.cluster.stopBroker(target, signal);
      await rm(replaced.dataDir, { recursive: true, force: true });
      const restarted = await env.cluster.startBroker(target);
      const probe = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${restarted.metricsPort}${path}`);
        return { status: response.status, body: await response.text() };
      };
      expect((await probe('/health')).status).toBe(200);

      await env.cluster.waitUntilHealthy(90_000);
      await waitFor(
        async () => (await partitionState(topic, other)).leader === target,
        60_000,
        'the replaced broker leading again',
      );
      expect(await produce(topic, target, 'after', 1)).toBe(ErrorCode.NONE);
      const expected = [...Array.from({ length: 50 }, (_, i) => `before-${i}`), 'after-0'];
      expect(await readAll(topic, target)).toEqual(expected);
      // Rejoined and in every ISR: what a rolling replacement waits for before the next broker.
      await waitFor(async () => (await probe('/ready')).status === 200, 30_000, '/ready');
      expect(JSON.parse((await probe('/ready')).body)).toEqual({ ready: true, reasons: [] });
      expect(await readFile(join(replaced.dataDir, STORAGE_MARKER_FILE), 'utf8')).toContain('"version":1');
    },
    240_000,
  );
});
