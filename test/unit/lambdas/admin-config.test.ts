import { describe, expect, it } from 'vitest';
import { ConnectionError, ErrorCode, KafkaProtocolError, TimeoutError } from '../../../client/errors.js';
import { AdminConfigError, adminConfigFromEnv, createAdminHandler } from '../../../lambdas/admin/handler.js';
import { errorReply, type FunctionUrlEvent, isConnectionLevel } from '../../../lambdas/admin/http.js';
import { captureProcessOutput } from '../../helpers/captured-output.js';

/**
 * The admin Lambda without a cluster: its configuration, the error → status mapping, and that
 * requests failing validation are answered without connecting to any broker.
 */

function configError(env: NodeJS.ProcessEnv): AdminConfigError {
  try {
    adminConfigFromEnv(env);
  } catch (error) {
    if (error instanceof AdminConfigError) return error;
    throw error;
  }
  throw new Error('expected an AdminConfigError');
}

function event(method: string, rawPath: string, body?: string): FunctionUrlEvent {
  return {
    version: '2.0',
    rawPath,
    rawQueryString: '',
    headers: {},
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', http: { method, path: rawPath } },
  };
}

// Powertools' logger and the EMF metrics write straight to the process's streams.
const captured = captureProcessOutput();

describe('admin Lambda configuration', () => {
  it('needs only SPOOL_BOOTSTRAP; the rest has defaults', () => {
    expect(adminConfigFromEnv({ SPOOL_BOOTSTRAP: 'b-1.internal:9092' })).toEqual({
      bootstrap: ['b-1.internal:9092'],
      metricsNamespace: 'Spool',
      logLevel: 'info',
    });
  });

  it('reads every variable; lists are trimmed, empty values count as unset', () => {
    expect(
      adminConfigFromEnv({
        SPOOL_BOOTSTRAP: ' 10.0.1.5:9092, 10.0.2.7:9092 ,[::1]:9093',
        SPOOL_ADMIN_REQUEST_TIMEOUT_MS: '5000',
        SPOOL_ADMIN_RETRY_TIMEOUT_MS: '12000',
        SPOOL_METRICS_NAMESPACE: 'Acme/Spool',
        SPOOL_LOG_LEVEL: 'DEBUG',
      }),
    ).toEqual({
      bootstrap: ['10.0.1.5:9092', '10.0.2.7:9092', '[::1]:9093'],
      requestTimeoutMs: 5000,
      retryTimeoutMs: 12000,
      metricsNamespace: 'Acme/Spool',
      logLevel: 'debug',
    });
    expect(
      adminConfigFromEnv({
        SPOOL_BOOTSTRAP: 'b:9092',
        SPOOL_ADMIN_REQUEST_TIMEOUT_MS: '',
        SPOOL_LOG_LEVEL: 'fatal',
      }),
    ).toEqual({ bootstrap: ['b:9092'], metricsNamespace: 'Spool', logLevel: 'critical' });
  });

  it('names SPOOL_BOOTSTRAP when it is missing or empty', () => {
    for (const env of [{}, { SPOOL_BOOTSTRAP: '' }]) {
      const error = configError(env);
      expect(error.message).toMatch(/^invalid admin Lambda configuration: /);
      expect(error.issues).toEqual([expect.stringMatching(/^SPOOL_BOOTSTRAP: is required/)]);
    }
  });

  it('names SPOOL_BOOTSTRAP and the bad entry when it is not a host:port list', () => {
    for (const bad of ['localhost', 'b-1:9092,,b-2:9092', 'b-1:0', 'b-1:70000', 'http://b-1:9092']) {
      const error = configError({ SPOOL_BOOTSTRAP: bad });
      expect(error.issues.length).toBeGreaterThan(0);
      for (const issue of error.issues) expect(issue).toMatch(/^SPOOL_BOOTSTRAP: ".*" is not host:port$/);
    }
  });

  it('names every bad variable in one error', () => {
    const error = configError({
      SPOOL_ADMIN_REQUEST_TIMEOUT_MS: '5s',
      SPOOL_ADMIN_RETRY_TIMEOUT_MS: '0',
      SPOOL_METRICS_NAMESPACE: 'AWS/Kafka',
      SPOOL_LOG_LEVEL: 'loud',
    });
    expect(error.issues.map((i) => i.split(':')[0]).sort()).toEqual([
      'SPOOL_ADMIN_REQUEST_TIMEOUT_MS',
      'SPOOL_ADMIN_RETRY_TIMEOUT_MS',
      'SPOOL_BOOTSTRAP',
      'SPOOL_LOG_LEVEL',
      'SPOOL_METRICS_NAMESPACE',
    ]);
  });

  it('answers 500 naming the variable when the configuration is bad, and logs it', async () => {
    const handler = createAdminHandler(() => adminConfigFromEnv({}));
    const result = await handler(event('GET', '/topics'));
    expect(result.statusCode).toBe(500);
    const body = JSON.parse(result.body);
    expect(body.error).toBe('AdminConfigError');
    expect(body.message).toContain('SPOOL_BOOTSTRAP');
    const logged = captured.lines.map((line) => line.trim()).filter((line) => line.includes('misconfigured'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: 'ERROR', service: 'spool-admin', status: 500 });
  });
});

describe('admin Lambda error mapping', () => {
  const statusOf = (name: keyof typeof ErrorCode) =>
    errorReply(new KafkaProtocolError(ErrorCode[name])).reply;

  it('maps wire errors by name, then retriability, then the INVALID_ family', () => {
    const expected: [keyof typeof ErrorCode, number][] = [
      ['TOPIC_ALREADY_EXISTS', 409],
      ['UNKNOWN_TOPIC_OR_PARTITION', 404], // retriable on the wire, but "no such topic" here
      ['GROUP_ID_NOT_FOUND', 404],
      ['NON_EMPTY_GROUP', 409],
      ['INVALID_PARTITIONS', 400],
      ['INVALID_REPLICATION_FACTOR', 400],
      ['INVALID_CONFIG', 400],
      ['INVALID_TOPIC_EXCEPTION', 400],
      ['POLICY_VIOLATION', 400],
      ['NOT_COORDINATOR', 503],
      ['LEADER_NOT_AVAILABLE', 503],
      ['UNKNOWN_SERVER_ERROR', 500],
      ['TOPIC_DELETION_DISABLED', 500],
    ];
    for (const [name, status] of expected) {
      const reply = statusOf(name);
      expect({ name, status: reply.status }).toEqual({ name, status });
      expect(reply.body).toMatchObject({ error: name });
    }
    expect(statusOf('NOT_COORDINATOR').headers).toEqual({ 'retry-after': '1' });
  });

  it('answers 503 for connection-level failures, which also drop the Admin', () => {
    for (const error of [new ConnectionError('refused', 'b-1', 9092), new TimeoutError('slow', 100)]) {
      expect(errorReply(error).reply).toMatchObject({ status: 503, body: { error: error.name } });
      expect(isConnectionLevel(error)).toBe(true);
    }
    expect(isConnectionLevel(new KafkaProtocolError(ErrorCode.NOT_COORDINATOR))).toBe(false);
  });

  it('does not leak the message or stack of unexpected errors', () => {
    const answer = errorReply(new TypeError('secret internals at /var/task/x.js:1'));
    expect(answer.serverSide).toBe(true);
    expect(answer.reply.status).toBe(500);
    expect(JSON.stringify(answer.reply.body)).not.toContain('secret');
    expect(answer.reply.body).toEqual({ error: 'InternalError', message: expect.any(String) });
  });
});

describe('admin Lambda request validation', () => {
  it('answers bad requests without connecting to the (unreachable) cluster', async () => {
    // Nothing listens on port 1: a connection attempt would end in a 503 after the retry time.
    const handler = createAdminHandler(() => ({
      bootstrap: ['127.0.0.1:1'],
      retryTimeoutMs: 20_000,
      metricsNamespace: 'SpoolTest',
      logLevel: 'info',
    }));
    try {
      const started = Date.now();
      expect((await handler(event('POST', '/topics', '{"name":'))).statusCode).toBe(400);
      expect((await handler(event('GET', '/topics/no%20spaces'))).statusCode).toBe(400);
      expect((await handler(event('GET', '/nowhere'))).statusCode).toBe(404);
      expect((await handler(event('PUT', '/topics'))).statusCode).toBe(405);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      handler.close();
    }
  });
});
