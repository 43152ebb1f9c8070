import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics/types';
import type { StructuredLogger } from '../../broker/common/logger.js';

/** SPOOL_LOG_LEVEL values (pino's names), as the Lambdas accept them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type SpoolLogLevel = (typeof LOG_LEVELS)[number];

const POWERTOOLS_LEVEL: Record<SpoolLogLevel, LogLevel> = {
  fatal: 'CRITICAL',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'SILENT',
};

/** The part of Powertools' Metrics the handlers use. */
export interface MetricsSink {
  addMetric(name: string, unit: MetricUnit, value: number): unknown;
  publishStoredMetrics(): unknown;
}

const NO_METRICS: MetricsSink = { addMetric: () => undefined, publishStoredMetrics: () => undefined };

export interface LambdaObservability {
  /** Powertools Logger: JSON lines with the Lambda context keys. */
  logger: Logger;
  /** Powertools Metrics: EMF lines that CloudWatch turns into metrics; flushed per invocation. */
  metrics: MetricsSink;
  /** The same logger in the fields-first form the domain modules take (broker/common/logger.ts). */
  domainLogger: StructuredLogger;
}

/**
 * Logging and metrics for a Spool Lambda, from Powertools for AWS Lambda. The namespace comes from
 * POWERTOOLS_METRICS_NAMESPACE (set by the stack) unless given. `metrics: false` drops them: EMF
 * lines are for CloudWatch to ingest, and `spool dev` has no CloudWatch.
 */
export function lambdaObservability(
  service: string,
  options: { logLevel?: SpoolLogLevel; namespace?: string; metrics?: boolean } = {},
): LambdaObservability {
  const logger = new Logger({ serviceName: service, logLevel: POWERTOOLS_LEVEL[options.logLevel ?? 'info'] });
  const metrics =
    options.metrics === false
      ? NO_METRICS
      : new Metrics({
          serviceName: service,
          namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Spool',
        });
  return { logger, metrics, domainLogger: fieldsFirst(logger) };
}

/** Adapts Powertools' (message, fields) order to the domain's (fields, message). */
export function fieldsFirst(logger: Logger): StructuredLogger {
  return {
    info: (fields, message) => logger.info(message, { ...fields }),
    warn: (fields, message) => logger.warn(message, { ...fields }),
    error: (fields, message) => logger.error(message, { ...fields }),
  };
}
