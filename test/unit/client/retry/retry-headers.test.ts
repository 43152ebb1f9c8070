import { describe, expect, it } from 'vitest';
import { failureHeaders, truncateUtf8 } from '../../../../client/consumer/retry/retry-headers.js';
import {
  deliveryAttempt,
  MAX_ERROR_BYTES,
  RETRY_HEADERS,
  retryInfo,
  withoutRetryHeaders,
} from '../../../../client/index.js';
import type { RecordHeader } from '../../../../protocol/record-batch/index.js';
import { SCHEDULE_HEADERS } from '../../../../protocol/schedules.js';

const h = (key: string, value: string | null): RecordHeader => ({
  key,
  value: value === null ? null : Buffer.from(value),
});
const asText = (headers: RecordHeader[]) => headers.map((x) => [x.key, x.value?.toString() ?? null]);

const failure = {
  originalTopic: 'orders',
  originalPartition: 3,
  originalOffset: 1234,
  attempt: 2,
  firstFailureAt: 1_700_000_000_000,
  error: new Error('payment service unavailable'),
};

describe('failure headers', () => {
  it("keep the record's own headers and append the retry headers as text", () => {
    const headers = failureHeaders([h('trace', 'abc'), h('empty', null)], failure);
    expect(asText(headers)).toEqual([
      ['trace', 'abc'],
      ['empty', null],
      [RETRY_HEADERS.attempt, '2'],
      [RETRY_HEADERS.originalTopic, 'orders'],
      [RETRY_HEADERS.originalPartition, '3'],
      [RETRY_HEADERS.originalOffset, '1234'],
      [RETRY_HEADERS.error, 'payment service unavailable'],
      [RETRY_HEADERS.firstFailureAt, '1700000000000'],
    ]);
  });

  it('add the reason for the dead-letter topic', () => {
    const headers = failureHeaders([], { ...failure, deadLetterReason: 'attempts-exhausted' });
    expect(asText(headers).at(-1)).toEqual([RETRY_HEADERS.deadLetterReason, 'attempts-exhausted']);
  });

  it("replace an earlier failure's retry headers and drop delayed delivery's headers", () => {
    const earlier = failureHeaders([h('trace', 'abc')], { ...failure, attempt: 1, error: 'first' });
    const delivered = [
      ...earlier,
      h(SCHEDULE_HEADERS.id, '00000000a-01-abcdefgh'),
      h(SCHEDULE_HEADERS.deliverAt, '1700000001000'),
    ];
    const headers = failureHeaders(delivered, { ...failure, attempt: 2, error: 'second' });
    expect(headers.filter((x) => x.key === RETRY_HEADERS.attempt)).toHaveLength(1);
    expect(
      headers.some((x) => x.key.startsWith('spool-schedule') || x.key === SCHEDULE_HEADERS.deliverAt),
    ).toBe(false);
    expect(retryInfo(headers)).toMatchObject({ failedAttempts: 2, lastError: 'second' });
    expect(asText(headers)[0]).toEqual(['trace', 'abc']);
  });

  it('record any thrown value, and cut long messages to 1 KiB of UTF-8 without splitting a character', () => {
    expect(retryInfo(failureHeaders([], { ...failure, error: 'plain string' }))?.lastError).toBe(
      'plain string',
    );
    expect(retryInfo(failureHeaders([], { ...failure, error: 42 }))?.lastError).toBe('42');
    const wrapped = new Error('failed to deserialize', { cause: new Error('unexpected token') });
    expect(retryInfo(failureHeaders([], { ...failure, error: wrapped }))?.lastError).toBe(
      'failed to deserialize: unexpected token',
    );
    const long = `${'x'.repeat(1023)}€€€`; // € is 3 bytes: only the x's fit
    const cut = retryInfo(failureHeaders([], { ...failure, error: new Error(long) }))!.lastError;
    expect(cut).toBe('x'.repeat(1023));
    expect(Buffer.byteLength(truncateUtf8('€'.repeat(400), MAX_ERROR_BYTES))).toBe(1023);
    expect(truncateUtf8('short', MAX_ERROR_BYTES)).toBe('short');
  });
});

describe('reading retry headers', () => {
  it('round-trips what failureHeaders wrote', () => {
    const headers = failureHeaders([h('trace', 'abc')], {
      ...failure,
      deadLetterReason: 'deserialization-failed',
    });
    expect(retryInfo(headers)).toEqual({
      failedAttempts: 2,
      originalTopic: 'orders',
      originalPartition: 3,
      originalOffset: 1234,
      firstFailureAt: 1_700_000_000_000,
      lastError: 'payment service unavailable',
      deadLetterReason: 'deserialization-failed',
    });
    expect(deliveryAttempt({ headers })).toBe(3);
  });

  it('is undefined without them (or with malformed ones): a first attempt', () => {
    expect(retryInfo([h('trace', 'abc')])).toBeUndefined();
    const malformed = failureHeaders([], failure).map((x) =>
      x.key === RETRY_HEADERS.originalOffset ? h(x.key, 'twelve') : x,
    );
    expect(retryInfo(malformed)).toBeUndefined();
    expect(deliveryAttempt({ headers: [] })).toBe(1);
  });

  it('withoutRetryHeaders leaves exactly the other headers, in order', () => {
    const headers = failureHeaders([h('a', '1'), h('b', '2')], {
      ...failure,
      deadLetterReason: 'attempts-exhausted',
    });
    expect(asText(withoutRetryHeaders(headers))).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});
