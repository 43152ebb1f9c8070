import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { type AwsSettings, createDynamoDocumentClient } from '../../broker/cluster/aws-config.js';
import { KafkaPromotionTarget } from '../../broker/delay/kafka-promotion-target.js';
import { type DueScanSummary, Promoter, promoteDue } from '../../broker/delay/promoter.js';
import { ALL_SHARDS, ScheduleStore } from '../../broker/delay/schedule-store.js';
import { AWS_ENV, awsSettingsOf, issuesOf, milliseconds, optional, required } from '../common/env.js';
import {
  type LambdaObservability,
  lambdaObservability,
  type SpoolLogLevel,
} from '../common/observability.js';

/**
 * The delayed-promotion Lambda, invoked every minute by EventBridge (in AWS) or by `spool dev`'s
 * local schedule: promotes every schedule that is due and still unfinished, in all shards. Brokers
 * promote schedules on time with their timing wheels; this is what delivers when no broker did
 * (brokers down, a claim that ran out), and it is the same exactly-once Promoter
 * (broker/delay/promoter.ts). Schedules due in the last SPOOL_PROMOTION_GRACE_MS are left to the
 * brokers.
 *
 * Environment: SPOOL_BOOTSTRAP (required: brokers' host:port list), SPOOL_TABLE_PREFIX,
 * AWS_REGION and the endpoint overrides, SPOOL_PROMOTION_GRACE_MS (default 5000), SPOOL_LOG_LEVEL.
 */

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const envSchema = z.object({
  ...AWS_ENV,
  SPOOL_BOOTSTRAP: required(
    z
      .string({ error: 'is required: a comma-separated list of broker host:port' })
      .transform((value) => value.split(',').map((entry) => entry.trim()))
      .refine((entries) => entries.every((entry) => ENDPOINT.test(entry)), 'must be host:port entries'),
  ),
  SPOOL_PROMOTION_GRACE_MS: optional(milliseconds),
});

export interface PromotionLambdaConfig {
  aws: AwsSettings;
  bootstrap: string[];
  graceMs: number;
  logLevel: SpoolLogLevel;
  /** Publish Powertools metrics (default true). */
  metrics?: boolean;
  /** The clock (tests move it forward). */
  now?: () => number;
}

export class PromotionConfigError extends Error {
  override name = 'PromotionConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid delayed-promotion Lambda configuration: ${issues.join('; ')}`);
  }
}

export function promotionConfigFromEnv(): PromotionLambdaConfig {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) throw new PromotionConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  return {
    aws: awsSettingsOf(e),
    bootstrap: e.SPOOL_BOOTSTRAP,
    graceMs: e.SPOOL_PROMOTION_GRACE_MS ?? 5000,
    logLevel: e.SPOOL_LOG_LEVEL ?? 'info',
  };
}

export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

interface Runtime {
  config: PromotionLambdaConfig;
  dynamo: ReturnType<typeof createDynamoDocumentClient>;
  store: ScheduleStore;
  target: KafkaPromotionTarget;
  observability: LambdaObservability;
}

export type PromotionHandler = ((event?: unknown, context?: LambdaContext) => Promise<DueScanSummary>) & {
  dispose(): Promise<void>;
};

export function createPromotionHandler(
  loadConfig: () => PromotionLambdaConfig = () => promotionConfigFromEnv(),
): PromotionHandler {
  let runtime: Runtime | undefined;
  const handle = async (_event?: unknown, context?: LambdaContext) => {
    if (!runtime) {
      const config = loadConfig();
      const dynamo = createDynamoDocumentClient(config.aws);
      runtime = {
        config,
        dynamo,
        store: new ScheduleStore(dynamo, config.aws.tablePrefix),
        target: new KafkaPromotionTarget({
          bootstrap: config.bootstrap,
          clientId: 'spool-delayed-promotion',
        }),
        observability: lambdaObservability('spool-delayed-promotion', {
          logLevel: config.logLevel,
          ...(config.metrics === false ? { metrics: false } : {}),
        }),
      };
    }
    const { config, store, target, observability } = runtime;
    const { logger, metrics, domainLogger } = observability;
    const clock = config.now ?? Date.now;
    const now = clock();
    const promoter = new Promoter(store, target, {
      owner: `lambda-${context?.awsRequestId ?? randomUUID()}`,
      now: clock,
      logger: domainLogger,
    });
    try {
      const summary = await promoteDue({
        store,
        promoter,
        shards: ALL_SHARDS,
        now,
        until: now - config.graceMs,
        logger: domainLogger,
        // Stop starting shards 10 s before the timeout; the next run goes on.
        ...(context ? { deadline: Date.now() + context.getRemainingTimeInMillis() - 10_000 } : {}),
      });
      metrics.addMetric('SchedulesPromoted', MetricUnit.Count, summary.delivered);
      metrics.addMetric('PromotionFailures', MetricUnit.Count, summary.failed);
      logger[summary.failed > 0 ? 'warn' : summary.delivered > 0 ? 'info' : 'debug'](
        'delayed promotion run',
        {
          ...summary,
        },
      );
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
  return Object.assign(handle, {
    async dispose() {
      await runtime?.target.close();
      runtime?.dynamo.destroy();
      runtime = undefined;
    },
  });
}

export const handler = createPromotionHandler();
