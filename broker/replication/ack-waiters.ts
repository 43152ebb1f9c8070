import { ReplicationTimeoutError } from './errors.js';

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * acks=all requests parked until the high watermark reaches their last offset + 1. Released in
 * offset order as the high watermark advances; failed together when the replica stops leading.
 */
export class AckWaiters {
  private waiters: Waiter[] = [];

  /** Resolves once `release(hw)` is called with hw >= offset (at once if `currentHw` already is). */
  wait(
    offset: number,
    currentHw: number,
    timeoutMs: number,
    topic: string,
    partition: number,
  ): Promise<void> {
    if (offset <= currentHw) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        offset,
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            reject(new ReplicationTimeoutError(topic, partition, offset - 1, timeoutMs));
          },
          Math.max(timeoutMs, 0),
        ),
      };
      this.waiters.push(waiter);
    });
  }

  release(highWatermark: number): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.offset <= highWatermark);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.offset > highWatermark);
    for (const waiter of ready) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  failAll(error: () => Error): void {
    const all = this.waiters;
    this.waiters = [];
    for (const waiter of all) {
      clearTimeout(waiter.timer);
      waiter.reject(error());
    }
  }

  get size(): number {
    return this.waiters.length;
  }
}
