import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminHandler, createAdminHandler } from '../../../lambdas/admin/handler.js';
import type { FunctionUrlEvent } from '../../../lambdas/admin/http.js';
import { captureProcessOutput } from '../../helpers/captured-output.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * The admin Lambda's handler against a real 1-broker cluster, invoked with the Function URL
 * (payload format 2.0) events Lambda would pass it.
 */

let env: Awaited<ReturnType<typeof startLocalCluster>>;
let handler: AdminHandler;
let kafka: Kafka;

beforeAll(async () => {
  env = await startLocalCluster({ brokers: 1 });
  handler = createAdminHandler(() => ({
    bootstrap: env.bootstrap,
    retryTimeoutMs: 10_000,
    metricsNamespace: 'SpoolTest',
    logLevel: 'info',
  }));
  kafka = new Kafka({ clientId: 'admin-lambda-it', brokers: env.bootstrap, logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  handler?.close();
  await env?.stop();
});

// Powertools' logger and the EMF metrics write straight to the process's streams.
const captured = captureProcessOutput();

// biome-ignore lint/suspicious/noExplicitAny: log lines are arbitrary JSON
function jsonLines(): any[] {
  return captured.lines.flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

interface RequestOptions {
  body?: unknown;
  /** Sent as is, not JSON-encoded. */
  rawBody?: string;
  base64?: boolean;
  query?: string;
}

function urlEvent(method: string, rawPath: string, options: RequestOptions = {}): FunctionUrlEvent {
  let body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && options.base64) body = Buffer.from(body).toString('base64');
  return {
    version: '2.0',
    rawPath,
    rawQueryString: options.query ?? '',
    headers: { 'content-type': 'application/json', host: 'abc.lambda-url.eu-west-1.on.aws' },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      http: { method, path: rawPath, sourceIp: '10.0.0.1' },
      authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/ops', accountId: '123456789012' } },
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  json: any;
  raw: string;
}

async function call(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const result = await handler(urlEvent(method, path, options), { awsRequestId: 'lambda-req' });
  return {
    status: result.statusCode,
    headers: result.headers,
    json: result.body === '' ? undefined : JSON.parse(result.body),
    raw: result.body,
  };
}

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const configValue = (
  description: { configs: { name: string; value: string | null; source: string }[] },
  name: string,
) => description.configs.find((c) => c.name === name);

describe('admin Lambda: cluster and topics', () => {
  it('describes the cluster', async () => {
    const { status, json } = await call('GET', '/cluster');
    expect(status).toBe(200);
    expect(json.clusterId).toEqual(expect.any(String));
    expect(json.brokers).toHaveLength(1);
    expect(json.brokers[0].nodeId).toBe(json.controllerId);
  });

  it('creates, lists, describes, grows, reconfigures and deletes a topic', async () => {
    const created = await call('POST', '/topics', {
      body: { name: 'lambda-orders', partitions: 2, configs: { 'retention.ms': '3600000' } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/topics/lambda-orders');
    expect(created.json.name).toBe('lambda-orders');
    expect(created.json.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1]);
    expect(configValue(created.json, 'retention.ms')).toMatchObject({ value: '3600000', source: 'topic' });

    const again = await call('POST', '/topics', { body: { name: 'lambda-orders' } });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      error: 'TOPIC_ALREADY_EXISTS',
      message: expect.stringContaining('lambda-orders'),
    });

    // validateOnly: checked by the broker, nothing created (the body may come base64-encoded).
    const validated = await call('POST', '/topics', {
      body: { name: 'lambda-never', partitions: 3, validateOnly: true },
      base64: true,
    });
    expect(validated).toMatchObject({ status: 200, json: { valid: true } });
    // The broker, not the Lambda, knows there is one broker: a replication factor of 3 is invalid.
    const tooReplicated = await call('POST', '/topics', {
      body: { name: 'lambda-rf', replicationFactor: 3 },
    });
    expect(tooReplicated).toMatchObject({ status: 400, json: { error: 'INVALID_REPLICATION_FACTOR' } });

    const listed = await call('GET', '/topics');
    expect(listed.status).toBe(200);
    expect(listed.json.topics).toContain('lambda-orders');
    expect(listed.json.topics).not.toContain('lambda-never');
    expect(listed.json.topics).not.toContain('lambda-rf');

    const described = await call('GET', '/topics/lambda-orders');
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({ name: 'lambda-orders', isInternal: false });
    expect(described.json.partitions).toHaveLength(2);

    const grown = await call('POST', '/topics/lambda-orders/partitions', { body: { count: 4 } });
    expect(grown.status).toBe(200);
    expect(grown.json.partitions).toHaveLength(4);
    const shrunk = await call('POST', '/topics/lambda-orders/partitions', { body: { count: 2 } });
    expect(shrunk).toMatchObject({ status: 400, json: { error: 'INVALID_PARTITIONS' } });

    const altered = await call('PATCH', '/topics/lambda-orders/configs', {
      body: { configs: { 'retention.ms': null, 'cleanup.policy': 'compact' } },
    });
    expect(altered.status).toBe(200);
    expect(configValue(altered.json, 'cleanup.policy')).toMatchObject({ value: 'compact', source: 'topic' });
    expect(configValue(altered.json, 'retention.ms')).toMatchObject({ source: 'default' });

    const checked = await call('PATCH', '/topics/lambda-orders/configs', {
      body: { configs: { 'segment.ms': '60000' }, validateOnly: true },
    });
    expect(checked).toMatchObject({ status: 200, json: { valid: true } });
    expect(configValue((await call('GET', '/topics/lambda-orders')).json, 'segment.ms')).toMatchObject({
      source: 'default',
    });

    const invalid = await call('PATCH', '/topics/lambda-orders/configs', {
      body: { configs: { 'retention.ms': 'soon' } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({
      error: 'INVALID_CONFIG',
      message: expect.stringContaining('retention.ms'),
    });
    const unknownTopic = await call('PATCH', '/topics/lambda-nope/configs', {
      body: { configs: { 'retention.ms': '1000' } },
    });
    expect(unknownTopic).toMatchObject({ status: 404, json: { error: 'UNKNOWN_TOPIC_OR_PARTITION' } });

    const deleted = await call('DELETE', '/topics/lambda-orders');
    expect(deleted.status).toBe(204);
    expect(deleted.raw).toBe('');
    // Brokers learn the deletion within a moment; until then the topic still describes.
    await until(async () => (await call('GET', '/topics/lambda-orders')).status === 404);
    const gone = await call('GET', '/topics/lambda-orders');
    expect(gone.json).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(gone.json.message).not.toMatch(/\bat\b.*\.(ts|js):\d+/); // no stack trace
    expect((await call('DELETE', '/topics/lambda-orders')).status).toBe(404);
  }, 60_000);

  it('logs one structured line per request and publishes EMF metrics', async () => {
    await call('GET', '/topics');
    await call('GET', '/topics/lambda-absent');
    const logs = jsonLines().filter((entry) => entry.message === 'admin request');
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatchObject({
      level: 'INFO',
      service: 'spool-admin',
      method: 'GET',
      path: '/topics',
      route: '/topics',
      status: 200,
      durationMs: expect.any(Number),
      awsRequestId: 'lambda-req',
      caller: 'arn:aws:iam::123456789012:user/ops',
    });
    expect(logs[1]).toMatchObject({
      path: '/topics/lambda-absent',
      status: 404,
      errorName: 'UNKNOWN_TOPIC_OR_PARTITION',
    });

    const emf = jsonLines().filter((entry) => entry._aws?.CloudWatchMetrics);
    expect(emf).toHaveLength(2);
    for (const entry of emf) {
      expect(entry._aws.CloudWatchMetrics[0].Namespace).toBe('SpoolTest');
      expect(entry).toMatchObject({ service: 'spool-admin', AdminRequests: 1 });
      expect(entry.AdminErrors).toBeUndefined();
    }
    expect(emf[0].AdminClientErrors).toBeUndefined();
    expect(emf[1].AdminClientErrors).toBe(1);
  });
});

describe('admin Lambda: consumer groups', () => {
  it('lists, describes with offsets, resets offsets and deletes a group', async () => {
    expect((await call('POST', '/topics', { body: { name: 'lambda-events', partitions: 3 } })).status).toBe(
      201,
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'lambda-events',
      acks: -1,
      // Ten records per partition, so every partition gets a committed offset.
      messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    });
    await producer.disconnect();

    // A consumer that reads everything commits its offsets: that creates the group.
    const consumer = kafka.consumer({
      groupId: 'lambda-group',
      sessionTimeout: 6000,
      heartbeatInterval: 500,
    });
    let consumed = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'lambda-events', fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        consumed++;
      },
    });
    try {
      await until(async () => consumed >= 30, 20_000);
      const active = await call('GET', '/groups/lambda-group');
      expect(active.status).toBe(200);
      expect(active.json.members).toHaveLength(1);
      // While the group has members, it can be neither deleted nor reset.
      expect(await call('DELETE', '/groups/lambda-group')).toMatchObject({
        status: 409,
        json: { error: 'NON_EMPTY_GROUP' },
      });
      expect(
        await call('POST', '/groups/lambda-group/offsets', {
          body: { topic: 'lambda-events', to: 'earliest' },
        }),
      ).toMatchObject({ status: 409, json: { error: 'UNKNOWN_MEMBER_ID' } });
    } finally {
      await consumer.disconnect();
    }

    const listed = await call('GET', '/groups');
    expect(listed.status).toBe(200);
    expect(listed.json.groups).toContainEqual(
      expect.objectContaining({ groupId: 'lambda-group', protocolType: 'consumer' }),
    );

    const described = await call('GET', '/groups/lambda-group');
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({ groupId: 'lambda-group', state: 'Empty', members: [] });
    const offsets: { topic: string; partition: number; offset: number }[] = described.json.offsets;
    expect(offsets.map((o) => o.topic)).toEqual(['lambda-events', 'lambda-events', 'lambda-events']);
    const byPartition = (list: typeof offsets) =>
      [...list].sort((a, b) => a.partition - b.partition).map((o) => o.offset);
    const ends = byPartition(offsets);
    expect(ends).toEqual([10, 10, 10]);

    const dry = await call('POST', '/groups/lambda-group/offsets', {
      body: { topic: 'lambda-events', to: 'earliest', dryRun: true },
    });
    expect(dry.status).toBe(200);
    expect(dry.json.dryRun).toBe(true);
    expect(dry.json.plan.map((p: { current: number; target: number }) => [p.current, p.target])).toEqual(
      ends.map((end) => [end, 0]),
    );
    // A dry run changes nothing.
    expect(byPartition((await call('GET', '/groups/lambda-group')).json.offsets)).toEqual([10, 10, 10]);

    const applied = await call('POST', '/groups/lambda-group/offsets', {
      body: { topic: 'lambda-events', to: { offset: 4 } },
    });
    expect(applied).toMatchObject({ status: 200, json: { dryRun: false } });
    expect(applied.json.plan.map((p: { target: number }) => p.target)).toEqual([4, 4, 4]);
    expect(byPartition((await call('GET', '/groups/lambda-group')).json.offsets)).toEqual([4, 4, 4]);

    expect((await call('DELETE', '/groups/lambda-group')).status).toBe(204);
    expect(await call('GET', '/groups/lambda-group')).toMatchObject({
      status: 404,
      json: { error: 'GROUP_ID_NOT_FOUND' },
    });
    expect(await call('DELETE', '/groups/lambda-group')).toMatchObject({
      status: 404,
      json: { error: 'GROUP_ID_NOT_FOUND' },
    });
    expect(
      (await call('GET', '/groups')).json.groups.map((g: { groupId: string }) => g.groupId),
    ).not.toContain('lambda-group');
  }, 60_000);
});

describe('admin Lambda: bad requests', () => {
  it('answers 400 for invalid JSON, bad topic names, schema violations and query parameters', async () => {
    const badJson = await call('POST', '/topics', { rawBody: '{"name": "x",' });
    expect(badJson).toMatchObject({ status: 400, json: { error: 'BadRequest' } });
    expect(badJson.json.message).toMatch(/not valid JSON/);

    const noBody = await call('POST', '/topics');
    expect(noBody).toMatchObject({ status: 400, json: { error: 'BadRequest' } });

    for (const path of ['/topics/bad%20name', '/topics/a%2Fb', '/topics/..', `/topics/${'x'.repeat(250)}`]) {
      const answer = await call('GET', path);
      expect({ path, status: answer.status, error: answer.json.error }).toEqual({
        path,
        status: 400,
        error: 'BadRequest',
      });
      expect(answer.json.issues[0].path).toEqual(['name']);
    }
    expect((await call('GET', '/topics/bad%ZZ')).status).toBe(400);

    const badName = await call('POST', '/topics', { body: { name: 'no spaces please' } });
    expect(badName.status).toBe(400);
    expect(badName.json.issues).toEqual([{ path: ['name'], message: expect.stringContaining('topic name') }]);

    const schema = await call('POST', '/topics', { body: { name: 'lambda-x', partitions: 0, replicas: 3 } });
    expect(schema.status).toBe(400);
    expect(schema.json.issues.map((i: { path: string[] }) => i.path[0] ?? '').sort()).toEqual([
      '',
      'partitions',
    ]);

    const badTarget = await call('POST', '/groups/g/offsets', {
      body: { topic: 'lambda-x', to: 'yesterday' },
    });
    expect(badTarget).toMatchObject({ status: 400, json: { error: 'BadRequest' } });
    expect(badTarget.json.issues[0].path).toEqual(['to']);

    const noConfigs = await call('PATCH', '/topics/lambda-x/configs', { body: { configs: {} } });
    expect(noConfigs.status).toBe(400);
    const numberValue = await call('PATCH', '/topics/lambda-x/configs', {
      body: { configs: { 'retention.ms': 1000 } },
    });
    expect(numberValue.status).toBe(400);
    expect(numberValue.json.issues[0].path).toEqual(['configs', 'retention.ms']);

    const query = await call('GET', '/topics', { query: 'limit=10' });
    expect(query).toMatchObject({ status: 400, json: { error: 'BadRequest' } });
    expect(query.json.message).toContain('limit');

    // None of these reached the broker.
    expect((await call('GET', '/topics')).json.topics).not.toContain('lambda-x');
  });

  it('answers 404 for unknown routes and 405 with allow for a wrong method', async () => {
    for (const path of ['/', '/topic', '/topics/a/b', '/groups/g/members', '/topics//partitions']) {
      const answer = await call('GET', path);
      expect({ path, status: answer.status, error: answer.json.error }).toEqual({
        path,
        status: 404,
        error: 'NotFound',
      });
    }
    const put = await call('PUT', '/topics');
    expect(put).toMatchObject({ status: 405, json: { error: 'MethodNotAllowed' } });
    expect(put.headers.allow).toBe('GET, POST');
    expect((await call('POST', '/topics/lambda-x')).headers.allow).toBe('GET, DELETE');
    expect((await call('DELETE', '/cluster')).headers.allow).toBe('GET');
    expect((await call('GET', '/groups/g/offsets')).headers.allow).toBe('POST');
  });
});

describe('admin Lambda: connection failures', () => {
  it('answers 503 while the brokers are unreachable and reconnects on the next invocation', async () => {
    // A port with nothing behind it yet, later a TCP proxy to the broker on that same port.
    const port = await freePort();
    const offline = createAdminHandler(() => ({
      bootstrap: [`127.0.0.1:${port}`],
      retryTimeoutMs: 1_000,
      metricsNamespace: 'SpoolTest',
      logLevel: 'info',
    }));
    let proxy: Server | undefined;
    try {
      const failed = await offline(urlEvent('GET', '/cluster'));
      expect(failed.statusCode).toBe(503);
      expect(failed.headers['retry-after']).toBe('1');
      expect(JSON.parse(failed.body).error).toBe('ConnectionError');
      expect(captured.lines.some((line) => line.includes('"AdminErrors":1'))).toBe(true);

      proxy = await startProxy(port, env.bootstrap[0]!);
      const recovered = await offline(urlEvent('GET', '/cluster'));
      expect(recovered.statusCode).toBe(200);
      expect(JSON.parse(recovered.body).brokers).toHaveLength(1);
    } finally {
      offline.close();
      proxy?.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function startProxy(port: number, target: string): Promise<Server> {
  const [host, targetPort] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(targetPort, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
