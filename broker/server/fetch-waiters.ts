/**
 * Long-poll support for Fetch: a fetch that found too little data waits here until a produce
 * touches one of its partitions, or its max_wait_ms expires, whichever comes first.
 */
export class FetchWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves when any of `partitionKeys` gets new data, or after `timeoutMs`. */
  wait(partitionKeys: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (timeoutMs <= 0 || partitionKeys.length === 0) return Promise.resolve();
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
    const set = this.waiters.get(partitionKey);
    if (!set) return;
    this.waiters.delete(partitionKey);
    for (const wake of set) wake();
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
