import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MARKER_FILE } from '../../../broker/storage/storage-marker.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { APIS } from '../../../protocol/messages/index.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { partitionRequests } from '../../helpers/partition-requests.js';

/**
 * A broker whose data directory is gone comes back under the same node id: what an ECS task
 * replacement does, since ECS-managed EBS volumes are deleted with their task (cdk/lib/brokers.ts).
 * The empty broker must not lead or count as in sync until it has re-replicated; otherwise it
 * would be elected with an empty log and its followers would truncate to it.
 */

const { CreateTopics: CREATE_TOPICS } = APIS;

let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  env = await startLocalCluster({ brokers: 3, leaseMs: 3000 });
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

const { withBroker, partitionState, produce, readAll } = partitionRequests(
  () => env.cluster,
  'replaced-storage-it',
);

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
      expect(await produce(topic, target, -1, 'before', 50)).toBe(ErrorCode.NONE);

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
      expect(await produce(topic, target, -1, 'after', 1)).toBe(ErrorCode.NONE);
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
