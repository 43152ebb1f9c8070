/**
 * Caps a sender at a target rate, like the ThroughputThrottler of Kafka's perf tools: record n is
 * due `n / rate` seconds after the first, and `wait(n)` sleeps until then. Short delays are not
 * slept one by one (timers are coarse) but add up until they are worth a sleep, so the average rate
 * is kept however fine-grained the target.
 */

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Delays shorter than this are left to accumulate. */
const MIN_SLEEP_MS = 2;

export class Throttle {
  private startedAt: number | undefined;

  /** `recordsPerSec` < 0: unlimited. */
  constructor(
    private readonly recordsPerSec: number,
    private readonly clock: Clock = realClock,
  ) {
    if (recordsPerSec === 0 || !Number.isFinite(recordsPerSec))
      throw new RangeError('the throughput must be positive, or negative for unlimited');
  }

  get unlimited(): boolean {
    return this.recordsPerSec < 0;
  }

  /** Resolves when the record numbered `sent` (0-based) may go; the first call starts the clock. */
  async wait(sent: number): Promise<void> {
    if (this.unlimited) return;
    const now = this.clock.now();
    this.startedAt ??= now;
    const due = this.startedAt + (sent * 1000) / this.recordsPerSec;
    if (due - now >= MIN_SLEEP_MS) await this.clock.sleep(due - now);
  }
}
