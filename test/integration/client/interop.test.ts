import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../../client/admin/index.js';
import { Consumer, type ConsumerRecord } from '../../../client/consumer/index.js';
import { type Compression, Producer } from '../../../client/producer/index.js';
import { string } from '../../../client/serializers.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * The Spool SDK and kafkajs on one 3-broker cluster: the same keys land on the same partitions
 * from either producer, records written by one are read intact by the other (every codec the
 * writer can produce), and offsets committed by one are where the other resumes.
 */

CompressionCodecs[CompressionTypes.Snappy] = createSnappyCodec;

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let admin: Admin;
let kafka: Kafka;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3 });
  admin = new Admin({ bootstrap: local.bootstrap, clientId: 'interop-it' });
  await admin.connect();
  kafka = new Kafka({ clientId: 'interop-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  admin?.close();
  await local?.stop();
});

const KEYS = Array.from({ length: 300 }, (_, i) => `user-${i * 7919}`);

async function topic(name: string, partitions = 6): Promise<string> {
  const full = `${name}-${Date.now().toString(36)}`;
  await admin.createTopics([{ topic: full, partitions, replicationFactor: 3 }]);
  return full;
}

/** Reads `count` records of `name` from the beginning with the Spool consumer (no group). */
async function readWithSdk(name: string, partitions: number, count: number) {
  const consumer = new Consumer<string, string>({
    bootstrap: local.bootstrap,
    startFrom: 'earliest',
    keyDeserializer: string,
    valueDeserializer: string,
  });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: name, partition })));
  const records: ConsumerRecord<string, string>[] = [];
  for await (const batch of consumer) {
    records.push(...batch.records);
    if (records.length >= count) break;
  }
  return records;
}

describe('Spool SDK <-> kafkajs', () => {
  it('maps keys to the same partitions from both producers', async () => {
    const [fromSdk, fromKafkajs] = [await topic('keys-sdk'), await topic('keys-kafkajs')];
    const producer = new Producer({ bootstrap: local.bootstrap });
    const sdk = await Promise.all(KEYS.map((key) => producer.send(fromSdk, { key, value: 'v' })));
    await producer.close();
    const theirs = kafka.producer();
    await theirs.connect();
    const kafkajs = await theirs.send({
      topic: fromKafkajs,
      messages: KEYS.map((key) => ({ key, value: 'v' })),
    });
    await theirs.disconnect();
    // kafkajs reports per-partition base offsets; read back to learn each key's partition.
    expect(kafkajs.length).toBeGreaterThan(1);
    const read = await readWithSdk(fromKafkajs, 6, KEYS.length);
    const kafkajsPartition = new Map(read.map((r) => [r.key, r.partition]));
    KEYS.forEach((key, i) => {
      expect(kafkajsPartition.get(key), key).toBe(sdk[i]!.partition);
    });
  });

  it('the SDK consumer reads what kafkajs wrote, with every codec kafkajs can write', async () => {
    for (const [codec, compression] of [
      ['none', CompressionTypes.None],
      ['gzip', CompressionTypes.GZIP],
      ['snappy', CompressionTypes.Snappy],
    ] as const) {
      const name = await topic(`from-kafkajs-${codec}`, 3);
      const theirs = kafka.producer();
      await theirs.connect();
      await theirs.send({
        topic: name,
        compression,
        messages: KEYS.map((key, i) => ({ key, value: `value-${i}`, headers: { seq: String(i) } })),
      });
      await theirs.disconnect();
      const read = await readWithSdk(name, 3, KEYS.length);
      expect(read).toHaveLength(KEYS.length);
      for (const r of read) {
        const i = Number(r.headers.find((h) => h.key === 'seq')!.value!.toString());
        expect(r.key, codec).toBe(KEYS[i]);
        expect(r.value, codec).toBe(`value-${i}`);
      }
    }
  });

  it('kafkajs reads what the SDK wrote; the SDK consumer reads every codec the SDK writes', async () => {
    for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as Compression[]) {
      const name = await topic(`from-sdk-${compression}`, 3);
      const producer = new Producer({ bootstrap: local.bootstrap, compression, lingerMs: 5 });
      await Promise.all(KEYS.map((key, i) => producer.send(name, { key, value: `value-${i}` })));
      await producer.close();
      const read = await readWithSdk(name, 3, KEYS.length);
      expect(new Set(read.map((r) => r.value)).size, compression).toBe(KEYS.length);
    }
    const name = await topic('sdk-to-kafkajs', 3);
    const producer = new Producer({ bootstrap: local.bootstrap, compression: 'gzip' });
    await Promise.all(KEYS.map((key, i) => producer.send(name, { key, value: `value-${i}` })));
    await producer.close();
    const theirs = kafka.consumer({ groupId: `kjs-${name}` });
    await theirs.connect();
    await theirs.subscribe({ topic: name, fromBeginning: true });
    const values = new Set<string>();
    await new Promise<void>((resolve) => {
      void theirs.run({
        eachMessage: async ({ message }) => {
          values.add(message.value!.toString());
          if (values.size === KEYS.length) resolve();
        },
      });
    });
    await theirs.disconnect();
    expect(values.size).toBe(KEYS.length);
  });

  it('a kafkajs consumer resumes where the SDK consumer committed, in the same group', async () => {
    const name = await topic('handoff', 3);
    const groupId = `g-${name}`;
    const producer = new Producer({ bootstrap: local.bootstrap });
    await Promise.all(KEYS.map((key, i) => producer.send(name, { key, value: `value-${i}` })));

    const ours = new Consumer<string, string>({
      bootstrap: local.bootstrap,
      groupId,
      startFrom: 'earliest',
      valueDeserializer: string,
    });
    ours.subscribe(name);
    const seenBySdk = new Set<string>();
    for await (const batch of ours) {
      for (const r of batch.records) seenBySdk.add(r.value!);
      if (seenBySdk.size === KEYS.length) {
        await ours.commit(ours.offsetsAfter(batch)); // leaving the loop does not count the batch in hand
        break;
      }
    }
    const more = Array.from({ length: 30 }, (_, i) => `later-${i}`);
    await Promise.all(more.map((value) => producer.send(name, { value })));
    await producer.close();

    const theirs = kafka.consumer({ groupId });
    await theirs.connect();
    await theirs.subscribe({ topic: name, fromBeginning: true });
    const seenByKafkajs: string[] = [];
    await new Promise<void>((resolve) => {
      void theirs.run({
        eachMessage: async ({ message }) => {
          seenByKafkajs.push(message.value!.toString());
          if (seenByKafkajs.length >= more.length) resolve();
        },
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    await theirs.disconnect();
    expect(seenByKafkajs.sort()).toEqual([...more].sort());
  });
});
