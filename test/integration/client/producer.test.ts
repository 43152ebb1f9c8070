import { decompress as fzstdDecompress } from 'fzstd';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import lz4js from 'lz4js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../../client/admin/index.js';
import { Consumer } from '../../../client/consumer/index.js';
import { keyPartition } from '../../../client/partitioners.js';
import { type Compression, Producer } from '../../../client/producer/index.js';
import type { RecordMetadata } from '../../../client/producer/record-accumulator.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/** The Spool producer against a real 3-broker cluster (one cluster for the whole file). */

// kafkajs only decodes gzip itself; it reads the other codecs through registered codecs.
const decodeOnly = (decompress: (buffer: Buffer) => Buffer) => () => ({
  compress: async (): Promise<Buffer> => {
    throw new Error('decode only');
  },
  decompress: async (buffer: Buffer) => decompress(buffer),
});
CompressionCodecs[CompressionTypes.Snappy] = createSnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = decodeOnly((b) => Buffer.from(lz4js.decompress(b)));
CompressionCodecs[CompressionTypes.ZSTD] = decodeOnly((b) => Buffer.from(fzstdDecompress(b)));

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let admin: Admin;
let kafka: Kafka;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3, leaseMs: 3000 });
  admin = new Admin({ bootstrap: local.bootstrap, clientId: 'producer-it' });
  await admin.connect();
  kafka = new Kafka({ clientId: 'producer-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  admin?.close();
  await local?.stop();
});

interface Read {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Reads every record of `topics` with kafkajs until `count` records arrived. */
async function readAll(topics: string[], count: number, timeoutMs = 20_000): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: `read-${topics.join('-')}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const out: Read[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      out.push({
        topic,
        partition,
        offset: Number(message.offset),
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
      });
      if (out.length >= count) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  // Give any extra (duplicate) records a moment to show up.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await consumer.disconnect();
  return out;
}

function expectContiguous(results: RecordMetadata[]): void {
  const byPartition = new Map<number, number[]>();
  for (const r of results) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
  for (const offsets of byPartition.values()) {
    offsets.sort((a, b) => a - b);
    expect(offsets).toEqual(offsets.map((_, i) => i));
  }
}

describe('Producer', () => {
  it('produces keyed records with every codec: contiguous offsets, Java partitioning, readable by kafkajs', async () => {
    const codecs: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    const count = 2000;
    await admin.createTopics(
      codecs.map((c) => ({ topic: `codec-${c}`, partitions: 3, replicationFactor: 3 })),
    );
    const expected = new Map<string, Read>();
    for (const compression of codecs) {
      const topic = `codec-${compression}`;
      const producer = new Producer({ bootstrap: local.bootstrap, compression, lingerMs: 10 });
      await producer.connect();
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          producer.send(topic, { key: `key-${i}`, value: `${compression}-${i}`, headers: { h: 'x' } }),
        ),
      );
      await producer.close();
      results.forEach((r, i) => {
        expect(r.topic).toBe(topic);
        expect(r.partition).toBe(keyPartition(`key-${i}`, 3));
        expected.set(`${topic}/${r.partition}/${r.offset}`, {
          topic,
          partition: r.partition,
          offset: r.offset,
          key: `key-${i}`,
          value: `${compression}-${i}`,
        });
      });
      expectContiguous(results);
    }
    const read = await readAll(
      codecs.map((c) => `codec-${c}`),
      expected.size,
    );
    expect(read).toHaveLength(expected.size);
    for (const r of read) expect(r).toEqual(expected.get(`${r.topic}/${r.partition}/${r.offset}`));
  }, 60_000);

  it('produces with acks 1 and acks 0', async () => {
    await admin.createTopics([
      { topic: 'acks-1', partitions: 2, replicationFactor: 3 },
      { topic: 'acks-0', partitions: 2, replicationFactor: 3 },
    ]);
    const one = new Producer({ bootstrap: local.bootstrap, acks: 1, idempotent: false });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => one.send('acks-1', { key: `k${i}`, value: `v${i}` })),
    );
    await one.close();
    expectContiguous(results);

    const zero = new Producer({ bootstrap: local.bootstrap, acks: 0, idempotent: false });
    const fired = await Promise.all(
      Array.from({ length: 300 }, (_, i) => zero.send('acks-0', { key: `k${i}`, value: `v${i}` })),
    );
    await zero.close();
    expect(fired.every((r) => r.offset === -1)).toBe(true);
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    const deadline = Date.now() + 10_000;
    let total = 0;
    while (Date.now() < deadline) {
      const offsets = await kafkaAdmin.fetchTopicOffsets('acks-0');
      total = offsets.reduce((sum, o) => sum + Number(o.high), 0);
      if (total >= 300) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await kafkaAdmin.disconnect();
    expect(total).toBe(300);
  }, 30_000);

  it('keeps an idempotent stream free of duplicates and gaps across a leader SIGKILL; a live SDK consumer misses nothing', async () => {
    const topic = 'failover';
    await admin.createTopics([{ topic, partitions: 3, replicationFactor: 3 }]);
    let victim = -1;
    for (let i = 0; victim < 0 && i < 100; i++) {
      const [described] = await admin.describeTopics([topic]);
      victim = described!.partitions[0]!.leader;
      if (victim < 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(victim).toBeGreaterThanOrEqual(0);

    // Small batches and up to 8 waves outstanding: several batches per partition are in flight
    // (pipelined) when the leader dies.
    const producer = new Producer({
      bootstrap: local.bootstrap,
      lingerMs: 2,
      batchSize: 1024,
      deliveryTimeoutMs: 40_000,
    });
    await producer.connect();
    // A group member reading the topic live, through the failover.
    const consumer = new Consumer({
      bootstrap: local.bootstrap,
      groupId: 'failover-reader',
      startFrom: 'earliest',
    });
    consumer.subscribe(topic);
    const consumed: { value: string; partition: number; offset: number }[] = [];
    const consuming = consumer.run({
      eachMessage: ({ value, partition, offset }) =>
        void consumed.push({ value: value!.toString(), partition, offset }),
    });
    const acked: Array<{ value: string; meta: RecordMetadata }> = [];
    const failed: unknown[] = [];
    let next = 0;
    let stop = false;
    const pump = (async () => {
      const waves: Promise<unknown>[] = [];
      while (!stop) {
        const wave = Array.from({ length: 50 }, () => {
          const value = `f-${next++}`;
          return producer.send(topic, { key: value, value }).then(
            (meta) => acked.push({ value, meta }),
            (error: unknown) => failed.push(error),
          );
        });
        waves.push(Promise.all(wave));
        if (waves.length >= 8) await waves.shift();
        await new Promise((resolve) => setTimeout(resolve, 10)); // ~5k records/s: the reads stay quick
      }
      await Promise.all(waves);
    })();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await local.cluster.stopBroker(victim, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await local.cluster.startBroker(victim);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    stop = true;
    await pump;
    await producer.close();

    expect(failed).toEqual([]);
    expect(acked.length).toBe(next);
    expectContiguous(acked.map((a) => a.meta));
    // Send order is log order within each partition, pipelined batches and retries included.
    const sendOrder = (value: string) => Number(value.slice(2));
    for (const partition of new Set(acked.map((a) => a.meta.partition))) {
      const offsets = acked
        .filter((a) => a.meta.partition === partition)
        .sort((x, y) => sendOrder(x.value) - sendOrder(y.value))
        .map((a) => a.meta.offset);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    }

    // The live consumer saw every acknowledged record, in log order per partition.
    const deadline = Date.now() + 30_000;
    while (new Set(consumed.map((c) => c.value)).size < acked.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await consumer.close();
    await consuming;
    const consumedValues = new Set(consumed.map((c) => c.value));
    expect(acked.filter((a) => !consumedValues.has(a.value)).map((a) => a.value)).toEqual([]);
    for (const partition of [0, 1, 2]) {
      const offsets = consumed.filter((c) => c.partition === partition).map((c) => c.offset);
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    }

    const read = await readAll([topic], acked.length, 30_000);
    const seen = new Map<string, number>();
    for (const r of read) seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
    // No duplicates in the log, and every acknowledged record is there at its acknowledged offset.
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    const byValue = new Map(read.map((r) => [r.value, r]));
    for (const { value, meta } of acked) {
      const found = byValue.get(value);
      expect(found, value).toBeDefined();
      expect([found!.partition, found!.offset]).toEqual([meta.partition, meta.offset]);
    }
  }, 60_000);
});
