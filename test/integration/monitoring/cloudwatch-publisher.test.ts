import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../broker/common/logger.js';
import { CloudWatchPublisher } from '../../../broker/monitoring/cloudwatch-publisher.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Brokers publish replication health with the real AWS SDK's PutMetricData. There is no
 * CloudWatch emulator, so a loopback HTTP endpoint stands in for the service and records what
 * arrives (the SDK speaks AWS JSON 1.0 to it, as to the real one).
 */

interface PutMetricData {
  Namespace: string;
  MetricData: { MetricName: string; Dimensions: { Name: string; Value: string }[]; Value: number }[];
}

let server: Server;
let endpoint: string;
const received: { target: string | undefined; body: PutMetricData }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        target: req.headers['x-amz-target'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as PutMetricData,
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('CloudWatch health metrics', () => {
  it('sends each health value per cluster and per broker', async () => {
    received.length = 0;
    const publisher = new CloudWatchPublisher({
      namespace: 'SpoolTest',
      clusterId: 'c1',
      brokerId: 4,
      region: 'us-east-1',
      endpoint,
      logger: createLogger({ level: 'silent' }),
      sample: () => ({ underReplicated: 2, underMinIsr: 1, offline: 0, leader: 7 }),
    });
    await publisher.publishOnce();
    await publisher.stop();
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call!.target).toBe('GraniteServiceVersion20100801.PutMetricData');
    expect(call!.body.Namespace).toBe('SpoolTest');
    const urp = call!.body.MetricData.filter((d) => d.MetricName === 'UnderReplicatedPartitions');
    expect(urp.map((d) => [d.Dimensions, d.Value])).toEqual([
      [[{ Name: 'Cluster', Value: 'c1' }], 2],
      [
        [
          { Name: 'Cluster', Value: 'c1' },
          { Name: 'Broker', Value: '4' },
        ],
        2,
      ],
    ]);
    expect(new Set(call!.body.MetricData.map((d) => d.MetricName))).toEqual(
      new Set([
        'UnderReplicatedPartitions',
        'UnderMinIsrPartitions',
        'OfflinePartitions',
        'LeaderPartitions',
      ]),
    );
  });

  it('is published by a running broker configured with SPOOL_CLOUDWATCH_NAMESPACE', async () => {
    received.length = 0;
    const env = await startLocalCluster({
      brokerEnv: {
        SPOOL_CLOUDWATCH_NAMESPACE: 'SpoolBroker',
        SPOOL_CLOUDWATCH_INTERVAL_MS: '1000',
        AWS_ENDPOINT_URL_CLOUDWATCH: endpoint,
      },
    });
    try {
      await waitFor(async () => received.length > 0, 20_000, 'a PutMetricData call');
      const body = received[0]!.body;
      expect(body.Namespace).toBe('SpoolBroker');
      const clusterLevel = body.MetricData.filter(
        (d) => d.MetricName === 'UnderReplicatedPartitions' && d.Dimensions.length === 1,
      );
      expect(clusterLevel).toEqual([
        expect.objectContaining({ Dimensions: [{ Name: 'Cluster', Value: 'spool-local' }], Value: 0 }),
      ]);
    } finally {
      await env.stop();
    }
  }, 120_000);
});
