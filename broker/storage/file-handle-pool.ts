import { type FileHandle, open } from 'node:fs/promises';

interface PooledHandle {
  handle: Promise<FileHandle>;
  /** Operations currently using the handle; a handle in use is never closed. */
  inUse: number;
}

/**
 * A bounded LRU cache of open read-write file handles, shared by every segment and index of a
 * log manager so that thousands of partitions never exhaust file descriptors.
 *
 * Invariant: at most `maxOpen` handles are open, except while more than `maxOpen` are in use at
 * once; then the pool briefly exceeds the bound instead of deadlocking, and trims on release.
 */
export class FileHandlePool {
  private readonly entries = new Map<string, PooledHandle>();
  private opened = 0;
  private closed = 0;

  constructor(readonly maxOpen = 1024) {
    if (!Number.isInteger(maxOpen) || maxOpen < 1) throw new RangeError('maxOpen must be a positive integer');
  }

  /** Runs `fn` with an open handle for `path` (opened read-write; the file must exist). */
  async withHandle<T>(path: string, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.entries.get(path);
    if (entry) {
      // Move to the most-recently-used end.
      this.entries.delete(path);
      this.entries.set(path, entry);
    } else {
      entry = { handle: open(path, 'r+'), inUse: 0 };
      this.opened++;
      this.entries.set(path, entry);
      // A failed open must not poison the cache.
      entry.handle.catch(() => {
        if (this.entries.get(path) === entry) this.entries.delete(path);
      });
    }
    entry.inUse++;
    try {
      return await fn(await entry.handle);
    } finally {
      entry.inUse--;
      this.trim();
    }
  }

  /** Closes the handle for `path`, e.g. before the file is deleted or renamed. Waits for users. */
  async evict(path: string): Promise<void> {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    await this.closeEntry(entry);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => this.closeEntry(entry)));
  }

  get openCount(): number {
    return this.entries.size;
  }

  /** Counters for metrics and tests: how many opens and closes the bound has caused. */
  get stats(): { opened: number; closed: number; open: number } {
    return { opened: this.opened, closed: this.closed, open: this.entries.size };
  }

  private trim(): void {
    if (this.entries.size <= this.maxOpen) return;
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= this.maxOpen) break;
      if (entry.inUse > 0) continue;
      this.entries.delete(path);
      void this.closeEntry(entry);
    }
  }

  private async closeEntry(entry: PooledHandle): Promise<void> {
    while (entry.inUse > 0) await new Promise((resolve) => setImmediate(resolve));
    try {
      const handle = await entry.handle;
      this.closed++;
      await handle.close();
    } catch {
      // The open failed or the handle is already closed; nothing to release.
    }
  }
}
