/**
 * Caps the operations a sender has outstanding (e.g. sends not acknowledged yet), so a fast source
 * waits for the broker instead of piling up promises: backpressure for a promise-per-record API.
 */
export class InFlightLimit {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly drained: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('the in-flight limit must be at least 1');
  }

  get inFlight(): number {
    return this.active;
  }

  /** Takes a slot if one is free (no waiting); false if all are taken. */
  tryAcquire(): boolean {
    if (this.active >= this.max || this.waiters.length > 0) return false;
    this.active++;
    return true;
  }

  /** Takes a slot, waiting (first come, first served) until one is free. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) =>
      this.waiters.push(() => {
        this.active++;
        resolve();
      }),
    );
  }

  /** Frees a slot, handing it to the oldest waiter. */
  release(): void {
    if (this.active === 0) throw new Error('release() without a slot');
    this.active--;
    const next = this.waiters.shift();
    if (next) next();
    else if (this.active === 0) for (const done of this.drained.splice(0)) done();
  }

  /** Resolves once nothing is in flight and nobody waits. */
  drain(): Promise<void> {
    if (this.active === 0 && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }
}
