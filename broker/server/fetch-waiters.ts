/**
 * Long-poll support for Fetch: a fetch that found too little data waits here until a produce (or a
 * high-watermark move) touches one of its partitions, or its max_wait_ms expires.
 *
 * Every notify bumps the partition's sequence number. A fetch takes `mark(keys)` BEFORE reading and
 * passes it to `wait`, which returns at once if anything was notified in between: otherwise an
 * append landing between the read and the wait would be missed and the fetch (a follower's, holding
 * up acks=all) would sleep its whole max wait.
 */
export class FetchWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sequences = new Map<string, number>();

  /** The current notification count of the keys, to pass to `wait`. */
  mark(partitionKeys: readonly string[]): number {
    let sum = 0;
    for (const key of partitionKeys) sum += this.sequences.get(key) ?? 0;
    return sum;
  }

  /**
   * Resolves when any of `partitionKeys` gets new data, or after `timeoutMs`. With `since` (from
   * `mark`), resolves at once if a notification already happened after the mark.
   */
  wait(
    partitionKeys: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
    since?: number,
  ): Promise<void> {
    if (timeoutMs <= 0 || partitionKeys.length === 0) return Promise.resolve();
    if (since !== undefined && this.mark(partitionKeys) !== since) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        for (const key of partitionKeys) this.waiters.get(key)?.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener('abort', wake);
      for (const key of partitionKeys) {
        let set = this.waiters.get(key);
        if (!set) {
          set = new Set();
          this.waiters.set(key, set);
        }
        set.add(wake);
      }
    });
  }

  /** Wakes every fetch waiting on `partitionKey`. */
  notify(partitionKey: string): void {
    this.sequences.set(partitionKey, (this.sequences.get(partitionKey) ?? 0) + 1);
    const set = this.waiters.get(partitionKey);
    if (!set) return;
    this.waiters.delete(partitionKey);
    for (const wake of set) wake();
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
