import { open, stat } from 'node:fs/promises';
import type { FileHandlePool } from './file-handle-pool.js';

/** How one kind of index lays out an entry on disk. Keys are strictly increasing within a file. */
export interface IndexEntryCodec {
  readonly entrySize: number;
  write(buf: Buffer, position: number, key: number, value: number, baseOffset: number): void;
  readKey(buf: Buffer, position: number, baseOffset: number): number;
  readValue(buf: Buffer, position: number, baseOffset: number): number;
}

export interface IndexEntry {
  key: number;
  value: number;
}

/**
 * A sparse, append-only index of (key, value) pairs with strictly increasing keys, held in memory
 * and persisted to its file in append-only fashion. The offset index and the time index are both
 * instances of this with different entry codecs.
 *
 * Invariants:
 * - keys[0..count) are strictly increasing;
 * - the first `persistedCount` entries are on disk exactly as in memory; anything in the file past
 *   them is stale and is cut off on the next persist.
 */
export class SparseIndex {
  private keys = new Float64Array(64);
  private values = new Float64Array(64);
  private count = 0;
  private persistedCount = 0;

  constructor(
    readonly path: string,
    private readonly codec: IndexEntryCodec,
    private readonly baseOffset: number,
  ) {}

  get size(): number {
    return this.count;
  }

  get lastEntry(): IndexEntry | undefined {
    if (this.count === 0) return undefined;
    return { key: this.keys[this.count - 1]!, value: this.values[this.count - 1]! };
  }

  entryAt(index: number): IndexEntry {
    return { key: this.keys[index]!, value: this.values[index]! };
  }

  /** Appends an entry; a key not above the last one is ignored (the index stays sparse and sorted). */
  append(key: number, value: number): void {
    if (this.count > 0 && key <= this.keys[this.count - 1]!) return;
    if (this.count === this.keys.length) {
      const keys = new Float64Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
      const values = new Float64Array(this.values.length * 2);
      values.set(this.values);
      this.values = values;
    }
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count++;
  }

  /** The entry with the largest key <= `key`, or undefined if every key is larger. */
  floor(key: number): IndexEntry | undefined {
    const index = this.floorIndex(key);
    return index < 0 ? undefined : this.entryAt(index);
  }

  /** The entry with the largest key < `key` (keys are integers), or undefined if there is none. */
  below(key: number): IndexEntry | undefined {
    return this.floor(key - 1);
  }

  /** Removes every entry whose key is >= `key`. */
  truncateFromKey(key: number): void {
    let index = this.floorIndex(key);
    if (index >= 0 && this.keys[index] === key) index--;
    this.count = index + 1;
    this.persistedCount = Math.min(this.persistedCount, this.count);
  }

  /** Removes every entry whose value is >= `value` (values are monotonic too). */
  truncateFromValue(value: number): void {
    let count = this.count;
    while (count > 0 && this.values[count - 1]! >= value) count--;
    this.count = count;
    this.persistedCount = Math.min(this.persistedCount, this.count);
  }

  clear(): void {
    this.count = 0;
    this.persistedCount = 0;
  }

  /**
   * Loads entries from the file. Returns false, leaving the index empty, when the file is missing
   * or not trustworthy: a size that is not a whole number of entries, or keys that do not increase.
   * The caller then rebuilds the index from the log.
   */
  async load(pool: FileHandlePool): Promise<boolean> {
    this.clear();
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch {
      return false;
    }
    const { entrySize } = this.codec;
    if (size % entrySize !== 0) return false;
    const buf = Buffer.allocUnsafe(size);
    if (size > 0) {
      await pool.withHandle(this.path, async (handle) => {
        const { bytesRead } = await handle.read(buf, 0, size, 0);
        if (bytesRead !== size) throw new Error(`short read of ${this.path}`);
      });
    }
    for (let position = 0; position < size; position += entrySize) {
      const key = this.codec.readKey(buf, position, this.baseOffset);
      if (this.count > 0 && key <= this.keys[this.count - 1]!) {
        this.clear();
        return false;
      }
      this.append(key, this.codec.readValue(buf, position, this.baseOffset));
    }
    this.persistedCount = this.count;
    return true;
  }

  /** Writes entries not yet on disk, cutting off any stale tail first. Does not fsync. */
  async persist(pool: FileHandlePool, sync: boolean): Promise<void> {
    const { entrySize } = this.codec;
    const pending = this.count - this.persistedCount;
    const buf = Buffer.allocUnsafe(pending * entrySize);
    for (let i = 0; i < pending; i++) {
      const index = this.persistedCount + i;
      this.codec.write(buf, i * entrySize, this.keys[index]!, this.values[index]!, this.baseOffset);
    }
    const start = this.persistedCount * entrySize;
    // A rewrite from scratch may be rebuilding a file that is missing (deleted, or a crash between
    // creating a segment's log and its indexes); the pool only opens existing files.
    if (start === 0) await (await open(this.path, 'a')).close();
    await pool.withHandle(this.path, async (handle) => {
      await handle.truncate(start);
      if (buf.length > 0) await handle.write(buf, 0, buf.length, start);
      if (sync) await handle.sync();
    });
    this.persistedCount = this.count;
  }

  private floorIndex(key: number): number {
    let low = 0;
    let high = this.count - 1;
    let result = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]! <= key) {
        result = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return result;
  }
}

/** Offset index entries: (offset relative to the segment base: uint32, file position: uint32). */
export const offsetIndexCodec: IndexEntryCodec = {
  entrySize: 8,
  write(buf, position, offset, filePosition, baseOffset) {
    buf.writeUInt32BE(offset - baseOffset, position);
    buf.writeUInt32BE(filePosition, position + 4);
  },
  readKey: (buf, position, baseOffset) => baseOffset + buf.readUInt32BE(position),
  readValue: (buf, position) => buf.readUInt32BE(position + 4),
};

/** Time index entries: (timestamp: int64, offset relative to the segment base: uint32). */
export const timeIndexCodec: IndexEntryCodec = {
  entrySize: 12,
  write(buf, position, timestamp, offset, baseOffset) {
    buf.writeBigInt64BE(BigInt(timestamp), position);
    buf.writeUInt32BE(offset - baseOffset, position + 8);
  },
  readKey: (buf, position) => Number(buf.readBigInt64BE(position)),
  readValue: (buf, position, baseOffset) => baseOffset + buf.readUInt32BE(position + 8),
};
