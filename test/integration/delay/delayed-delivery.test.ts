import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../../client/index.js';
import { createPromotionHandler } from '../../../lambdas/delayed-promotion/handler.js';
import { SCHEDULE_HEADERS, SCHEDULE_TOPIC } from '../../../protocol/schedules.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Delayed delivery on a real broker: the SDK's deliverAfterMs / deliverAt and cancelScheduled,
 * the header convention for other Kafka clients, and a 40-day delay promoted by the
 * delayed-promotion Lambda handler with its clock moved forward.
 */

let env: Awaited<ReturnType<typeof startLocalCluster>>;
let producer: Producer<string, string>;

beforeAll(async () => {
  env = await startLocalCluster();
  const admin = new Admin({ bootstrap: env.bootstrap });
  await admin.createTopics(
    ['soon', 'convention', 'far'].map((topic) => ({ topic, partitions: 2, replicationFactor: 1 })),
  );
  admin.close();
  producer = new Producer<string, string>({ bootstrap: env.bootstrap, lingerMs: 0 });
}, 120_000);

afterAll(async () => {
  await producer?.close();
  await env?.stop();
});

interface Seen {
  value: string;
  scheduleId: string | undefined;
  receivedAt: number;
}

/** Reads `topic` from the beginning until `count` records arrived (or the time is up). */
async function collect(topic: string, count: number, timeoutMs: number, settleMs = 0): Promise<Seen[]> {
  const consumer = new Consumer<string, string>({
    bootstrap: env.bootstrap,
    startFrom: 'earliest',
    keyDeserializer: { deserialize: (b) => b.toString() },
    valueDeserializer: { deserialize: (b) => b.toString() },
  });
  const seen: Seen[] = [];
  consumer.assign([0, 1].map((partition) => ({ topic, partition })));
  const done = consumer.run({
    eachMessage: (record) => {
      seen.push({
        value: record.value ?? '',
        scheduleId: record.headers.find((h) => h.key === SCHEDULE_HEADERS.id)?.value?.toString(),
        receivedAt: Date.now(),
      });
    },
  });
  try {
    await waitFor(async () => seen.length >= count, timeoutMs, `${count} records on ${topic}`);
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  } finally {
    await consumer.close();
    await done.catch(() => undefined);
  }
  return seen;
}

describe('delayed delivery', () => {
  it('delivers each scheduled record once, not before its time, and not a cancelled one', async () => {
    const start = Date.now();
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        producer.send('soon', { key: `k${i}`, value: `v${i}`, deliverAfterMs: 1000 + (i % 10) * 200 }),
      ),
    );
    for (const meta of sent) expect(meta.scheduleId).toMatch(/^[0-9a-z]{9}-[0-9a-f]{2}-/);
    const doomed = await producer.send('soon', {
      value: 'cancelled',
      deliverAt: new Date(Date.now() + 4000),
    });
    await producer.cancelScheduled(doomed.scheduleId!);

    const seen = await collect('soon', 30, 30_000, 5000);
    expect(seen.map((s) => s.value).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
    const byValue = new Map(seen.map((s) => [s.value, s]));
    sent.forEach((meta, i) => {
      const record = byValue.get(`v${i}`)!;
      expect(record.scheduleId).toBe(meta.scheduleId);
      expect(record.receivedAt).toBeGreaterThanOrEqual(start + 1000 + (i % 10) * 200);
    });
    // Cancelling again, or after delivery, is refused with a reason.
    await expect(producer.cancelScheduled(sent[0]!.scheduleId!)).rejects.toThrow(/already delivered/);
  }, 60_000);

  it('takes schedules from any Kafka client through the header convention', async () => {
    const kafka = new Kafka({ clientId: 'convention', brokers: env.bootstrap, logLevel: logLevel.NOTHING });
    const kafkajs = kafka.producer();
    await kafkajs.connect();
    try {
      await kafkajs.send({
        topic: SCHEDULE_TOPIC,
        messages: [
          {
            value: 'from-kafkajs',
            headers: { [SCHEDULE_HEADERS.topic]: 'convention', [SCHEDULE_HEADERS.deliverAfter]: '1500' },
          },
        ],
      });
      // A schedule without a target topic is refused, not silently dropped.
      await expect(
        kafkajs.send({
          topic: SCHEDULE_TOPIC,
          messages: [{ value: 'x', headers: { [SCHEDULE_HEADERS.deliverAfter]: '1' } }],
        }),
      ).rejects.toThrow();
    } finally {
      await kafkajs.disconnect();
    }
    const [record] = await collect('convention', 1, 20_000);
    expect(record!.value).toBe('from-kafkajs');
    expect(record!.scheduleId).toBeDefined();
  }, 60_000);

  it('accepts a 40-day delay and the promotion Lambda delivers it once its clock reaches it', async () => {
    const fortyDays = 40 * 24 * 3600 * 1000;
    const meta = await producer.send('far', { value: 'later', deliverAfterMs: fortyDays });
    expect(meta.scheduleId).toBeDefined();
    const state = env.cluster.state;
    const config = {
      aws: {
        region: 'us-east-1',
        tablePrefix: state.tablePrefix,
        dynamoDbEndpoint: state.dynamoDbEndpoint,
        s3Endpoint: state.s3Endpoint,
      },
      bootstrap: env.bootstrap,
      graceMs: 5000,
      logLevel: 'silent' as const,
      metrics: false,
    };
    const today = createPromotionHandler(() => config);
    const later = createPromotionHandler(() => ({ ...config, now: () => Date.now() + fortyDays + 60_000 }));
    try {
      expect((await today()).delivered).toBe(0);
      expect((await later()).delivered).toBe(1);
      expect((await later()).delivered).toBe(0);
    } finally {
      await today.dispose();
      await later.dispose();
    }
    const [record] = await collect('far', 1, 20_000);
    expect(record).toMatchObject({ value: 'later', scheduleId: meta.scheduleId });
  }, 60_000);
});
