import { parseArgs } from 'node:util';
import { Broker } from './broker.js';
import { BrokerConfigError } from './broker-config.js';
import { createLogger } from './common/logger.js';

/**
 * The broker process: `tsx broker/main.ts --node-id 0 --port 9092 --data-dir ./data/broker-0`.
 * AWS endpoints come from AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL (see cluster/aws-config.ts).
 * On SIGINT/SIGTERM it shuts down gracefully; a second signal exits at once.
 */
const { values } = parseArgs({
  options: {
    'node-id': { type: 'string', default: process.env.SPOOL_NODE_ID ?? '0' },
    host: { type: 'string', default: process.env.SPOOL_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.SPOOL_PORT ?? '9092' },
    'metrics-port': { type: 'string', default: process.env.SPOOL_METRICS_PORT ?? '0' },
    'data-dir': { type: 'string', default: process.env.SPOOL_DATA_DIR },
    'cluster-id': { type: 'string', default: process.env.SPOOL_CLUSTER_ID ?? 'spool-local' },
    'table-prefix': { type: 'string', default: process.env.SPOOL_TABLE_PREFIX },
    'log-level': { type: 'string', default: process.env.SPOOL_LOG_LEVEL ?? 'info' },
  },
  strict: true,
});

// Node 20 is Spool's supported runtime; see README (known limits) for the AWS SDK's plans.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `{ [key]: Number(value) }` when the variable is set (zod then reports a non-number). */
function optionalNumber<K extends string>(key: K, value: string | undefined): Partial<Record<K, number>> {
  return value === undefined || value === '' ? {} : ({ [key]: Number(value) } as Record<K, number>);
}

const logger = createLogger({ name: 'spool-broker', level: values['log-level'] });

async function main(): Promise<void> {
  const broker = await Broker.start(
    {
      nodeId: Number(values['node-id']),
      host: values.host,
      port: Number(values.port),
      metricsPort: Number(values['metrics-port']),
      dataDir: values['data-dir'] ?? '',
      clusterId: values['cluster-id'],
      aws: values['table-prefix'] ? { tablePrefix: values['table-prefix'] } : {},
      logLevel: values['log-level'],
      replicaLagTimeMaxMs: Number(process.env.SPOOL_REPLICA_LAG_TIME_MAX_MS ?? 10_000),
      ...(process.env.SPOOL_DEFAULT_REPLICATION_FACTOR
        ? { defaultReplicationFactor: Number(process.env.SPOOL_DEFAULT_REPLICATION_FACTOR) }
        : {}),
      ...(process.env.SPOOL_RACK ? { rack: process.env.SPOOL_RACK } : {}),
      // Behind a load balancer (the CDK stack) clients must reach the broker at another address.
      ...(process.env.SPOOL_ADVERTISED_HOST ? { advertisedHost: process.env.SPOOL_ADVERTISED_HOST } : {}),
      ...optionalNumber('advertisedPort', process.env.SPOOL_ADVERTISED_PORT),
      lease: {
        leaseMs: Number(process.env.SPOOL_LEASE_MS ?? 3000),
        renewIntervalMs: Number(process.env.SPOOL_LEASE_RENEW_MS ?? 500),
        clockSkewMarginMs: Number(process.env.SPOOL_CLOCK_SKEW_MARGIN_MS ?? 500),
      },
      tiering: {
        enabled: process.env.SPOOL_TIERING !== 'off',
        ...(process.env.SPOOL_ARCHIVE_BUCKET ? { bucket: process.env.SPOOL_ARCHIVE_BUCKET } : {}),
        ...optionalNumber('intervalMs', process.env.SPOOL_TIERING_INTERVAL_MS),
        ...optionalNumber('localRetentionMs', process.env.SPOOL_LOCAL_RETENTION_MS),
        ...optionalNumber('localRetentionBytes', process.env.SPOOL_LOCAL_RETENTION_BYTES),
        ...optionalNumber('uploadTimeoutMs', process.env.SPOOL_UPLOAD_TIMEOUT_MS),
        ...optionalNumber('remoteReadConcurrency', process.env.SPOOL_REMOTE_READ_CONCURRENCY),
      },
      ensureTables: process.env.SPOOL_ENSURE_TABLES !== 'false',
      ...(process.env.SPOOL_CLOUDWATCH_NAMESPACE
        ? {
            cloudWatch: {
              namespace: process.env.SPOOL_CLOUDWATCH_NAMESPACE,
              ...optionalNumber('intervalMs', process.env.SPOOL_CLOUDWATCH_INTERVAL_MS),
              ...(process.env.AWS_ENDPOINT_URL_CLOUDWATCH
                ? { endpoint: process.env.AWS_ENDPOINT_URL_CLOUDWATCH }
                : {}),
            },
          }
        : {}),
      groups: {
        initialRebalanceDelayMs: Number(process.env.SPOOL_GROUP_INITIAL_REBALANCE_DELAY_MS ?? 3000),
        minSessionTimeoutMs: Number(process.env.SPOOL_GROUP_MIN_SESSION_TIMEOUT_MS ?? 6000),
        maxSessionTimeoutMs: Number(process.env.SPOOL_GROUP_MAX_SESSION_TIMEOUT_MS ?? 1_800_000),
      },
    },
    logger,
  );
  // Parent processes (spool dev, tests) read this line to learn the bound ports.
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', nodeId: broker.identity.nodeId, port: broker.port, metricsPort: broker.metricsPort, pid: process.pid })}\n`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    broker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof BrokerConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    logger.fatal({ err: error }, 'broker failed to start');
  }
  process.exit(1);
});
