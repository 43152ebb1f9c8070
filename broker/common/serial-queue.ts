/**
 * Runs async tasks one at a time, in submission order. A partition log's mutations (append,
 * roll, truncate, delete) go through one of these so they never interleave; reads do not.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // Keep the chain alive whatever the task's outcome; the caller sees the real result.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * One SerialQueue per key, created on demand and dropped once its last task settles, so keys
 * that come and go (e.g. partitions named by client requests) hold no memory when idle.
 */
export class KeyedSerialQueue {
  private readonly queues = new Map<string, { queue: SerialQueue; pending: number }>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let entry = this.queues.get(key);
    if (!entry) {
      entry = { queue: new SerialQueue(), pending: 0 };
      this.queues.set(key, entry);
    }
    const current = entry;
    current.pending++;
    return current.queue.run(task).finally(() => {
      if (--current.pending === 0 && this.queues.get(key) === current) this.queues.delete(key);
    });
  }

  /** Keys with tasks queued or running. */
  get size(): number {
    return this.queues.size;
  }
}
