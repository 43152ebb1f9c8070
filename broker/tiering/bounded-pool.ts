/**
 * Runs at most `limit` tasks at a time; the rest wait in FIFO order. Remote (S3) reads go through
 * one of these so a historical consumer can occupy only a few slots of the broker's I/O, never
 * the event loop or the local disk that produce and tail reads need.
 */
export class BoundedPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` never overshoots the limit.
      if (next) next();
      else this.running--;
    }
  }
}
