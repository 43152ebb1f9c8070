import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveMetadataStore } from '../../../archive/archive-metadata-store.js';
import type { ArchiveObjects } from '../../../archive/archive-objects.js';
import { Admin, Producer } from '../../../client/index.js';
import {
  type ClusterArchive,
  openClusterArchive,
  orphanedObjects,
  waitForValue,
} from '../../helpers/cluster-archive.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * `spool dev` runs archive retention on a timer: on a real one-broker cluster that archives tiny
 * segments at once, a topic with retention.ms=3000 loses its archived segments (rows and objects)
 * a few seconds after they were written, and the broker serves the archive's new log start.
 */

const TOPIC = 'short-lived';
let local: Awaited<ReturnType<typeof startLocalCluster>>;
let metadata: ArchiveMetadataStore;
let objects: ArchiveObjects;
let archive: ClusterArchive | undefined;

beforeAll(async () => {
  local = await startLocalCluster({
    retentionIntervalMs: 500,
    brokerEnv: { SPOOL_TIERING_INTERVAL_MS: '300', SPOOL_LOCAL_RETENTION_MS: '0' },
  });
  archive = openClusterArchive(local.cluster.state);
  ({ metadata, objects } = archive);
}, 120_000);

afterAll(async () => {
  archive?.close();
  await local?.stop();
});

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  return waitForValue(what, probe, timeoutMs);
}

describe('the dev cluster retention timer', () => {
  it('deletes expired archived segments and advances the log start the broker serves', async () => {
    const admin = new Admin({ bootstrap: local.bootstrap });
    await admin.createTopics([
      {
        topic: TOPIC,
        partitions: 1,
        replicationFactor: 1,
        configs: { 'segment.bytes': '16384', 'retention.ms': '3000' },
      },
    ]);
    const topicId = (await admin.describeTopics([TOPIC]))[0]!.topicId;
    admin.close();

    const producer = new Producer<string, Buffer>({ bootstrap: local.bootstrap, lingerMs: 2 });
    await Promise.all(
      Array.from({ length: 1500 }, (_, i) => producer.send(TOPIC, { value: Buffer.alloc(100, i % 251) })),
    );
    await producer.close();

    // Everything archived ends up past retention: the start reaches the archive's end.
    const head = await waitFor('retention to empty the archive', async () => {
      const h = await metadata.head(topicId, 0);
      if (!h || h.nextOffset < 500 || h.logStartOffset !== h.nextOffset) return undefined;
      return (await metadata.segments(topicId, 0)).length === 0 ? h : undefined;
    });
    // The expired segments' objects are gone: whatever is left belongs to an upload of a segment
    // sealed since (the topic's active segment keeps rolling into the emptied archive).
    expect(await orphanedObjects({ metadata, objects }, topicId, 0)).toEqual([]);

    const kafka = new Kafka({
      clientId: 'retention-timer',
      brokers: local.bootstrap,
      logLevel: logLevel.NOTHING,
    });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      const low = await waitFor('the broker to serve the new log start', async () => {
        const [p0] = await kafkaAdmin.fetchTopicOffsets(TOPIC);
        return p0 && Number(p0.low) >= head.logStartOffset ? Number(p0.low) : undefined;
      });
      // At least the start retention stored; retention may have moved it further meanwhile.
      expect(low).toBeGreaterThanOrEqual(head.logStartOffset);
    } finally {
      await kafkaAdmin.disconnect();
    }
  }, 90_000);
});
