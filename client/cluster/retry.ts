import { isRetriable } from './protocol-error.js';

export interface RetryOptions {
  /** Give up once this much time has passed since the first attempt. */
  maxRetryTimeMs: number;
  /** First backoff; doubles per attempt up to `maxBackoffMs`, each with ±20% jitter. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called before each retry's backoff, e.g. to refresh metadata. Its own failure is ignored. */
  onRetry?: (error: unknown, attempt: number) => Promise<void> | void;
  /** Overrides which errors are retried (default: isRetriable, from the wire error table). */
  shouldRetry?: (error: unknown) => boolean;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The backoff before retry number `attempt` (1-based), without jitter. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Runs `operation` until it succeeds, fails with a non-retriable error, or the time budget is
 * spent; then the last error is rethrown unchanged so callers see the typed broker error.
 * Invariant: no attempt starts after the deadline, so total time is bounded by
 * maxRetryTimeMs + one attempt.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const initial = options.initialBackoffMs ?? 100;
  const max = options.maxBackoffMs ?? 1000;
  const deadline = now() + options.maxRetryTimeMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(options.shouldRetry ?? isRetriable)(error)) throw error;
      const wait = backoffMs(attempt, initial, max) * (0.8 + Math.random() * 0.4);
      if (now() + wait > deadline) throw error;
      try {
        await options.onRetry?.(error, attempt);
      } catch {
        // A failed refresh is no reason to stop: the next attempt reports what is really wrong.
      }
      await sleep(wait);
    }
  }
}
