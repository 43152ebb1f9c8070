import { describe, expect, it } from 'vitest';
import { backoffMs, negotiateVersion, parseEndpoint, withRetry } from '../../../client/cluster/index.js';
import { UnsupportedByBrokerError } from '../../../client/cluster/protocol-error.js';
import { KafkaProtocolError } from '../../../client/errors.js';
import { ConnectionError } from '../../../client/kafka-connection.js';

const metadataApi = { apiKey: 3, name: 'Metadata' };

describe('negotiateVersion', () => {
  it('picks the highest version inside both ranges', () => {
    const broker = new Map([[3, { min: 0, max: 12 }]]);
    expect(negotiateVersion(metadataApi, { min: 1, max: 12 }, broker)).toBe(12);
    expect(negotiateVersion(metadataApi, { min: 1, max: 9 }, broker)).toBe(9);
    expect(negotiateVersion(metadataApi, { min: 1, max: 20 }, new Map([[3, { min: 4, max: 7 }]]))).toBe(7);
  });

  it('rejects missing APIs and disjoint ranges with a typed, non-retriable error', () => {
    expect(() => negotiateVersion(metadataApi, { min: 1, max: 12 }, new Map())).toThrow(
      UnsupportedByBrokerError,
    );
    const disjoint = () =>
      negotiateVersion(metadataApi, { min: 9, max: 12 }, new Map([[3, { min: 0, max: 8 }]]));
    expect(disjoint).toThrow(/v0-8, client v9-12/);
    try {
      disjoint();
    } catch (error) {
      expect(error).toMatchObject({ retriable: false, api: 'Metadata' });
    }
  });
});

describe('parseEndpoint', () => {
  it('parses host:port and bracketed IPv6', () => {
    expect(parseEndpoint('127.0.0.1:9092')).toEqual({ host: '127.0.0.1', port: 9092 });
    expect(parseEndpoint('[::1]:9093')).toEqual({ host: '::1', port: 9093 });
    expect(() => parseEndpoint('localhost')).toThrow(/host:port/);
  });
});

describe('withRetry', () => {
  const fakeClock = () => {
    let now = 0;
    return {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
  };

  it('backs off exponentially up to the maximum', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('retries retriable wire and connection errors, refreshing before each retry', async () => {
    const errors = [new KafkaProtocolError(16), new ConnectionError('reset', 'h', 1)]; // NOT_COORDINATOR
    let refreshes = 0;
    const result = await withRetry(
      async () => {
        const next = errors.shift();
        if (next) throw next;
        return 'done';
      },
      { maxRetryTimeMs: 10_000, onRetry: () => void refreshes++, ...fakeClock() },
    );
    expect(result).toBe('done');
    expect(refreshes).toBe(2);
  });

  it('rethrows non-retriable errors at once', async () => {
    let attempts = 0;
    const failing = withRetry(
      async () => {
        attempts++;
        throw new KafkaProtocolError(36); // TOPIC_ALREADY_EXISTS
      },
      { maxRetryTimeMs: 10_000, ...fakeClock() },
    );
    await expect(failing).rejects.toMatchObject({ errorName: 'TOPIC_ALREADY_EXISTS', retriable: false });
    expect(attempts).toBe(1);
  });

  it('gives up with the last error once the time budget is spent', async () => {
    let attempts = 0;
    const failing = withRetry(
      async () => {
        attempts++;
        throw new KafkaProtocolError(5); // LEADER_NOT_AVAILABLE
      },
      { maxRetryTimeMs: 2_000, initialBackoffMs: 100, maxBackoffMs: 400, ...fakeClock() },
    );
    await expect(failing).rejects.toMatchObject({ errorName: 'LEADER_NOT_AVAILABLE' });
    expect(attempts).toBeGreaterThan(3);
    expect(attempts).toBeLessThan(10);
  });
});
