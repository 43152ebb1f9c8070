/**
 * Turns a push-style consumer (kafkajs's eachBatch callback) into the async iterable the consumer
 * benchmark reads, with backpressure: push() resolves once the reader is done with the item (asks
 * for the next one) or the channel ended, so the callback does not return, and kafkajs does not
 * move on, before the benchmark has counted the batch.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly queued: { value: T; taken: () => void }[] = [];
  private reader: ((result: IteratorResult<T, undefined>) => void) | undefined;
  /** Releases the pusher of the item the reader holds. */
  private releaseHeld: (() => void) | undefined;
  private ended = false;

  push(value: T): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((taken) => {
      const reader = this.reader;
      if (reader) {
        this.reader = undefined;
        this.releaseHeld = taken;
        reader({ value, done: false });
      } else {
        this.queued.push({ value, taken });
      }
    });
  }

  next(): Promise<IteratorResult<T, undefined>> {
    this.releaseHeld?.();
    this.releaseHeld = undefined;
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    const item = this.queued.shift();
    if (item) {
      this.releaseHeld = item.taken;
      return Promise.resolve({ value: item.value, done: false });
    }
    return new Promise((resolve) => {
      this.reader = resolve;
    });
  }

  /** Ends the iteration (a waiting next() resolves done) and releases every pusher. */
  end(): void {
    this.ended = true;
    this.releaseHeld?.();
    this.releaseHeld = undefined;
    for (const item of this.queued.splice(0)) item.taken();
    this.reader?.({ value: undefined, done: true });
    this.reader = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        this.end();
        return { value: undefined, done: true };
      },
    };
  }
}
