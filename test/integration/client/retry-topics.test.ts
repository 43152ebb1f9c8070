import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerRecord,
  deliveryAttempt,
  Producer,
  RETRY_HEADERS,
  type RoutedFailure,
} from '../../../client/index.js';
import { SCHEDULE_HEADERS } from '../../../protocol/schedules.js';
import { committedEqualsEnd, waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * The consumer's retry option on a real broker: failed records come back through the group's
 * retry topic after the backoff (a delayed delivery), succeed or end in the dead-letter topic with
 * the retry headers, and the source topic's offsets are committed to its end.
 */

let env: Awaited<ReturnType<typeof startLocalCluster>>;
let producer: Producer<string, string>;

const text = { deserialize: (b: Buffer) => b.toString('utf8') };
const header = (record: ConsumerRecord<string, string>, key: string) =>
  record.headers.find((h) => h.key === key)?.value?.toString('utf8');

beforeAll(async () => {
  env = await startLocalCluster();
  const admin = new Admin({ bootstrap: env.bootstrap });
  await admin.createTopics([
    { topic: 'payments', partitions: 2, replicationFactor: 1 },
    { topic: 'invoices', partitions: 1, replicationFactor: 1 },
  ]);
  admin.close();
  producer = new Producer<string, string>({ bootstrap: env.bootstrap, lingerMs: 0 });
}, 120_000);

afterAll(async () => {
  await producer?.close();
  await env?.stop();
});

/** Every record of `topic` from the beginning, once `count` have arrived. */
async function readAll(
  topic: string,
  partitions: number,
  count: number,
): Promise<ConsumerRecord<string, string>[]> {
  const consumer = new Consumer<string, string>({
    bootstrap: env.bootstrap,
    startFrom: 'earliest',
    keyDeserializer: text,
    valueDeserializer: text,
  });
  const seen: ConsumerRecord<string, string>[] = [];
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const done = consumer.run({ eachMessage: (record) => void seen.push(record) });
  try {
    await waitFor(() => seen.length >= count, 20_000, `${count} records on ${topic}`);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more should come
  } finally {
    await consumer.close();
    await done;
  }
  return seen;
}

interface Delivery {
  key: string;
  topic: string;
  attempt: number;
  at: number;
}

describe('consumer retry and dead-letter topics', () => {
  it('retries failed records after the backoff, then processes them once or dead-letters them', async () => {
    const group = 'billing';
    const backoffMs = 800;
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        producer.send('payments', {
          key: `k${i}`,
          value: i === 9 ? 'garbage' : `payment ${i}`,
          headers: { trace: `t${i}` },
        }),
      ),
    );
    const flaky = new Set(['k2', 'k5']); // fail twice, then succeed
    const poison = 'k7'; // always fails
    const deliveries: Delivery[] = [];
    const failedAt = new Map<string, number[]>();
    const processed: string[] = [];
    const routed: RoutedFailure[] = [];
    const consumer = new Consumer<string, string>({
      bootstrap: env.bootstrap,
      groupId: group,
      startFrom: 'earliest',
      autoCommitIntervalMs: 500,
      keyDeserializer: text,
      valueDeserializer: {
        deserialize: (b) => {
          if (b.toString() === 'garbage') throw new Error('not a payment');
          return b.toString();
        },
      },
      retry: { maxAttempts: 3, backoffMs, multiplier: 2 },
    });
    consumer.on('handlerFailed', (failure) => routed.push(failure));
    consumer.subscribe('payments');
    const running = consumer.run({
      eachMessage: (record) => {
        const key = record.key!;
        const attempt = deliveryAttempt(record);
        deliveries.push({ key, topic: record.topic, attempt, at: Date.now() });
        if (key === poison || (flaky.has(key) && attempt <= 2)) {
          failedAt.set(key, [...(failedAt.get(key) ?? []), Date.now()]);
          throw new Error(`attempt ${attempt} of ${key} failed`);
        }
        processed.push(key);
      },
    });
    try {
      await waitFor(() => processed.length >= 10 && routed.length >= 6, 40_000, 'retries to settle');
      await waitFor(() => committedEqualsEnd(env.bootstrap, group, 'payments'), 15_000, 'commits to the end');
      await waitFor(
        () => committedEqualsEnd(env.bootstrap, group, `${group}-payments-retry`),
        15_000,
        'retry commits',
      );
    } finally {
      await consumer.close();
    }
    await running; // the handler's failures did not stop the consumer

    // Every good record processed exactly once; the poison and the undeserializable never.
    expect(processed.sort()).toEqual(['k0', 'k1', 'k10', 'k11', 'k2', 'k3', 'k4', 'k5', 'k6', 'k8'].sort());
    for (const key of flaky) {
      const mine = deliveries.filter((d) => d.key === key);
      expect(mine.map((d) => [d.topic, d.attempt])).toEqual([
        ['payments', 1],
        [`${group}-payments-retry`, 2],
        [`${group}-payments-retry`, 3],
      ]);
      const [first, second] = failedAt.get(key)!;
      // Back no earlier than the backoff (800 ms, then 1600 ms), and not much later either.
      expect(mine[1]!.at - first!).toBeGreaterThanOrEqual(backoffMs);
      expect(mine[2]!.at - second!).toBeGreaterThanOrEqual(backoffMs * 2);
      expect(mine[2]!.at - second!).toBeLessThan(backoffMs * 2 + 10_000);
    }
    expect(deliveries.filter((d) => d.key === poison).map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(routed.map((r) => [r.attempt, r.sentTo, r.delayMs, r.deadLetterReason]).sort()).toEqual(
      [
        [1, 'billing-payments-dlq', null, 'deserialization-failed'],
        [1, 'billing-payments-retry', 800, null],
        [1, 'billing-payments-retry', 800, null],
        [1, 'billing-payments-retry', 800, null],
        [2, 'billing-payments-retry', 1600, null],
        [2, 'billing-payments-retry', 1600, null],
        [2, 'billing-payments-retry', 1600, null],
        [3, 'billing-payments-dlq', null, 'attempts-exhausted'],
      ].sort(),
    );

    // The dead-letter topic: both records, with where they came from and why.
    const dead = await readAll(`${group}-payments-dlq`, 2, 2);
    expect(dead).toHaveLength(2);
    const poisoned = dead.find((r) => r.key === poison)!;
    const origin = sent[7]!;
    expect(poisoned.value).toBe('payment 7');
    expect(header(poisoned, 'trace')).toBe('t7');
    expect(header(poisoned, RETRY_HEADERS.originalTopic)).toBe('payments');
    expect(header(poisoned, RETRY_HEADERS.originalPartition)).toBe(String(origin.partition));
    expect(header(poisoned, RETRY_HEADERS.originalOffset)).toBe(String(origin.offset));
    expect(header(poisoned, RETRY_HEADERS.attempt)).toBe('3');
    expect(header(poisoned, RETRY_HEADERS.error)).toBe('attempt 3 of k7 failed');
    expect(header(poisoned, RETRY_HEADERS.deadLetterReason)).toBe('attempts-exhausted');
    const firstFailure = Number(header(poisoned, RETRY_HEADERS.firstFailureAt));
    expect(firstFailure).toBeGreaterThanOrEqual(failedAt.get(poison)![0]!);
    expect(firstFailure).toBeLessThan(failedAt.get(poison)![1]!);
    // Delayed delivery's headers of the last retry do not travel on.
    expect(poisoned.headers.some((h) => h.key === SCHEDULE_HEADERS.id)).toBe(false);
    const garbage = dead.find((r) => r.key === 'k9')!;
    expect(garbage.value).toBe('garbage');
    expect(header(garbage, RETRY_HEADERS.deadLetterReason)).toBe('deserialization-failed');
    expect(header(garbage, RETRY_HEADERS.attempt)).toBe('1');
    expect(header(garbage, RETRY_HEADERS.error)).toMatch(/not a payment/);
    expect(header(garbage, RETRY_HEADERS.originalOffset)).toBe(String(sent[9]!.offset));

    // The consumer created both topics, with the source's partition count.
    const admin = new Admin({ bootstrap: env.bootstrap });
    try {
      const topics = await admin.describeTopics([`${group}-payments-retry`, `${group}-payments-dlq`]);
      expect(topics.map((t) => t.partitions.length)).toEqual([2, 2]);
    } finally {
      admin.close();
    }
  }, 90_000);

  it('lets an eachBatch handler retry single records with control.retry', async () => {
    const backoffMs = 500;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => producer.send('invoices', { key: `i${i}`, value: `invoice ${i}` })),
    );
    const processed: string[] = [];
    const retriedAt = new Map<string, number>();
    const returnedAt = new Map<string, number>();
    const consumer = new Consumer<string, string>({
      bootstrap: env.bootstrap,
      groupId: 'audit',
      startFrom: 'earliest',
      autoCommitIntervalMs: 500,
      keyDeserializer: text,
      valueDeserializer: text,
      retry: { maxAttempts: 2, backoffMs },
    });
    consumer.subscribe(['invoices']);
    const running = consumer.run({
      eachBatch: async (batch, control) => {
        for (const record of batch.records) {
          const key = record.key!;
          if (deliveryAttempt(record) === 2) returnedAt.set(key, Date.now());
          if (Number(key.slice(1)) % 2 === 0 && deliveryAttempt(record) === 1) {
            retriedAt.set(key, Date.now());
            await control.retry(record, new Error('later'));
          } else processed.push(key);
          control.markProcessed(record.offset);
        }
      },
    });
    try {
      await waitFor(() => processed.length >= 6, 30_000, 'every invoice');
      await waitFor(
        () => committedEqualsEnd(env.bootstrap, 'audit', 'invoices'),
        15_000,
        'commits to the end',
      );
    } finally {
      await consumer.close();
    }
    await running;
    expect(processed.sort()).toEqual(['i0', 'i1', 'i2', 'i3', 'i4', 'i5']);
    expect([...returnedAt.keys()].sort()).toEqual(['i0', 'i2', 'i4']);
    for (const [key, at] of returnedAt) expect(at - retriedAt.get(key)!).toBeGreaterThanOrEqual(backoffMs);
  }, 60_000);
});
