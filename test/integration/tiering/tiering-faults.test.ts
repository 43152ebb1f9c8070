import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveMetadataStore } from '../../../archive/archive-metadata-store.js';
import type { ArchiveObjects } from '../../../archive/archive-objects.js';
import { partitionPrefix } from '../../../archive/layout.js';
import { sweepOrphans } from '../../../archive/orphan-sweep.js';
import { Admin, Consumer, Producer, string } from '../../../client/index.js';
import {
  type ClusterArchive,
  openClusterArchive,
  orphanedObjects,
  waitForValue,
} from '../../helpers/cluster-archive.js';
import { FaultyS3Proxy } from '../../helpers/faulty-s3-proxy.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Fault injection around uploads, on a real 2-broker cluster whose S3 traffic goes through a
 * proxy that fails or holds requests. Whatever S3 does, nothing is lost, nothing is served twice,
 * local data that is not archived is never deleted, and no orphaned objects remain.
 */

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let proxy: FaultyS3Proxy;
let metadata: ArchiveMetadataStore;
let objects: ArchiveObjects;
let archive: ClusterArchive | undefined;

beforeAll(async () => {
  proxy = await FaultyS3Proxy.start();
  local = await startLocalCluster({
    brokers: 2,
    leaseMs: 3000,
    brokerEnv: {
      AWS_ENDPOINT_URL_S3: proxy.endpoint,
      SPOOL_TIERING_INTERVAL_MS: '200',
      SPOOL_LOCAL_RETENTION_MS: '0',
      SPOOL_UPLOAD_TIMEOUT_MS: '4000',
    },
  });
  proxy.forwardTo(local.cluster.state.s3Endpoint);
  archive = openClusterArchive(local.cluster.state);
  ({ metadata, objects } = archive);
}, 120_000);

afterAll(async () => {
  archive?.close();
  await local?.stop();
  await proxy?.close();
});

async function createTopic(topic: string): Promise<string> {
  const admin = new Admin({ bootstrap: local.bootstrap });
  try {
    await admin.createTopics([
      { topic, partitions: 1, replicationFactor: 2, configs: { 'segment.bytes': '16384' } },
    ]);
    return (await admin.describeTopics([topic]))[0]!.topicId;
  } finally {
    admin.close();
  }
}

/** Produces `count` distinct records to partition 0; returns their values in offset order. */
async function produce(topic: string, count: number, from = 0): Promise<string[]> {
  const producer = new Producer<null, string>({
    bootstrap: local.bootstrap,
    lingerMs: 2,
    valueSerializer: string,
  });
  const values = Array.from({ length: count }, (_, i) => `${topic}-${from + i}-${'y'.repeat(60)}`);
  await Promise.all(values.map((value) => producer.send(topic, { key: null, value, partition: 0 })));
  await producer.close();
  return values;
}

async function readAll(topic: string, expected: number): Promise<{ offset: number; value: string }[]> {
  const consumer = new Consumer<Buffer, Buffer>({ bootstrap: local.bootstrap, startFrom: 'earliest' });
  consumer.assign([{ topic, partition: 0 }]);
  const records: { offset: number; value: string }[] = [];
  for await (const batch of consumer) {
    for (const r of batch.records) records.push({ offset: r.offset, value: r.value!.toString() });
    if (records.length >= expected) break;
  }
  return records;
}

async function localSegments(topic: string): Promise<number[]> {
  const counts: number[] = [];
  for (const broker of local.cluster.state.brokers) {
    const names = await readdir(join(broker.dataDir, `${topic}-0`)).catch(() => []);
    counts.push(names.filter((n) => n.endsWith('.log')).length);
  }
  return counts;
}

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return waitForValue(what, probe, timeoutMs);
}

async function expectNoOrphans(topicId: string): Promise<void> {
  expect(await orphanedObjects({ metadata, objects }, topicId, 0)).toEqual([]);
}

describe('uploads under S3 faults', () => {
  it('keeps every local segment while S3 fails, then archives everything once it recovers', async () => {
    const topic = 'faults-s3-down';
    const topicId = await createTopic(topic);
    const stopFailing = proxy.fail((r) => r.method === 'PUT' || r.method === 'POST');
    const values = await produce(topic, 1500);
    // Several passes of the tiering loop with every upload failing (the SDK retries each call).
    await new Promise((r) => setTimeout(r, 4000));
    expect(await metadata.head(topicId, 0)).toBeNull();
    for (const count of await localSegments(topic)) expect(count).toBeGreaterThan(4);
    // Consumers are unaffected: everything is still local.
    expect((await readAll(topic, values.length)).map((r) => r.value)).toEqual(values);

    stopFailing();
    await waitFor('uploads to resume and local segments to go', async () => {
      const counts = await localSegments(topic);
      return counts.every((c) => c <= 2) ? counts : undefined;
    });
    const records = await readAll(topic, values.length);
    expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => i));
    expect(records.map((r) => r.value)).toEqual(values);
    // Failed attempts cleaned up after themselves (their markers went first, then their objects).
    await waitFor('markers of failed uploads to go', async () =>
      (await metadata.uploads()).length === 0 ? true : undefined,
    );
    await expectNoOrphans(topicId);
  }, 120_000);

  it('loses nothing and serves nothing twice when the leader dies between upload and commit', async () => {
    const topic = 'faults-leader-killed';
    const topicId = await createTopic(topic);
    const admin = new Admin({ bootstrap: local.bootstrap });
    const leader = (await admin.describeTopics([topic]))[0]!.partitions[0]!.leader;
    admin.close();
    // The snapshot is the last object of an upload: hold it, and kill the leader while it waits.
    const held = proxy.hold(
      (r) => r.method === 'PUT' && r.path.includes(`/${topicId}/0/`) && r.path.includes('.snapshot'),
    );
    const values = await produce(topic, 1500);
    const request = await held.reached;
    await local.cluster.stopBroker(leader, 'SIGKILL');
    held.release();
    // The dead leader's attempt: its objects are in S3 and its marker in DynamoDB, uncommitted.
    const uploadId = /-([0-9a-f-]{36})\.snapshot/.exec(request.path)![1]!;
    const orphan = await waitFor('the abandoned upload marker', async () =>
      (await metadata.uploads()).find((m) => m.uploadId === uploadId),
    );
    expect(orphan.brokerId).toBe(leader);
    expect((await metadata.segments(topicId, 0)).some((s) => s.uploadId === uploadId)).toBe(false);
    // Its log and indexes went up before the snapshot was held: they are the orphans to clean.
    const orphaned = (await objects.list(partitionPrefix(topicId, 0))).filter((o) =>
      o.key.includes(uploadId),
    );
    expect(orphaned.length).toBeGreaterThanOrEqual(4);

    // The other replica takes over and archives the partition itself.
    await waitFor(
      'the new leader to archive the partition',
      async () => {
        const head = await metadata.head(topicId, 0);
        return head && head.nextOffset > 1000 ? head : undefined;
      },
      60_000,
    );
    const records = await readAll(topic, values.length);
    expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => i));
    expect(records.map((r) => r.value)).toEqual(values);

    // Once its marker has expired, the sweep deletes the abandoned attempt's objects.
    await new Promise((r) => setTimeout(r, Math.max(0, orphan.expiresAt - Date.now() + 100)));
    await sweepOrphans({ metadata, objects, graceMs: 60 * 60 * 1000 });
    expect((await metadata.uploads()).filter((m) => m.uploadId === uploadId)).toEqual([]);
    await expectNoOrphans(topicId);

    // The old leader comes back as a follower; the archive and every read stay the same.
    await local.cluster.startBroker(leader);
    await local.cluster.waitUntilHealthy();
    expect((await readAll(topic, values.length)).map((r) => r.value)).toEqual(values);
    await expectNoOrphans(topicId);
  }, 180_000);
});
