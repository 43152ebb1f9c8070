import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_RETRY_BACKOFF_MS,
  retryPolicy,
  retryTopicsOf,
} from '../../../../client/consumer/retry/retry-policy.js';
import { ConfigError, Consumer, retryDelayMs } from '../../../../client/index.js';

describe('retry backoff', () => {
  it('grows by the multiplier per failed attempt, from backoffMs, up to maxBackoffMs', () => {
    const policy = { backoffMs: 500, multiplier: 2, maxBackoffMs: 5_000 };
    expect([1, 2, 3, 4, 5, 6, 40].map((attempt) => retryDelayMs(policy, attempt))).toEqual([
      500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000,
    ]);
  });

  it('is constant with multiplier 1, rounds fractional growth, and survives huge exponents', () => {
    expect(retryDelayMs({ backoffMs: 700, multiplier: 1, maxBackoffMs: 10_000 }, 9)).toBe(700);
    expect(retryDelayMs({ backoffMs: 1_000, multiplier: 1.5, maxBackoffMs: 10_000 }, 3)).toBe(2_250);
    expect(retryDelayMs({ backoffMs: 1, multiplier: 10, maxBackoffMs: 60_000 }, 5_000)).toBe(60_000);
    expect(retryDelayMs({ backoffMs: 0, multiplier: 3, maxBackoffMs: 60_000 }, 4)).toBe(0);
  });

  it('defaults to 1 s doubling up to 10 minutes', () => {
    const policy = retryPolicy({ maxAttempts: 20 }, 'billing');
    expect(policy).toMatchObject({ maxAttempts: 20, backoffMs: 1_000, multiplier: 2, maxBackoffMs: 600_000 });
    expect(retryDelayMs(policy, 1)).toBe(1_000);
    expect(retryDelayMs(policy, 10)).toBe(512_000);
    expect(retryDelayMs(policy, 11)).toBe(DEFAULT_MAX_RETRY_BACKOFF_MS);
    // A first backoff above the default cap raises the cap instead of being cut.
    expect(retryPolicy({ maxAttempts: 2, backoffMs: 3_600_000 }, 'g').maxBackoffMs).toBe(3_600_000);
  });
});

describe('retry topics', () => {
  it('are per group by default: <group>-<topic>-retry and <group>-<topic>-dlq', () => {
    expect(retryTopicsOf(retryPolicy({ maxAttempts: 3 }, 'billing'), 'orders')).toEqual({
      retryTopic: 'billing-orders-retry',
      deadLetterTopic: 'billing-orders-dlq',
    });
    const custom = retryPolicy(
      { maxAttempts: 3, retryTopic: (t) => `${t}.retry`, deadLetterTopic: (t) => `${t}.dlq` },
      'billing',
    );
    expect(retryTopicsOf(custom, 'orders')).toEqual({
      retryTopic: 'orders.retry',
      deadLetterTopic: 'orders.dlq',
    });
  });

  it('refuses names that are not topics, equal the source, or coincide', () => {
    const named = (retryTopic: (t: string) => string, deadLetterTopic = (t: string) => `${t}-dead`) =>
      retryPolicy({ maxAttempts: 2, retryTopic, deadLetterTopic }, 'g');
    expect(() =>
      retryTopicsOf(
        named((t) => t),
        'orders',
      ),
    ).toThrow(/must be another topic/);
    expect(() =>
      retryTopicsOf(
        named((t) => `${t}/retry`),
        'orders',
      ),
    ).toThrow(/not a topic name/);
    expect(() =>
      retryTopicsOf(
        named((t) => `__${t}`),
        'orders',
      ),
    ).toThrow(/not a topic name/);
    expect(() =>
      retryTopicsOf(
        named((t) => `${t}-dead`),
        'orders',
      ),
    ).toThrow(/both orders-dead/);
  });
});

describe('retry option validation', () => {
  const bootstrap = ['127.0.0.1:1'];
  const invalid: [string, () => unknown, RegExp][] = [
    ['no group', () => new Consumer({ bootstrap, retry: { maxAttempts: 3 } }), /needs a groupId/],
    [
      'maxAttempts 0',
      () => new Consumer({ bootstrap, groupId: 'g', retry: { maxAttempts: 0 } }),
      /maxAttempts/,
    ],
    [
      'maxAttempts 1.5',
      () => new Consumer({ bootstrap, groupId: 'g', retry: { maxAttempts: 1.5 } }),
      /maxAttempts/,
    ],
    [
      'negative backoff',
      () => new Consumer({ bootstrap, groupId: 'g', retry: { maxAttempts: 2, backoffMs: -1 } }),
      /backoffMs/,
    ],
    [
      'multiplier < 1',
      () => new Consumer({ bootstrap, groupId: 'g', retry: { maxAttempts: 2, multiplier: 0.5 } }),
      /multiplier/,
    ],
    [
      'max below backoff',
      () =>
        new Consumer({
          bootstrap,
          groupId: 'g',
          retry: { maxAttempts: 2, backoffMs: 2_000, maxBackoffMs: 1_000 },
        }),
      /maxBackoffMs/,
    ],
    [
      'group id unfit for topic names',
      () => new Consumer({ bootstrap, groupId: 'team/billing', retry: { maxAttempts: 2 } }),
      /cannot be part of a topic name/,
    ],
  ];
  it.each(invalid)('rejects %s at construction with a ConfigError', (_name, create, message) => {
    let caught: unknown;
    try {
      create();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ option: 'retry', retriable: false });
    expect((caught as Error).message).toMatch(message);
  });

  it('accepts a group id unfit for topic names when both topic names are given', async () => {
    const consumer = new Consumer({
      bootstrap,
      groupId: 'team/billing',
      retry: { maxAttempts: 2, retryTopic: (t) => `${t}-retry`, deadLetterTopic: (t) => `${t}-dlq` },
    });
    await consumer.close();
  });

  it('needs subscribe(): assign() is refused, and bad topic names fail subscribe()', async () => {
    const consumer = new Consumer({ bootstrap, groupId: 'g', retry: { maxAttempts: 2 } });
    expect(() => consumer.assign([{ topic: 'orders', partition: 0 }])).toThrow(/retry needs subscribe/);
    const bad = new Consumer({ bootstrap, groupId: 'g', retry: { maxAttempts: 2, retryTopic: (t) => t } });
    expect(() => bad.subscribe('orders')).toThrow(ConfigError);
    await consumer.close();
    await bad.close();
  });
});
