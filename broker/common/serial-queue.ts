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
