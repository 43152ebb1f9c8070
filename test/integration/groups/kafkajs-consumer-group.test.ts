import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataCache } from '../../../broker/cluster/metadata-cache.js';
import { TopicStore } from '../../../broker/cluster/topic-store.js';
import { silentLogger } from '../../../broker/common/logger.js';
import { GroupCoordinator } from '../../../broker/groups/group-coordinator.js';
import { GroupStore } from '../../../broker/groups/group-store.js';
import { ReplicaManager } from '../../../broker/replication/replica-manager.js';
import type { BrokerIdentity } from '../../../broker/server/broker-identity.js';
import { apiVersionsHandler } from '../../../broker/server/handlers/api-versions.js';
import { fetchHandler } from '../../../broker/server/handlers/fetch.js';
import { groupHandlers } from '../../../broker/server/handlers/groups.js';
import { listOffsetsHandler } from '../../../broker/server/handlers/list-offsets.js';
import { metadataHandler } from '../../../broker/server/handlers/metadata.js';
import { produceHandler } from '../../../broker/server/handlers/produce.js';
import { KafkaServer } from '../../../broker/server/kafka-server.js';
import { type ApiHandler, RequestRouter } from '../../../broker/server/request-router.js';
import { LogManager } from '../../../broker/storage/log-manager.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/**
 * kafkajs consumers in one group against a listener wired like the broker (ApiVersions, Metadata,
 * Produce, Fetch, ListOffsets and the group handlers), with groups and topics in DynamoDB Local.
 */

const logger = silentLogger();
const prefix = `kafkajs-groups-${randomUUID().slice(0, 8)}`;
let dataDir: string;
const db = useDynamoDbLocal(prefix);
let metadata: MetadataCache;
let logs: LogManager;
let coordinator: GroupCoordinator;
let server: KafkaServer;
let kafka: Kafka;

beforeAll(async () => {
  const topics = new TopicStore(db.client, prefix);
  metadata = new MetadataCache(topics);
  await metadata.start();
  metadata.put(await topics.create({ name: 'orders', partitionCount: 4, replicationFactor: 1, config: {} }));
  dataDir = await mkdtemp(join(tmpdir(), 'spool-groups-it-'));
  logs = await LogManager.open(dataDir);
  const replicas = new ReplicaManager(logs, metadata, logger);
  coordinator = new GroupCoordinator(new GroupStore(db.client, prefix), {
    partitionExists: (topic, partition) => {
      const record = metadata.topic(topic);
      return record !== undefined && partition >= 0 && partition < record.partitionCount;
    },
    config: { minSessionTimeoutMs: 1000, initialRebalanceDelayMs: 500 },
    logger,
  });
  const handlers: ApiHandler[] = [];
  const router = new RequestRouter(handlers, logger);
  server = new KafkaServer(router, { maxRequestBytes: 100 << 20, maxInFlightRequests: 5 }, logger);
  const port = await server.listen(0, '127.0.0.1');
  const identity: BrokerIdentity = { nodeId: 1, host: '127.0.0.1', port, rack: null, clusterId: 'test' };
  handlers.push(
    apiVersionsHandler(() => router.supportedApis()),
    metadataHandler(identity, metadata),
    produceHandler(replicas, logger),
    fetchHandler(replicas, metadata, logger),
    listOffsetsHandler(replicas, logger),
    ...groupHandlers(coordinator, identity),
  );
  router.register(handlers);
  kafka = new Kafka({
    clientId: 'it',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
});

afterAll(async () => {
  // Parked joins must be answered before the listener can drain.
  await coordinator?.close();
  await server?.close();
  metadata?.stop();
  await logs?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('kafkajs consumer group', () => {
  it('splits partitions between two consumers, commits offsets, and leaves an empty group', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: `order-${i}` })),
    });
    await producer.disconnect();

    const seen = new Map<string, Set<string>>();
    const assignments = new Map<string, number[]>();
    const consumers: Consumer[] = ['a', 'b'].map((name) => {
      const consumer = kafka.consumer({
        groupId: 'billing',
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 100,
      });
      seen.set(name, new Set());
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        assignments.set(name, event.payload.memberAssignment.orders ?? []);
      });
      return consumer;
    });
    await Promise.all(
      consumers.map(async (consumer, i) => {
        const name = ['a', 'b'][i]!;
        await consumer.connect();
        await consumer.subscribe({ topic: 'orders', fromBeginning: true });
        await consumer.run({
          autoCommitInterval: 100,
          eachMessage: async ({ message }) => {
            seen.get(name)!.add(message.value!.toString());
          },
        });
      }),
    );
    await waitFor(() => seen.get('a')!.size + seen.get('b')!.size >= 40, 20_000);
    // Both consumers are in one generation, each with two of the four partitions.
    expect([...assignments.values()].map((p) => p.length).sort()).toEqual([2, 2]);
    expect(new Set([...assignments.values()].flat())).toEqual(new Set([0, 1, 2, 3]));
    expect(new Set([...seen.get('a')!, ...seen.get('b')!]).size).toBe(40);

    const admin = kafka.admin();
    await admin.connect();
    const described = await admin.describeGroups(['billing']);
    expect(described.groups[0]).toMatchObject({
      groupId: 'billing',
      state: 'Stable',
      protocolType: 'consumer',
    });
    expect(described.groups[0]!.members).toHaveLength(2);

    // Consumed offsets are committed (auto-commit) and survive the consumers leaving.
    await Promise.all(consumers.map((c) => c.disconnect()));
    const offsets = await admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
    expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '10'],
      [1, '10'],
      [2, '10'],
      [3, '10'],
    ]);
    const listed = await admin.listGroups();
    expect(listed.groups).toContainEqual({ groupId: 'billing', protocolType: 'consumer' });
    const emptied = await admin.describeGroups(['billing']);
    expect(emptied.groups[0]).toMatchObject({ state: 'Empty', members: [] });

    // An empty group can be deleted, offsets and all.
    await admin.deleteGroups(['billing']);
    expect((await admin.listGroups()).groups.some((g) => g.groupId === 'billing')).toBe(false);
    const gone = await admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
    expect(gone[0]!.partitions.map((p) => p.offset)).toEqual(['-1', '-1', '-1', '-1']);
    await admin.disconnect();
  });
});
