import { z } from 'zod';
import { tieringConfigSchema } from './tiering/tiering-config.js';

/** Everything a broker process needs, validated once at start-up. */
export const brokerConfigSchema = z.object({
  nodeId: z.number().int().min(0).default(0),
  /** Address the Kafka listener binds. */
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9092),
  /** Host advertised to clients in Metadata; defaults to `host`. */
  advertisedHost: z.string().optional(),
  /** Port advertised to clients; defaults to the bound port (differs behind NAT or a proxy). */
  advertisedPort: z.number().int().min(1).max(65535).optional(),
  /** Prometheus endpoint; null disables it. */
  metricsPort: z.number().int().min(0).max(65535).nullable().default(0),
  dataDir: z.string().min(1),
  clusterId: z.string().min(1).default('spool-local'),
  rack: z.string().nullable().default(null),
  maxRequestBytes: z
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  maxInFlightRequestsPerConnection: z.number().int().positive().default(64),
  defaultPartitions: z.number().int().positive().default(1),
  /** Replication factor of topics created without one; unset means min(3, live brokers). */
  defaultReplicationFactor: z.number().int().positive().optional(),
  /** Kafka's replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  replicaLagTimeMaxMs: z.number().int().positive().default(10_000),
  /** Broker and controller leases in DynamoDB (see cluster/broker-lease.ts for the safety argument). */
  lease: z
    .object({
      leaseMs: z.number().int().positive().default(3000),
      renewIntervalMs: z.number().int().positive().default(500),
      clockSkewMarginMs: z.number().int().min(0).default(500),
    })
    .default({ leaseMs: 3000, renewIntervalMs: 500, clockSkewMarginMs: 500 })
    .refine(
      (l) => 2 * l.clockSkewMarginMs < l.leaseMs && l.renewIntervalMs < l.leaseMs - l.clockSkewMarginMs,
      {
        message: 'need clockSkewMarginMs < leaseMs / 2 and renewIntervalMs < leaseMs - clockSkewMarginMs',
      },
    ),
  /** How often the controller reconciles and brokers poll the metadata version, in ms. */
  controllerIntervalMs: z.number().int().positive().default(250),
  metadataWatchMs: z.number().int().positive().default(200),
  maxOpenFiles: z.number().int().positive().default(1024),
  flush: z
    .discriminatedUnion('mode', [
      z.object({ mode: z.literal('every-batch') }),
      z.object({ mode: z.literal('interval'), intervalMs: z.number().int().positive() }),
      z.object({ mode: z.literal('os') }),
    ])
    .default({ mode: 'os' }),
  aws: z
    .object({
      region: z.string().optional(),
      dynamoDbEndpoint: z.string().url().optional(),
      s3Endpoint: z.string().url().optional(),
      tablePrefix: z.string().optional(),
    })
    .default({}),
  logLevel: z.string().default('info'),
  /**
   * Create missing DynamoDB tables at start-up (spool dev, tests). Off where the tables are
   * provisioned separately (the CDK stack), so brokers need no CreateTable permission.
   */
  ensureTables: z.boolean().default(true),
  /** Publish replication health to CloudWatch under this namespace (monitoring/cloudwatch-publisher.ts). */
  cloudWatch: z
    .object({
      namespace: z.string().min(1).max(255),
      intervalMs: z.number().int().min(1000).default(60_000),
      endpoint: z.string().url().optional(),
    })
    .optional(),
  /** Tiered storage to S3 (see tiering/remote-log-manager.ts). */
  tiering: tieringConfigSchema.prefault({}),
  groups: z
    .object({
      /** Kafka's group.initial.rebalance.delay.ms: lets consumers starting together share a generation. */
      initialRebalanceDelayMs: z.number().int().min(0).default(3000),
      /** Kafka's group.min.session.timeout.ms and group.max.session.timeout.ms. */
      minSessionTimeoutMs: z.number().int().positive().default(6000),
      maxSessionTimeoutMs: z.number().int().positive().default(1_800_000),
    })
    .default({ initialRebalanceDelayMs: 3000, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 1_800_000 }),
});

export type BrokerConfig = z.infer<typeof brokerConfigSchema>;
export type BrokerConfigInput = z.input<typeof brokerConfigSchema>;

export class BrokerConfigError extends Error {
  override name = 'BrokerConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid broker configuration:\n  ${issues.join('\n  ')}`);
  }
}

export function parseBrokerConfig(input: BrokerConfigInput): BrokerConfig {
  const result = brokerConfigSchema.safeParse(input);
  if (!result.success) {
    throw new BrokerConfigError(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}
