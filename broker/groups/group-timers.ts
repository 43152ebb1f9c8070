/**
 * Named, unref'd timers of one group ("join", "sync", "session:<member>", ...). Setting a name
 * replaces its previous timer. Timers only ever schedule work; the coordinator re-checks the
 * group's state when the work runs, so a timer that fires late or stale does no harm.
 */
export class GroupTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  set(name: string, delayMs: number, callback: () => void): void {
    if (this.closed) return;
    this.clear(name);
    const timer = setTimeout(
      () => {
        if (this.timers.get(name) === timer) this.timers.delete(name);
        callback();
      },
      Math.max(0, delayMs),
    );
    timer.unref();
    this.timers.set(name, timer);
  }

  clear(name: string): void {
    const timer = this.timers.get(name);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(name);
  }

  has(name: string): boolean {
    return this.timers.has(name);
  }

  get size(): number {
    return this.timers.size;
  }

  /** Cancels everything; with `close`, later `set` calls are ignored. */
  clearAll(close = false): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (close) this.closed = true;
  }
}
