import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveObjects } from '../../archive/archive-objects.js';
import type { RemoteSegment } from '../../archive/remote-segment.js';

type IndexKind = 'index' | 'timeindex';

/**
 * Remote segments' index files, cached on local disk (and the most recent in memory) under a
 * byte bound, least recently used first out. Remote reads need the offset index to turn an offset
 * into a byte position before the ranged GET; keeping it local saves a round trip to S3 per fetch.
 * Files are named by upload id, which is unique per committed upload, so entries never go stale.
 */
export class RemoteIndexCache {
  /** Insertion order is recency order: a hit is re-inserted at the end. */
  private readonly entries = new Map<string, number>();
  private bytes = 0;
  private readonly loading = new Map<string, Promise<Buffer>>();
  private readonly memory = new Map<string, Buffer>();
  private ready: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly objects: ArchiveObjects,
    private readonly maxBytes: number,
    private readonly memoryEntries = 16,
  ) {}

  /** The segment's offset index ('index') or time index ('timeindex'). */
  get(segment: RemoteSegment, kind: IndexKind): Promise<Buffer> {
    const name = `${segment.uploadId}.${kind}`;
    const cached = this.memory.get(name);
    if (cached) {
      this.touch(name);
      return Promise.resolve(cached);
    }
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(name, segment.keys[kind]).finally(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    return pending;
  }

  get sizeInBytes(): number {
    return this.bytes;
  }

  private async load(name: string, key: string): Promise<Buffer> {
    this.ready ??= this.init();
    await this.ready;
    const path = join(this.dir, name);
    let data: Buffer;
    if (this.entries.has(name)) {
      data = await readFile(path);
    } else {
      data = await this.objects.get(key);
      await writeFile(path, data);
      this.entries.set(name, data.length);
      this.bytes += data.length;
      await this.evict();
    }
    this.touch(name);
    this.memory.set(name, data);
    if (this.memory.size > this.memoryEntries) this.memory.delete(this.memory.keys().next().value!);
    return data;
  }

  private touch(name: string): void {
    const size = this.entries.get(name);
    if (size === undefined) return;
    this.entries.delete(name);
    this.entries.set(name, size);
  }

  private async evict(): Promise<void> {
    for (const [name, size] of this.entries) {
      if (this.bytes <= this.maxBytes || this.entries.size <= 1) break;
      this.entries.delete(name);
      this.memory.delete(name);
      this.bytes -= size;
      await rm(join(this.dir, name), { force: true });
    }
  }

  /** Starts empty: files left by an earlier process are removed rather than trusted. */
  private async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { force: true });
  }
}
