import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { Admin } from '../../client/admin/index.js';
import {
  errorReply,
  type FunctionUrlEvent,
  type FunctionUrlResult,
  isConnectionLevel,
  type Reply,
  toResult,
} from './http.js';
import { resolveRequest } from './routes.js';

/**
 * The admin Lambda, behind an IAM-authenticated Function URL: topics and consumer groups over
 * HTTP (routes.ts). It is a Kafka admin client of the running cluster, not a writer of its
 * DynamoDB tables, so topic validation and defaults and group deletion go through the brokers and
 * the group coordinators exactly as they do for `spool topics` or kafkajs. It runs in the
 * brokers' VPC.
 *
 * Environment:
 * - SPOOL_BOOTSTRAP (required): comma-separated host:port list of some brokers;
 * - SPOOL_ADMIN_REQUEST_TIMEOUT_MS (default: the SDK's, 30 s): per broker request;
 * - SPOOL_ADMIN_RETRY_TIMEOUT_MS (default: the SDK's, 30 s): how long an operation retries
 *   retriable errors; keep it below the Lambda's timeout so callers get a 503, not a timeout;
 * - SPOOL_METRICS_NAMESPACE (default "Spool"): CloudWatch namespace of the EMF metrics;
 * - SPOOL_LOG_LEVEL (default "info").
 */

const SERVICE = 'spool-admin';
const DEFAULT_NAMESPACE = 'Spool';

/** Lambda env values are strings; an empty one counts as unset. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
const milliseconds = z
  .string()
  .regex(/^[1-9]\d{0,9}$/, 'must be a positive whole number of milliseconds')
  .transform(Number);

/** The SDK's parseEndpoint syntax: host:port, IPv6 hosts in brackets. */
const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const bootstrap = z
  .string({ error: 'is required: a comma-separated list of broker host:port' })
  .transform((value) => value.split(',').map((entry) => entry.trim()))
  .superRefine((entries, ctx) => {
    for (const entry of entries) {
      const port = Number(ENDPOINT.exec(entry)?.[2] ?? 0);
      if (port < 1 || port > 65_535) ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port` });
    }
  });

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'silent'] as const;
export type AdminLogLevel = (typeof LOG_LEVELS)[number];

const envSchema = z.object({
  SPOOL_BOOTSTRAP: z.preprocess(unsetIfEmpty, bootstrap),
  SPOOL_ADMIN_REQUEST_TIMEOUT_MS: optional(milliseconds),
  SPOOL_ADMIN_RETRY_TIMEOUT_MS: optional(milliseconds),
  SPOOL_METRICS_NAMESPACE: optional(
    z
      .string()
      .regex(/^(?!AWS\/)[A-Za-z0-9 ._/#:-]{1,255}$/, 'must be a CloudWatch namespace (not starting "AWS/")'),
  ),
  // The brokers' pino levels are accepted too ("fatal" is Powertools' "critical").
  SPOOL_LOG_LEVEL: optional(
    z
      .string()
      .transform((level) => level.toLowerCase())
      .transform((level) => (level === 'fatal' ? 'critical' : level))
      .pipe(z.enum(LOG_LEVELS)),
  ),
});

export interface AdminLambdaConfig {
  bootstrap: string[];
  /** Undefined: the SDK's default. */
  requestTimeoutMs?: number;
  /** Undefined: the SDK's default. */
  retryTimeoutMs?: number;
  metricsNamespace: string;
  logLevel: AdminLogLevel;
}

export class AdminConfigError extends Error {
  override name = 'AdminConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid admin Lambda configuration: ${issues.join('; ')}`);
  }
}

/** Reads and validates the configuration from `env`; throws AdminConfigError naming every bad variable. */
export function adminConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AdminLambdaConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Issues inside the bootstrap list have paths like SPOOL_BOOTSTRAP.1; the variable is enough.
    throw new AdminConfigError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    bootstrap: e.SPOOL_BOOTSTRAP,
    requestTimeoutMs: e.SPOOL_ADMIN_REQUEST_TIMEOUT_MS,
    retryTimeoutMs: e.SPOOL_ADMIN_RETRY_TIMEOUT_MS,
    metricsNamespace: e.SPOOL_METRICS_NAMESPACE ?? DEFAULT_NAMESPACE,
    logLevel: e.SPOOL_LOG_LEVEL ?? 'info',
  };
}

/** What Lambda passes as the context; only the request id is used (in the log line). */
export interface LambdaContext {
  awsRequestId?: string;
}

export type AdminHandler = ((
  event: FunctionUrlEvent,
  context?: LambdaContext,
) => Promise<FunctionUrlResult>) & {
  /** Closes the container's Admin (tests; Lambda just freezes the container). */
  close(): void;
};

/**
 * One Admin per container, connected on first use and reused by later invocations. A failed
 * connect is forgotten, and so is an Admin whose call failed at the connection level (the brokers
 * may have moved), so the next invocation starts afresh.
 */
class AdminSlot {
  private current: { admin: Admin; ready: Promise<Admin> } | undefined;

  constructor(private readonly config: AdminLambdaConfig) {}

  get(): Promise<Admin> {
    if (!this.current) {
      const admin = new Admin({
        bootstrap: this.config.bootstrap,
        clientId: SERVICE,
        requestTimeoutMs: this.config.requestTimeoutMs,
        retryTimeoutMs: this.config.retryTimeoutMs,
      });
      const entry = { admin, ready: admin.connect().then(() => admin) };
      entry.ready.catch(() => this.drop(admin));
      this.current = entry;
    }
    return this.current.ready;
  }

  /** Drops `admin` if it is still the current one (a concurrent failure may have replaced it). */
  drop(admin?: Admin): void {
    if (!this.current || (admin && this.current.admin !== admin)) return;
    this.current.admin.close();
    this.current = undefined;
  }
}

interface Runtime {
  config: AdminLambdaConfig;
  logger: Logger;
  metrics: Metrics;
  admin: AdminSlot;
}

function buildRuntime(config: AdminLambdaConfig): Runtime {
  return {
    config,
    logger: new Logger({ serviceName: SERVICE, logLevel: config.logLevel }),
    metrics: new Metrics({ namespace: config.metricsNamespace, serviceName: SERVICE }),
    admin: new AdminSlot(config),
  };
}

/**
 * A handler with its own lazily built Admin, logger and metrics (kept for the container's lifetime,
 * as Lambda reuses containers). `loadConfig` is for tests; the exported `handler` reads the
 * environment. A bad configuration answers 500 on every invocation, naming the bad variables.
 */
export function createAdminHandler(
  loadConfig: () => AdminLambdaConfig = () => adminConfigFromEnv(),
): AdminHandler {
  let runtime: Runtime | undefined;

  const handle = async (event: FunctionUrlEvent, context?: LambdaContext): Promise<FunctionUrlResult> => {
    const started = performance.now();
    try {
      runtime ??= buildRuntime(loadConfig());
    } catch (error) {
      return misconfigured(error, event);
    }
    const { logger, metrics } = runtime;
    let route: string | undefined;
    let reply: Reply;
    let failure: unknown;
    try {
      const resolved = resolveRequest(event);
      route = resolved.route;
      const admin = await runtime.admin.get();
      try {
        reply = await resolved.operation(admin);
      } catch (error) {
        if (isConnectionLevel(error)) runtime.admin.drop(admin);
        throw error;
      }
    } catch (error) {
      const answer = errorReply(error);
      reply = answer.reply;
      if (answer.serverSide) failure = error;
    }

    const status = reply.status;
    const fields = {
      method: event.requestContext.http.method,
      path: event.rawPath,
      ...(route ? { route } : {}),
      status,
      durationMs: Math.round(performance.now() - started),
      ...(event.requestContext.requestId ? { requestId: event.requestContext.requestId } : {}),
      ...(context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {}),
      // Who changed what: the IAM principal that signed the request.
      ...(event.requestContext.authorizer?.iam?.userArn
        ? { caller: event.requestContext.authorizer.iam.userArn }
        : {}),
      ...(status >= 400 ? { errorName: (reply.body as { error?: string } | undefined)?.error } : {}),
    };
    if (failure === undefined) logger.info('admin request', fields);
    else logger.error('admin request', { ...fields, error: failure });

    metrics.addMetric('AdminRequests', MetricUnit.Count, 1);
    // Server-side failures (alarm on these) apart from the callers' mistakes (conflicts, bad requests).
    if (status >= 500) metrics.addMetric('AdminErrors', MetricUnit.Count, 1);
    else if (status >= 400) metrics.addMetric('AdminClientErrors', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return toResult(reply);
  };

  return Object.assign(handle, { close: () => runtime?.admin.drop() });
}

/** Without a valid configuration there is no Admin, and no configured logger or namespace either. */
function misconfigured(error: unknown, event: FunctionUrlEvent): FunctionUrlResult {
  const logger = new Logger({ serviceName: SERVICE });
  const metrics = new Metrics({ namespace: DEFAULT_NAMESPACE, serviceName: SERVICE });
  const message = error instanceof AdminConfigError ? error.message : 'the admin Lambda failed to start';
  logger.error('admin Lambda misconfigured', {
    method: event.requestContext.http.method,
    path: event.rawPath,
    status: 500,
    error,
  });
  metrics.addMetric('AdminRequests', MetricUnit.Count, 1);
  metrics.addMetric('AdminErrors', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return toResult({ status: 500, body: { error: 'AdminConfigError', message } });
}

export const handler = createAdminHandler();
