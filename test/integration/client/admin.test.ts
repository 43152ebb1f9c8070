import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../../client/admin/index.js';
import { KafkaProtocolError } from '../../../client/errors.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/** The Spool Admin against a real 3-broker cluster (one cluster for the whole file). */

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let admin: Admin;
let kafka: Kafka;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3 });
  admin = new Admin({ bootstrap: local.bootstrap, clientId: 'admin-it' });
  await admin.connect();
  kafka = new Kafka({ clientId: 'admin-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  admin?.close();
  await local?.stop();
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('Admin', () => {
  it('describes the cluster: brokers, controller and cluster id', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => b.nodeId)).toHaveLength(3);
    expect(cluster.brokers.map((b) => b.nodeId)).toContain(cluster.controllerId);
    expect(cluster.clusterId).not.toBe('');
  });

  it('creates, lists, describes, grows and deletes topics', async () => {
    await admin.createTopics([
      { topic: 'admin-a', partitions: 3, replicationFactor: 3, configs: { 'retention.ms': '3600000' } },
    ]);
    await admin.createTopics([{ topic: 'admin-b' }], { validateOnly: true });
    expect(await admin.listTopics()).toContain('admin-a');
    expect(await admin.listTopics()).not.toContain('admin-b');

    const [described] = await admin.describeTopics(['admin-a']);
    expect(described!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of described!.partitions) {
      expect(p.replicas).toHaveLength(3);
      expect(p.replicas).toContain(p.leader);
      expect(p.isr.length).toBeGreaterThanOrEqual(1);
    }
    const retention = described!.configs.find((c) => c.name === 'retention.ms');
    expect(retention).toMatchObject({ value: '3600000', isDefault: false });

    const exists = await rejection(admin.createTopics([{ topic: 'admin-a' }]));
    expect(exists).toBeInstanceOf(KafkaProtocolError);
    expect(exists).toMatchObject({ errorName: 'TOPIC_ALREADY_EXISTS', retriable: false });

    await admin.createPartitions('admin-a', 5);
    const [grown] = await admin.describeTopics(['admin-a']);
    expect(grown!.partitions).toHaveLength(5);

    await admin.deleteTopics(['admin-a']);
    await waitFor(async () => !(await admin.listTopics()).includes('admin-a'));
    const missing = await rejection(admin.describeTopics(['admin-a']));
    expect(missing).toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
  }, 40_000);

  it('alters topic configs: set, delete (back to the default), validateOnly, invalid values', async () => {
    await admin.createTopics([{ topic: 'admin-configs', partitions: 2, replicationFactor: 3 }]);
    const config = async (name: string) =>
      (await admin.describeTopics(['admin-configs']))[0]!.configs.find((c) => c.name === name);
    const defaultRetention = String(14 * 24 * 3600 * 1000);
    expect(await config('retention.ms')).toMatchObject({
      value: defaultRetention,
      isDefault: true,
      source: 'default',
    });

    await admin.alterConfigs('admin-configs', { 'retention.ms': '3600000', 'cleanup.policy': 'compact' });
    expect(await config('retention.ms')).toMatchObject({
      value: '3600000',
      isDefault: false,
      source: 'topic',
    });
    expect(await config('cleanup.policy')).toMatchObject({ value: 'compact', source: 'topic' });

    // Incremental: other keys keep their values.
    await admin.alterConfigs('admin-configs', { 'segment.ms': '60000', 'cleanup.policy': null });
    expect(await config('retention.ms')).toMatchObject({ value: '3600000', source: 'topic' });
    expect(await config('segment.ms')).toMatchObject({ value: '60000', source: 'topic' });
    expect(await config('cleanup.policy')).toMatchObject({ value: 'delete', source: 'default' });

    // null deletes the override: the default applies again.
    await admin.alterConfigs('admin-configs', { 'retention.ms': null });
    expect(await config('retention.ms')).toMatchObject({ value: defaultRetention, source: 'default' });
    expect(await config('segment.ms')).toMatchObject({ value: '60000', source: 'topic' });

    // validateOnly checks but changes nothing.
    await admin.alterConfigs('admin-configs', { 'retention.ms': '1000' }, { validateOnly: true });
    expect(await config('retention.ms')).toMatchObject({ value: defaultRetention, source: 'default' });

    const invalidChanges: Record<string, string>[] = [
      { 'retention.ms': 'soon' },
      { 'retention.ms': '-7' },
      { 'retention.msec': '1000' },
    ];
    for (const bad of invalidChanges) {
      for (const validateOnly of [false, true]) {
        const invalid = await rejection(admin.alterConfigs('admin-configs', bad, { validateOnly }));
        expect(invalid).toBeInstanceOf(KafkaProtocolError);
        expect(invalid).toMatchObject({
          errorName: 'INVALID_CONFIG',
          retriable: false,
          topic: 'admin-configs',
        });
        expect((invalid as KafkaProtocolError).serverMessage).toContain(Object.keys(bad)[0]);
      }
    }
    // A request with one bad key applies none of its keys.
    await rejection(admin.alterConfigs('admin-configs', { 'segment.ms': '120000', 'retention.ms': 'x' }));
    expect(await config('segment.ms')).toMatchObject({ value: '60000' });

    const missing = await rejection(admin.alterConfigs('admin-no-such-topic', { 'retention.ms': '1000' }));
    expect(missing).toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
  }, 40_000);

  it('applies an altered max.message.bytes on every broker: a larger produce fails, then works again', async () => {
    await admin.createTopics([{ topic: 'admin-limits', partitions: 3, replicationFactor: 3 }]);
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    // Every partition on its own: their leaders are spread over the three brokers, and each must
    // apply the new limit as soon as alterConfigs has resolved.
    const send = (partition: number, bytes: number) =>
      producer.send({
        topic: 'admin-limits',
        acks: -1,
        messages: [{ partition, value: Buffer.alloc(bytes, 1) }],
      });
    const partitions = [0, 1, 2];
    try {
      for (const p of partitions) await send(p, 4096);
      await admin.alterConfigs('admin-limits', { 'max.message.bytes': '1024' });
      for (const p of partitions) {
        expect(await rejection(send(p, 4096))).toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
        await send(p, 100);
      }
      await admin.alterConfigs('admin-limits', { 'max.message.bytes': null });
      for (const p of partitions) await send(p, 4096);
    } finally {
      await producer.disconnect();
    }
  }, 40_000);

  it('serves kafkajs alterConfigs (AlterConfigs v1: replaces every override) and refuses broker resources', async () => {
    await admin.createTopics([
      { topic: 'admin-kafkajs-configs', partitions: 1, configs: { 'segment.ms': '60000' } },
    ]);
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      await kafkaAdmin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'admin-kafkajs-configs',
            configEntries: [{ name: 'retention.ms', value: '7200000' }],
          },
        ],
      });
      const [described] = await admin.describeTopics(['admin-kafkajs-configs']);
      const byName = new Map(described!.configs.map((c) => [c.name, c]));
      expect(byName.get('retention.ms')).toMatchObject({ value: '7200000', source: 'topic' });
      // AlterConfigs replaces the whole set: segment.ms, not named, is back to its default.
      expect(byName.get('segment.ms')).toMatchObject({ source: 'default' });

      const seen = await kafkaAdmin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: 'admin-kafkajs-configs', configNames: ['retention.ms'] },
        ],
      });
      expect(seen.resources[0]!.configEntries[0]).toMatchObject({
        configName: 'retention.ms',
        configValue: '7200000',
      });

      const broker = await rejection(
        kafkaAdmin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.BROKER,
              name: '0',
              configEntries: [{ name: 'log.retention.ms', value: '1000' }],
            },
          ],
        }),
      );
      expect(broker).toMatchObject({ type: 'INVALID_REQUEST' });

      const invalid = await rejection(
        kafkaAdmin.alterConfigs({
          validateOnly: true,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: 'admin-kafkajs-configs',
              configEntries: [{ name: 'retention.ms', value: 'never' }],
            },
          ],
        }),
      );
      expect(invalid).toMatchObject({ type: 'INVALID_CONFIG' });
    } finally {
      await kafkaAdmin.disconnect();
    }
  }, 40_000);

  it('lists, describes, resets offsets of, and deletes consumer groups', async () => {
    await admin.createTopics([{ topic: 'admin-orders', partitions: 3 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'admin-orders',
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'admin-group', sessionTimeout: 6000, heartbeatInterval: 500 });
    let consumed = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'admin-orders', fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        consumed++;
      },
    });
    await waitFor(async () => consumed >= 30, 20_000);

    const [active] = await admin.describeGroups(['admin-group']);
    expect(active!.members).toHaveLength(1);
    expect(active!.members[0]!.assignment).toEqual([{ topic: 'admin-orders', partitions: [0, 1, 2] }]);
    // An admin commit is refused while the group has members.
    const refused = await rejection(admin.resetOffsets('admin-group', 'admin-orders', 'earliest'));
    expect(refused).toMatchObject({ errorName: 'UNKNOWN_MEMBER_ID' });
    await consumer.disconnect();

    const listed = await admin.listGroups();
    expect(listed.find((g) => g.groupId === 'admin-group')).toMatchObject({ protocolType: 'consumer' });
    const [empty] = await admin.describeGroups(['admin-group']);
    expect(empty).toMatchObject({ state: 'Empty', members: [] });

    const committed = await admin.fetchOffsets('admin-group', ['admin-orders']);
    const ends = committed.map((c) => c.offset);
    expect(ends.reduce((a, b) => a + b, 0)).toBe(30);

    const dry = await admin.resetOffsets('admin-group', 'admin-orders', 'earliest', { dryRun: true });
    expect(dry.map((p) => [p.current, p.target])).toEqual(ends.map((end) => [end, 0]));
    expect((await admin.fetchOffsets('admin-group', ['admin-orders'])).map((c) => c.offset)).toEqual(ends);

    await admin.resetOffsets('admin-group', 'admin-orders', 'earliest');
    expect((await admin.fetchOffsets('admin-group', ['admin-orders'])).map((c) => c.offset)).toEqual([
      0, 0, 0,
    ]);

    const byOffset = await admin.resetOffsets('admin-group', 'admin-orders', { offset: 1_000_000 });
    expect(byOffset.map((p) => p.target)).toEqual(ends); // clamped to the end of each partition
    const byTime = await admin.resetOffsets(
      'admin-group',
      'admin-orders',
      { timestamp: 0 },
      { dryRun: true },
    );
    expect(byTime.map((p) => p.target)).toEqual([0, 0, 0]);
    const latest = await admin.resetOffsets('admin-group', 'admin-orders', 'latest', { dryRun: true });
    expect(latest.map((p) => p.target)).toEqual(ends);

    await admin.deleteGroups(['admin-group']);
    expect((await admin.listGroups()).map((g) => g.groupId)).not.toContain('admin-group');
    const gone = await rejection(admin.deleteGroups(['admin-group']));
    expect(gone).toBeInstanceOf(KafkaProtocolError);
  }, 45_000);
});
