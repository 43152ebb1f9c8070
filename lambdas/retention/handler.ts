import { z } from 'zod';
import { type ArchiveMaintenanceSummary, runArchiveMaintenance } from '../../archive/archive-maintenance.js';
import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../archive/archive-objects.js';
import { DEFAULT_ORPHAN_GRACE_MS } from '../../archive/orphan-sweep.js';
import {
  type AwsSettings,
  awsSettingsFromEnv,
  createDynamoDocumentClient,
} from '../../broker/cluster/aws-config.js';
import { tableName } from '../../broker/cluster/tables.js';
import { TopicStore } from '../../broker/cluster/topic-store.js';
import { createLogger, type Logger } from '../../broker/common/logger.js';

/**
 * The retention Lambda, invoked by an EventBridge schedule: one archive maintenance run (archive
 * retention, then the orphan sweep; archive/archive-maintenance.ts) per event. All logic lives
 * in archive/; this reads the configuration, builds the clients once per container and logs.
 *
 * Environment:
 * - SPOOL_TABLE_PREFIX (default "spool"): DynamoDB tables are "<prefix>-archive", "<prefix>-topics";
 * - SPOOL_ARCHIVE_BUCKET (default "spool-archive");
 * - AWS_REGION (set by Lambda); AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
 *   for LocalStack or the local emulators;
 * - SPOOL_ORPHAN_GRACE_MS (default 1 hour): unreferenced objects younger than this are kept;
 * - SPOOL_LOG_LEVEL (default "info").
 */

/** Lambda env values are strings; an empty one counts as unset. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());

const envSchema = z.object({
  SPOOL_TABLE_PREFIX: optional(
    z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'must be 1-200 letters, digits, "_", "." or "-"'),
  ),
  SPOOL_ARCHIVE_BUCKET: optional(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 characters)'),
  ),
  AWS_REGION: optional(z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as eu-west-1')),
  AWS_ENDPOINT_URL_DYNAMODB: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  AWS_ENDPOINT_URL_S3: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  AWS_ENDPOINT_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  SPOOL_ORPHAN_GRACE_MS: optional(
    z.string().regex(/^\d+$/, 'must be a whole number of milliseconds').transform(Number),
  ),
  SPOOL_LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
});

export interface RetentionLambdaConfig {
  aws: AwsSettings;
  bucket: string;
  orphanGraceMs: number;
  logLevel: string;
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
  if (!parsed.success)
    throw new RetentionConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const aws = awsSettingsFromEnv({
    ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
    ...(e.SPOOL_TABLE_PREFIX ? { tablePrefix: e.SPOOL_TABLE_PREFIX } : {}),
    ...((e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL)
      ? { dynamoDbEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL }
      : {}),
    ...((e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL)
      ? { s3Endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL }
      : {}),
  });
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
  logger: Logger;
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
    logger: createLogger({ name: 'spool-retention', level: config.logLevel }),
    metadata: new ArchiveMetadataStore(dynamo, tableName(config.aws.tablePrefix, 'archive')),
    objects: new ArchiveObjects(s3, config.bucket),
    topics: new TopicStore(dynamo, config.aws.tablePrefix),
  };
}

/**
 * A handler with its own lazily built clients (kept for the container's lifetime, as Lambda
 * reuses containers). `loadConfig` is for tests; the exported `handler` reads the environment.
 */
export function createRetentionHandler(
  loadConfig: () => RetentionLambdaConfig = () => retentionConfigFromEnv(),
): (event?: unknown, context?: LambdaContext) => Promise<ArchiveMaintenanceSummary> {
  let runtime: Runtime | undefined;
  return async (_event, context) => {
    // A bad configuration throws here, on every invocation, with the offending variables named.
    runtime ??= buildRuntime(loadConfig());
    const { logger } = runtime;
    const summary = await runArchiveMaintenance({
      metadata: runtime.metadata,
      objects: runtime.objects,
      topics: runtime.topics,
      orphanGraceMs: runtime.config.orphanGraceMs,
      logger,
      ...(context ? { deadline: deadlineOf(context) } : {}),
    });
    const failed = summary.retention.failures + summary.orphans.failures > 0;
    logger[failed ? 'error' : 'info'](
      { event: 'archive-maintenance', ...summary },
      'archive maintenance run',
    );
    return summary;
  };
}

export const handler = createRetentionHandler();
