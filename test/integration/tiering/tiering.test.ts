import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveMetadataStore } from '../../../archive/archive-metadata-store.js';
import type { ArchiveObjects } from '../../../archive/archive-objects.js';
import { partitionPrefix } from '../../../archive/layout.js';
import { Admin, Consumer, Producer } from '../../../client/index.js';
import { type ClusterArchive, openClusterArchive, waitForValue } from '../../helpers/cluster-archive.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Tiered storage end to end on a real 2-broker cluster with DynamoDB Local and s3rver: tiny
 * segments and zero local retention, so sealed segments are archived to S3 and deleted locally
 * within a second or two; then consumers from offset 0 (the SDK and kafkajs) must read every
 * record, byte for byte, most of it from S3.
 */

const TOPIC = 'tiered';
const PARTITIONS = 2;
const RECORDS = 3000;

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let metadata: ArchiveMetadataStore;
let objects: ArchiveObjects;
let archive: ClusterArchive | undefined;
let topicId: string;
const produced = new Map<number, { offset: number; value: Buffer; timestamp: number }[]>();
/** Record timestamps as the SDK consumer saw them, by "partition:offset". */
const consumedTimestamps = new Map<string, number>();

beforeAll(async () => {
  local = await startLocalCluster({
    brokers: 2,
    brokerEnv: { SPOOL_TIERING_INTERVAL_MS: '300', SPOOL_LOCAL_RETENTION_MS: '0' },
  });
  archive = openClusterArchive(local.cluster.state);
  ({ metadata, objects } = archive);

  const admin = new Admin({ bootstrap: local.bootstrap });
  await admin.createTopics([
    { topic: TOPIC, partitions: PARTITIONS, replicationFactor: 2, configs: { 'segment.bytes': '16384' } },
  ]);
  topicId = (await admin.describeTopics([TOPIC]))[0]!.topicId;
  admin.close();

  const producer = new Producer<string, Buffer>({ bootstrap: local.bootstrap, lingerMs: 2 });
  const sends = Array.from({ length: RECORDS }, (_, i) => {
    // Distinct, incompressible-ish values so byte comparisons mean something.
    const value = Buffer.from(`record-${i}-${'x'.repeat(i % 50)}-${Math.random().toString(36)}`);
    return producer
      .send(TOPIC, { key: `k${i % 7}`, value })
      .then(({ partition, offset }) => ({ partition, offset, value }));
  });
  for (const { partition, offset, value } of await Promise.all(sends)) {
    const list = produced.get(partition) ?? [];
    list.push({ offset, value, timestamp: 0 });
    produced.set(partition, list);
  }
  await producer.close();
  for (const list of produced.values()) list.sort((a, b) => a.offset - b.offset);
}, 120_000);

afterAll(async () => {
  archive?.close();
  await local?.stop();
});

async function localSegmentFiles(brokerDataDir: string, partition: number): Promise<string[]> {
  const names = await readdir(join(brokerDataDir, `${TOPIC}-${partition}`)).catch(() => []);
  return names.filter((n) => n.endsWith('.log'));
}

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return waitForValue(what, probe, timeoutMs);
}

describe('tiered storage', () => {
  it('archives sealed segments to S3 and deletes them locally on every replica', async () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const last = produced.get(p)!.at(-1)!.offset;
      // Everything but the active segment (about 215 records of 16 KiB) gets archived.
      const head = await waitFor(`archive head of partition ${p}`, async () => {
        const h = await metadata.head(topicId, p);
        return h && h.nextOffset > last - 450 ? h : undefined;
      });
      expect(head.logStartOffset).toBe(0);
      const segments = await metadata.segments(topicId, p);
      expect(segments.length).toBeGreaterThan(3);
      // Contiguous: each segment starts at or before the previous one's end + 1.
      for (let i = 1; i < segments.length; i++)
        expect(segments[i]!.baseOffset).toBeLessThanOrEqual(segments[i - 1]!.endOffset + 1);
      const keys = new Set((await objects.list(partitionPrefix(topicId, p))).map((o) => o.key));
      for (const segment of segments)
        for (const key of Object.values(segment.keys)) expect(keys).toContain(key);
    }
    for (const broker of local.cluster.state.brokers) {
      for (let p = 0; p < PARTITIONS; p++) {
        const files = await waitFor(`local deletion on broker ${broker.nodeId}`, async () => {
          const f = await localSegmentFiles(broker.dataDir, p);
          return f.length <= 2 ? f : undefined;
        });
        expect(files.length).toBeLessThanOrEqual(2);
      }
    }
    // No upload marker is left behind by successful uploads (one may still be in progress).
    await waitFor('uploads in progress to finish', async () =>
      (await metadata.uploads()).length === 0 ? true : undefined,
    );
  }, 60_000);

  it('serves every record from offset 0 to the SDK consumer, byte for byte, in order', async () => {
    const consumer = new Consumer<Buffer, Buffer>({ bootstrap: local.bootstrap, startFrom: 'earliest' });
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
    const received = new Map<number, { offset: number; value: Buffer }[]>();
    let count = 0;
    for await (const batch of consumer) {
      const list = received.get(batch.partition) ?? [];
      for (const r of batch.records) {
        list.push({ offset: r.offset, value: r.value! });
        consumedTimestamps.set(`${batch.partition}:${r.offset}`, r.timestamp);
      }
      received.set(batch.partition, list);
      count += batch.records.length;
      if (count >= RECORDS) break;
    }
    for (let p = 0; p < PARTITIONS; p++) {
      const want = produced.get(p)!;
      const got = received.get(p)!;
      expect(got.map((r) => r.offset)).toEqual(want.map((r) => r.offset));
      for (let i = 0; i < want.length; i++) expect(got[i]!.value.equals(want[i]!.value)).toBe(true);
    }
  }, 60_000);

  it('serves every record from the beginning to kafkajs, and lists 0 as the earliest offset', async () => {
    const kafka = new Kafka({ clientId: 'tiering-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();
    for (const o of offsets) expect(o.low).toBe('0');

    const consumer = kafka.consumer({
      groupId: 'tiering-kafkajs',
      sessionTimeout: 6000,
      heartbeatInterval: 500,
    });
    const received = new Map<number, Buffer[]>();
    let count = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const list = received.get(partition) ?? [];
        list.push(message.value!);
        received.set(partition, list);
        count++;
      },
    });
    await waitFor('kafkajs to read everything', async () => (count >= RECORDS ? true : undefined), 45_000);
    await consumer.disconnect();
    for (let p = 0; p < PARTITIONS; p++) {
      const want = produced.get(p)!.map((r) => r.value);
      const got = received.get(p)!;
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i]!.equals(want[i]!)).toBe(true);
    }
  }, 60_000);

  it('finds offsets by timestamp in the archive', async () => {
    // A timestamp of a record well inside the archived range: the answer is the first offset
    // whose timestamp is at or after it.
    const target = consumedTimestamps.get('0:300')!;
    let expected = -1;
    for (let offset = 0; expected < 0; offset++)
      if (consumedTimestamps.get(`0:${offset}`)! >= target) expected = offset;
    const kafka = new Kafka({ clientId: 'tiering-ts', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [found] = (await admin.fetchTopicOffsetsByTimestamp(TOPIC, target)).filter(
        (o) => o.partition === 0,
      );
      expect(found!.offset).toBe(String(expected));
    } finally {
      await admin.disconnect();
    }
  }, 30_000);
});

describe('tiering metrics', () => {
  it('counts uploads, local deletions and remote reads on the brokers', async () => {
    const totals = new Map<string, number>();
    for (const broker of local.cluster.state.brokers) {
      const text = await (await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`)).text();
      for (const match of text.matchAll(/^(spool_tiering_[a-z_]+) (\d+(?:\.\d+)?)$/gm))
        totals.set(match[1]!, (totals.get(match[1]!) ?? 0) + Number(match[2]));
    }
    expect(totals.get('spool_tiering_segments_uploaded_total')).toBeGreaterThan(5);
    expect(totals.get('spool_tiering_uploaded_bytes_total')).toBeGreaterThan(100_000);
    expect(totals.get('spool_tiering_local_segments_deleted_total')).toBeGreaterThan(5);
    expect(totals.get('spool_tiering_remote_reads_total')).toBeGreaterThan(0);
    expect(totals.get('spool_tiering_remote_read_bytes_total')).toBeGreaterThan(100_000);
    expect(totals.get('spool_tiering_remote_reads_queued')).toBe(0);
  });
});

describe('the archive log start offset', () => {
  it('is honoured once retention moves it: earliest is the new start, below it is OFFSET_OUT_OF_RANGE', async () => {
    const head = (await metadata.head(topicId, 1))!;
    const segments = await metadata.segments(topicId, 1);
    const newStart = segments[1]!.endOffset + 1;
    expect(newStart).toBeLessThan(head.nextOffset);
    // What the retention Lambda does first; brokers must honour it before any object is deleted.
    expect(await metadata.advanceLogStart(topicId, 1, newStart)).toBe(true);

    const kafka = new Kafka({
      clientId: 'tiering-start',
      brokers: local.bootstrap,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const low = await waitFor('the broker to see the new start', async () => {
      const offsets = await admin.fetchTopicOffsets(TOPIC);
      const p1 = offsets.find((o) => o.partition === 1)!;
      return p1.low === String(newStart) ? p1.low : undefined;
    });
    await admin.disconnect();
    expect(low).toBe(String(newStart));

    // An SDK consumer positioned below the start gets OFFSET_OUT_OF_RANGE and resets to earliest.
    const consumer = new Consumer<Buffer, Buffer>({ bootstrap: local.bootstrap, startFrom: 'earliest' });
    consumer.assign([{ topic: TOPIC, partition: 1 }]);
    consumer.seek({ topic: TOPIC, partition: 1 }, 5);
    for await (const batch of consumer) {
      expect(batch.records[0]!.offset).toBe(newStart);
      const want = produced.get(1)!.find((r) => r.offset === newStart)!;
      expect(batch.records[0]!.value!.equals(want.value)).toBe(true);
      break;
    }
  }, 60_000);
});
