/**
 * Records the request frames that real Kafka clients send, as golden bytes for the codec tests.
 *
 *   npx tsx test/golden/capture-client-traffic.ts
 *
 * Starts DynamoDB Local and a broker that advertises a recording proxy's port, drives kafkajs and
 * @platformatic/kafka through admin, produce (every codec), consume-in-a-group and offset flows,
 * and writes one sample per (client, api, version) to test/golden/client-requests.json. The
 * capture is committed; re-run it only to add clients or APIs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { Broker } from '../../broker/broker.js';
import { silentLogger } from '../../broker/common/logger.js';
import { freePort, startDynamoDbLocal } from '../../broker/local/emulators.js';
import { API_REGISTRY } from '../../protocol/messages/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

interface Captured {
  client: string;
  api: string;
  apiKey: number;
  apiVersion: number;
  hex: string;
}

const captured = new Map<string, Captured>();
let currentClient = 'none';

/** Splits a byte stream into size-prefixed frames and records each request once per api/version. */
function recordFrames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      onFrame(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'spool-capture-'));
  const dynamo = await startDynamoDbLocal();
  const proxyPort = await freePort();
  const broker = await Broker.start(
    {
      dataDir,
      port: 0,
      advertisedPort: proxyPort,
      aws: { dynamoDbEndpoint: dynamo.endpoint, tablePrefix: 'capture' },
      groups: { initialRebalanceDelayMs: 100, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60000 },
    },
    silentLogger(),
  );
  const proxy = createServer((client) => {
    const upstream = connect(broker.port, '127.0.0.1');
    recordFrames(client, (frame) => {
      const apiKey = frame.readInt16BE(0);
      const apiVersion = frame.readInt16BE(2);
      const key = `${currentClient}/${apiKey}/${apiVersion}`;
      const api = API_REGISTRY.get(apiKey)?.name ?? `api-${apiKey}`;
      if (!captured.has(key))
        captured.set(key, { client: currentClient, api, apiKey, apiVersion, hex: frame.toString('hex') });
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
  const bootstrap = [`127.0.0.1:${proxyPort}`];

  currentClient = 'kafkajs-2.2.4';
  const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: bootstrap, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'golden', numPartitions: 2 }] });
  await admin.createPartitions({ topicPartitions: [{ topic: 'golden', count: 3 }] });
  await admin.describeConfigs({ resources: [{ type: 2, name: 'golden' }], includeSynonyms: false });
  await admin.describeCluster();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'golden',
    acks: -1,
    messages: [{ key: 'k', value: 'v', headers: { h: 'x' }, timestamp: '1700000000000' }],
  });
  await producer.send({
    topic: 'golden',
    acks: 1,
    compression: CompressionTypes.GZIP,
    messages: [{ key: 'k2', value: 'gz' }],
  });
  await producer.disconnect();
  const consumer = kafka.consumer({
    groupId: 'golden-group',
    sessionTimeout: 6000,
    heartbeatInterval: 200,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: 'golden', fromBeginning: true });
  let seen = 0;
  await consumer.run({ eachMessage: async () => void seen++ });
  while (seen < 2) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 800));
  await consumer.disconnect();
  await admin.fetchOffsets({ groupId: 'golden-group', topics: ['golden'] });
  await admin.fetchTopicOffsetsByTimestamp('golden', 1_700_000_000_000);
  await admin.describeGroups(['golden-group']);
  await admin.listGroups();
  await admin.deleteGroups(['golden-group']);
  await admin.deleteTopics({ topics: ['golden'] });
  await admin.disconnect();

  currentClient = 'platformatic-kafka-1.35.0';
  const padmin = new Admin({ clientId: 'golden-platformatic', bootstrapBrokers: bootstrap });
  await padmin.createTopics({ topics: ['golden2'], partitions: 2, replicas: 1 });
  const pproducer = new Producer({
    clientId: 'golden-platformatic',
    bootstrapBrokers: bootstrap,
    serializers: stringSerializers,
    compression: 'gzip',
  });
  await pproducer.send({
    messages: [{ topic: 'golden2', key: 'k', value: 'v', headers: new Map([['h', 'x']]) }],
  });
  await pproducer.close();
  const pconsumer = new Consumer({
    clientId: 'golden-platformatic',
    groupId: 'golden-group2',
    bootstrapBrokers: bootstrap,
    deserializers: stringDeserializers,
    sessionTimeout: 6000,
    heartbeatInterval: 200,
    maxWaitTime: 100,
  });
  const stream = await pconsumer.consume({ topics: ['golden2'], mode: 'earliest', autocommit: 100 });
  for await (const _message of stream) break;
  await new Promise((r) => setTimeout(r, 500));
  await pconsumer.close(true);
  await padmin
    .listConsumerGroupOffsets({
      groups: [{ groupId: 'golden-group2', topics: [{ name: 'golden2', partitionIndexes: [0, 1] }] }],
    })
    .catch(() => undefined);
  await padmin
    .listOffsets({
      topics: [{ name: 'golden2', partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    } as never)
    .catch(() => undefined);
  await padmin.describeGroups({ groups: ['golden-group2'] }).catch(() => undefined);
  await padmin.deleteTopics({ topics: ['golden2'] });
  await padmin.close();

  const samples = [...captured.values()].sort(
    (a, b) => a.client.localeCompare(b.client) || a.apiKey - b.apiKey || a.apiVersion - b.apiVersion,
  );
  await writeFile(
    new URL('./client-requests.json', import.meta.url),
    `${JSON.stringify(samples, null, 1)}\n`,
  );
  process.stdout.write(`captured ${samples.length} request samples\n`);
  proxy.close();
  await broker.stop();
  await dynamo.stop();
  await rm(dataDir, { recursive: true, force: true });
}

await main();
