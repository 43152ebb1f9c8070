import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../../broker/broker.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/**
 * kafkajs consumers in one group against an in-process broker (the real Broker wiring, one node),
 * with groups and topics in DynamoDB Local.
 */

const prefix = `kafkajs-groups-${randomUUID().slice(0, 8)}`;
let dataDir: string;
const db = useDynamoDbLocal(prefix);
let broker: Broker | undefined;
let kafka: Kafka;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'spool-groups-it-'));
  broker = await Broker.start({
    nodeId: 1,
    port: 0,
    metricsPort: null,
    dataDir,
    logLevel: process.env.SPOOL_TEST_LOG_LEVEL ?? 'silent',
    aws: { dynamoDbEndpoint: db.endpoint, tablePrefix: prefix, region: 'us-east-1' },
    groups: { minSessionTimeoutMs: 1000, initialRebalanceDelayMs: 500 },
  });
  kafka = new Kafka({
    clientId: 'it',
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: process.env.KJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 4 }] });
  await admin.disconnect();
}, 60_000);

afterAll(async () => {
  await broker?.stop();
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
