import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { type ArchiveMaintenanceSummary, runArchiveMaintenance } from '../../archive/archive-maintenance.js';
import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../archive/archive-objects.js';
import { DEFAULT_ORPHAN_GRACE_MS } from '../../archive/orphan-sweep.js';
import { type AwsSettings, createDynamoDocumentClient } from '../../broker/cluster/aws-config.js';
import { tableName } from '../../broker/cluster/tables.js';
import { TopicStore } from '../../broker/cluster/topic-store.js';
import { AWS_ENV, awsSettingsOf, issuesOf, milliseconds, optional } from '../common/env.js';
import {
  type LambdaObservability,
  lambdaObservability,
  type SpoolLogLevel,
} from '../common/observability.js';

/**
 * The retention Lambda, invoked by an EventBridge schedule (in AWS) or by `spool dev`'s local
 * schedule (broker/local/lambda-schedule.ts): one archive maintenance run (archive retention, then
 * the orphan sweep; archive/archive-maintenance.ts) per event. All logic lives in archive/; this
 * reads the configuration, builds the clients once per container, logs and publishes metrics
 * (Powertools: one EMF line per run with what was retired, and failures).
 *
 * Environment:
 * - SPOOL_TABLE_PREFIX (default "spool"): DynamoDB tables are "<prefix>-archive", "<prefix>-topics";
 * - SPOOL_ARCHIVE_BUCKET (default "spool-archive");
 * - AWS_REGION (set by Lambda); AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
 *   for LocalStack or the local emulators;
 * - SPOOL_ORPHAN_GRACE_MS (default 1 hour): unreferenced objects younger than this are kept;
 * - SPOOL_LOG_LEVEL (default "info").
 */

const envSchema = z.object({
  ...AWS_ENV,
  SPOOL_ARCHIVE_BUCKET: optional(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 characters)'),
  ),
  SPOOL_ORPHAN_GRACE_MS: optional(milliseconds),
});

export interface RetentionLambdaConfig {
  aws: AwsSettings;
  bucket: string;
  orphanGraceMs: number;
  logLevel: SpoolLogLevel;
  /** Publish Powertools metrics (EMF on stdout); default true. */
  metrics?: boolean;
}

export class RetentionConfigError extends Error {
  override name = 'RetentionConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid retention Lambda configuration: ${issues.join('; ')}`);
  }
}

/**
 * Reads and validates the configuration from process.env; throws RetentionConfigError naming
 * every bad variable. The AWS part is awsSettingsFromEnv's (the brokers' own rules), fed the
 * validated values so that empty variables count as unset.
 */
export function retentionConfigFromEnv(): RetentionLambdaConfig {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) throw new RetentionConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  const aws = awsSettingsOf(e);
  return {
    aws,
    bucket: e.SPOOL_ARCHIVE_BUCKET ?? 'spool-archive',
    orphanGraceMs: e.SPOOL_ORPHAN_GRACE_MS ?? DEFAULT_ORPHAN_GRACE_MS,
    logLevel: e.SPOOL_LOG_LEVEL ?? 'info',
  };
}

/** What Lambda passes as the context; only the remaining time is used. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** Stop starting partitions this long before the Lambda's timeout; the next run goes on. */
const TIMEOUT_MARGIN_MS = 20_000;

function deadlineOf(context: LambdaContext): number {
  const remaining = context.getRemainingTimeInMillis();
  return Date.now() + remaining - Math.min(TIMEOUT_MARGIN_MS, remaining / 4);
}

interface Runtime {
  config: RetentionLambdaConfig;
  dynamo: ReturnType<typeof createDynamoDocumentClient>;
  observability: LambdaObservability;
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  topics: TopicStore;
}

function buildRuntime(config: RetentionLambdaConfig): Runtime {
  const dynamo = createDynamoDocumentClient(config.aws);
  const s3 = createS3Client({
    region: config.aws.region,
    ...(config.aws.s3Endpoint ? { endpoint: config.aws.s3Endpoint } : {}),
  });
  return {
    config,
    dynamo,
    observability: lambdaObservability('spool-retention', {
      logLevel: config.logLevel,
      ...(config.metrics === false ? { metrics: false } : {}),
    }),
    metadata: new ArchiveMetadataStore(dynamo, tableName(config.aws.tablePrefix, 'archive')),
    objects: new ArchiveObjects(s3, config.bucket),
    topics: new TopicStore(dynamo, config.aws.tablePrefix),
  };
}

export type RetentionHandler = ((
  event?: unknown,
  context?: LambdaContext,
) => Promise<ArchiveMaintenanceSummary>) & {
  /** Closes the clients (local schedules; a Lambda container is simply frozen). */
  dispose(): void;
};

/**
 * A handler with its own lazily built clients (kept for the container's lifetime, as Lambda
 * reuses containers). `loadConfig` is for spool dev and tests; the exported `handler` reads the
 * environment.
 */
export function createRetentionHandler(
  loadConfig: () => RetentionLambdaConfig = () => retentionConfigFromEnv(),
): RetentionHandler {
  let runtime: Runtime | undefined;
  const handle = async (_event?: unknown, context?: LambdaContext) => {
    // A bad configuration throws here, on every invocation, with the offending variables named.
    runtime ??= buildRuntime(loadConfig());
    const { logger, metrics, domainLogger } = runtime.observability;
    try {
      const summary = await runArchiveMaintenance({
        metadata: runtime.metadata,
        objects: runtime.objects,
        topics: runtime.topics,
        orphanGraceMs: runtime.config.orphanGraceMs,
        logger: domainLogger,
        ...(context ? { deadline: deadlineOf(context) } : {}),
      });
      const { retention, orphans } = summary;
      metrics.addMetric('SegmentsRetired', MetricUnit.Count, retention.segmentsDeleted);
      metrics.addMetric('LogStartsAdvanced', MetricUnit.Count, retention.logStartsAdvanced);
      metrics.addMetric('PartitionsRemoved', MetricUnit.Count, retention.partitionsRemoved);
      metrics.addMetric('OrphansDeleted', MetricUnit.Count, orphans.orphansDeleted + orphans.expiredUploads);
      metrics.addMetric('MaintenanceFailures', MetricUnit.Count, retention.failures + orphans.failures);
      const failed = retention.failures + orphans.failures > 0;
      const changed =
        retention.logStartsAdvanced + retention.segmentsDeleted + retention.partitionsRemoved > 0 ||
        orphans.expiredUploads + orphans.orphansDeleted > 0;
      logger[failed ? 'error' : changed ? 'info' : 'debug']('archive maintenance run', { ...summary });
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
  return Object.assign(handle, {
    dispose() {
      runtime?.dynamo.destroy();
      runtime?.objects.s3.destroy();
      runtime = undefined;
    },
  });
}

export const handler = createRetentionHandler();
