import { MAX_DELAY_MS } from '../../../protocol/schedules.js';
import { ConfigError } from '../../errors.js';

/**
 * The consumer's `retry` option: records whose eachMessage handler throws are retried through a
 * retry topic (with a delay that grows per attempt), and after `maxAttempts` go to a dead-letter
 * topic. See Consumer and client/consumer/retry/retry-router.ts for the flow.
 */
export interface RetryOptions {
  /**
   * Handler attempts per record, the first one included: 1 sends a failed record straight to the
   * dead-letter topic, 3 retries it twice first. A whole number >= 1.
   */
  maxAttempts: number;
  /** Delay before the first retry. Default 1000 ms. */
  backoffMs?: number;
  /** Each further retry waits this many times longer than the one before. Default 2 (>= 1). */
  multiplier?: number;
  /** No retry waits longer than this. Default 10 minutes (or backoffMs, if that is longer). */
  maxBackoffMs?: number;
  /** The retry topic of a subscribed topic. Default `<groupId>-<topic>-retry`. */
  retryTopic?: (sourceTopic: string) => string;
  /** The dead-letter topic of a subscribed topic. Default `<groupId>-<topic>-dlq`. */
  deadLetterTopic?: (sourceTopic: string) => string;
}

/** RetryOptions validated, with the defaults filled in. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly multiplier: number;
  readonly maxBackoffMs: number;
  retryTopic(sourceTopic: string): string;
  deadLetterTopic(sourceTopic: string): string;
}

export const DEFAULT_RETRY_BACKOFF_MS = 1_000;
export const DEFAULT_RETRY_MULTIPLIER = 2;
export const DEFAULT_MAX_RETRY_BACKOFF_MS = 10 * 60_000;

/**
 * Per group, like the retry topics of Kafka retry frameworks: two groups reading one topic fail
 * and retry independently, so neither may see (or dead-letter) the other's retries.
 */
export function defaultRetryTopic(groupId: string, sourceTopic: string): string {
  return `${groupId}-${sourceTopic}-retry`;
}

export function defaultDeadLetterTopic(groupId: string, sourceTopic: string): string {
  return `${groupId}-${sourceTopic}-dlq`;
}

/** Kafka's legal topic names. A `__` prefix is reserved for internal topics (and refused as a delivery target). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function retryPolicy(options: RetryOptions, groupId: string | undefined): RetryPolicy {
  if (groupId === undefined)
    throw new ConfigError('retry needs a groupId (retry topics are per group)', 'retry');
  const { maxAttempts } = options;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
    throw new ConfigError(
      'retry.maxAttempts must be a whole number >= 1 (the first attempt included)',
      'retry',
    );
  const backoffMs = options.backoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  if (!Number.isSafeInteger(backoffMs) || backoffMs < 0 || backoffMs > MAX_DELAY_MS)
    throw new ConfigError(`retry.backoffMs must be a whole number of ms in 0..${MAX_DELAY_MS}`, 'retry');
  const multiplier = options.multiplier ?? DEFAULT_RETRY_MULTIPLIER;
  if (!Number.isFinite(multiplier) || multiplier < 1)
    throw new ConfigError('retry.multiplier must be a number >= 1', 'retry');
  const maxBackoffMs = options.maxBackoffMs ?? Math.max(DEFAULT_MAX_RETRY_BACKOFF_MS, backoffMs);
  if (!Number.isSafeInteger(maxBackoffMs) || maxBackoffMs < backoffMs || maxBackoffMs > MAX_DELAY_MS)
    throw new ConfigError(
      `retry.maxBackoffMs must be a whole number of ms from backoffMs up to ${MAX_DELAY_MS}`,
      'retry',
    );
  // With the default names the group id becomes part of topic names: check it now rather than at
  // the first failure.
  if ((!options.retryTopic || !options.deadLetterTopic) && !TOPIC_NAME.test(`${groupId}-x`))
    throw new ConfigError(
      `the groupId "${groupId}" cannot be part of a topic name; give retry.retryTopic and retry.deadLetterTopic`,
      'retry',
    );
  return {
    maxAttempts,
    backoffMs,
    multiplier,
    maxBackoffMs,
    retryTopic: options.retryTopic ?? ((topic) => defaultRetryTopic(groupId, topic)),
    deadLetterTopic: options.deadLetterTopic ?? ((topic) => defaultDeadLetterTopic(groupId, topic)),
  };
}

/**
 * The delay before the retry that follows failed attempt `failedAttempt` (1-based):
 * backoffMs * multiplier^(failedAttempt - 1), capped at maxBackoffMs.
 */
export function retryDelayMs(
  policy: Pick<RetryPolicy, 'backoffMs' | 'multiplier' | 'maxBackoffMs'>,
  failedAttempt: number,
): number {
  const raw = policy.backoffMs * policy.multiplier ** Math.max(0, failedAttempt - 1);
  return Math.min(policy.maxBackoffMs, Math.round(raw));
}

/**
 * The retry and dead-letter topics of `sourceTopic`, checked: legal names, distinct from each
 * other and from the source (a retry topic equal to its source would retry forever at full speed).
 */
export function retryTopicsOf(
  policy: RetryPolicy,
  sourceTopic: string,
): { retryTopic: string; deadLetterTopic: string } {
  const retryTopic = policy.retryTopic(sourceTopic);
  const deadLetterTopic = policy.deadLetterTopic(sourceTopic);
  for (const [what, name] of [
    ['retryTopic', retryTopic],
    ['deadLetterTopic', deadLetterTopic],
  ] as const) {
    if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name.startsWith('__'))
      throw new ConfigError(
        `retry.${what} gives "${String(name)}" for ${sourceTopic}: not a topic name`,
        'retry',
      );
    if (name === sourceTopic)
      throw new ConfigError(`retry.${what} of ${sourceTopic} must be another topic`, 'retry');
  }
  if (retryTopic === deadLetterTopic)
    throw new ConfigError(
      `the retry and dead-letter topics of ${sourceTopic} are both ${retryTopic}`,
      'retry',
    );
  return { retryTopic, deadLetterTopic };
}
