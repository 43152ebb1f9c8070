import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevCluster } from '../../broker/local/dev-cluster.js';

/**
 * A real local cluster for integration and compatibility tests: DynamoDB Local, s3rver and broker
 * OS processes on loopback, exactly what `spool dev` runs, with short group timings so rebalances
 * finish quickly.
 */
export async function startLocalCluster(
  options: {
    brokers?: number;
    logLevel?: string;
    /**
     * Broker lease length. Tests that kill or pause brokers use the production 3 s so failovers
     * are quick; the rest default to 8 s, so a broker starved of CPU on a loaded 2-core CI machine
     * does not fence itself mid-test (which it must do once its lease lapses).
     */
    leaseMs?: number;
    /** Extra environment for the broker processes (SPOOL_* settings). */
    brokerEnv?: Record<string, string>;
    /** How often the cluster runs archive retention and the orphan sweep (DevCluster's default: 60 s). */
    retentionIntervalMs?: number;
  } = {},
): Promise<{
  cluster: DevCluster;
  bootstrap: string[];
  stop: () => Promise<void>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'spool-cluster-'));
  const cluster = await DevCluster.start({
    dataDir,
    brokers: options.brokers ?? 1,
    basePort: 0,
    inMemoryMetadata: true,
    logLevel: process.env.SPOOL_TEST_LOG_LEVEL ?? options.logLevel ?? 'warn',
    tablePrefix: `t${Date.now().toString(36)}`,
    ...(options.retentionIntervalMs !== undefined
      ? { retentionIntervalMs: options.retentionIntervalMs }
      : {}),
    brokerEnv: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      SPOOL_GROUP_INITIAL_REBALANCE_DELAY_MS: '1500',
      SPOOL_GROUP_MIN_SESSION_TIMEOUT_MS: '1000',
      SPOOL_LEASE_MS: String(options.leaseMs ?? 8000),
      ...options.brokerEnv,
    },
  });
  return {
    cluster,
    bootstrap: cluster.bootstrap.split(','),
    stop: async () => {
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
