import { describe, expect, it } from 'vitest';
import { retryPolicy } from '../../../../client/consumer/retry/retry-policy.js';
import { type FailedRecord, RetryRouter } from '../../../../client/consumer/retry/retry-router.js';
import { RETRY_HEADERS, retryInfo, SpoolError } from '../../../../client/index.js';
import type { ProducerRecord } from '../../../../client/producer/producer.js';
import type { RecordHeader } from '../../../../protocol/record-batch/index.js';
import { MAX_SCHEDULED_RECORD_BYTES } from '../../../../protocol/schedules.js';

const NOW = 1_700_000_000_000;

/** A router for group g on topic orders (retry topic g-orders-retry), sending into `sent`. */
function setup(maxAttempts = 3, failSends = false) {
  const sent: { topic: string; record: ProducerRecord<Buffer, Buffer> }[] = [];
  const ensured: string[][] = [];
  const router = new RetryRouter(
    retryPolicy({ maxAttempts, backoffMs: 500, multiplier: 3 }, 'g'),
    {
      sourceOf: (topic) => (topic === 'g-orders-retry' ? 'orders' : undefined),
      ensure: async (sources) => {
        ensured.push([...sources]);
      },
    },
    {
      send: async (topic, record) => {
        if (failSends) throw new SpoolError('broker unreachable', { retriable: true });
        sent.push({ topic, record });
      },
    },
    () => NOW,
  );
  return { router, sent, ensured };
}

const fromSource: FailedRecord = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  key: Buffer.from('k'),
  value: Buffer.from('v'),
  headers: [{ key: 'trace', value: Buffer.from('t1') }],
};

/** The router always sends headers as a list. */
const headersOf = (record: ProducerRecord<Buffer, Buffer>) => record.headers as RecordHeader[];
const header = (record: ProducerRecord<Buffer, Buffer>, key: string) =>
  headersOf(record)
    .find((h) => h.key === key)
    ?.value?.toString();

describe('RetryRouter', () => {
  it('sends a first failure to the retry topic after backoffMs, with key, value and headers', async () => {
    const { router, sent, ensured } = setup();
    const routed = await router.route(fromSource, new Error('boom'));
    expect(routed).toMatchObject({
      attempt: 1,
      sentTo: 'g-orders-retry',
      delayMs: 500,
      deadLetterReason: null,
    });
    expect(ensured).toEqual([['orders']]);
    expect(sent).toHaveLength(1);
    const { topic, record } = sent[0]!;
    expect(topic).toBe('g-orders-retry');
    expect(record).toMatchObject({ key: fromSource.key, value: fromSource.value, deliverAfterMs: 500 });
    expect(header(record, 'trace')).toBe('t1');
    expect(retryInfo(headersOf(record))).toEqual({
      failedAttempts: 1,
      originalTopic: 'orders',
      originalPartition: 2,
      originalOffset: 41,
      firstFailureAt: NOW,
      lastError: 'boom',
    });
  });

  it('counts attempts through the retry topic and dead-letters the last one, keeping the origin', async () => {
    const { router, sent } = setup(3);
    await router.route(fromSource, new Error('one'));
    const second = await router.route(
      {
        ...fromSource,
        topic: 'g-orders-retry',
        partition: 0,
        offset: 7,
        headers: headersOf(sent[0]!.record),
      },
      new Error('two'),
    );
    expect(second).toMatchObject({ attempt: 2, sentTo: 'g-orders-retry', delayMs: 1_500 });
    const third = await router.route(
      {
        ...fromSource,
        topic: 'g-orders-retry',
        partition: 1,
        offset: 9,
        headers: headersOf(sent[1]!.record),
      },
      new Error('three'),
    );
    expect(third).toMatchObject({
      attempt: 3,
      sentTo: 'g-orders-dlq',
      delayMs: null,
      deadLetterReason: 'attempts-exhausted',
    });
    const dead = sent[2]!.record;
    expect(dead.deliverAfterMs).toBeUndefined();
    expect(retryInfo(headersOf(dead))).toEqual({
      failedAttempts: 3,
      originalTopic: 'orders',
      originalPartition: 2,
      originalOffset: 41,
      firstFailureAt: NOW,
      lastError: 'three',
      deadLetterReason: 'attempts-exhausted',
    });
    expect(header(dead, 'trace')).toBe('t1');
  });

  it('dead-letters at once with maxAttempts 1, or with a given reason', async () => {
    const { router, sent } = setup(1);
    expect(await router.route(fromSource, new Error('x'))).toMatchObject({
      attempt: 1,
      sentTo: 'g-orders-dlq',
      deadLetterReason: 'attempts-exhausted',
    });
    const other = setup(5);
    expect(
      await other.router.route(fromSource, new Error('bad bytes'), 'deserialization-failed'),
    ).toMatchObject({
      attempt: 1,
      sentTo: 'g-orders-dlq',
      deadLetterReason: 'deserialization-failed',
    });
    expect(header(other.sent[0]!.record, RETRY_HEADERS.deadLetterReason)).toBe('deserialization-failed');
    expect(sent).toHaveLength(1);
  });

  it('ignores retry headers on a record of a source topic: it starts at attempt 1', async () => {
    const { router, sent } = setup(2);
    await router.route(fromSource, new Error('one'));
    const replayed = { ...fromSource, offset: 99, headers: headersOf(sent[0]!.record) };
    expect(await router.route(replayed, new Error('again'))).toMatchObject({
      attempt: 1,
      sentTo: 'g-orders-retry',
    });
    expect(retryInfo(headersOf(sent[1]!.record))).toMatchObject({
      originalOffset: 99,
      failedAttempts: 1,
    });
  });

  it('dead-letters a record too large for a delayed delivery', async () => {
    const { router } = setup(5);
    const big = { ...fromSource, value: Buffer.alloc(MAX_SCHEDULED_RECORD_BYTES) };
    expect(await router.route(big, new Error('x'))).toMatchObject({
      sentTo: 'g-orders-dlq',
      deadLetterReason: 'too-large-to-delay',
    });
  });

  it('fails with both the record and the send error when the send fails', async () => {
    const { router } = setup(3, true);
    const error = await router.route(fromSource, new Error('boom')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect(error).toMatchObject({ retriable: true });
    expect((error as Error).message).toBe(
      'orders[2]@41 failed and could not be sent to g-orders-retry: broker unreachable',
    );
  });
});
