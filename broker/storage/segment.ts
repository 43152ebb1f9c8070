import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readInt64 } from '../../protocol/bytes/varint.js';
import { decodeRecordBatch } from '../../protocol/record-batch/decode.js';
import {
  BATCH_LENGTH_OFFSET,
  HEADER_PREFIX_SIZE,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  TimestampType,
} from '../../protocol/record-batch/layout.js';
import { CorruptSegmentError, StorageError } from './errors.js';
import type { FileHandlePool } from './file-handle-pool.js';
import { checkBatchAt, type ScannedBatch, type ScanResult, scanSegment } from './segment-scanner.js';
import { offsetIndexCodec, SparseIndex, timeIndexCodec } from './sparse-index.js';

/** Kafka's file naming: the base offset zero-padded to 20 digits. */
export function segmentFileStem(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

export interface SegmentOptions {
  indexIntervalBytes: number;
  verifyChecksumsOnRead: boolean;
}

/** One appended batch as the segment indexes it, with its final (assigned) offsets. */
export interface AppendedBatch {
  /** Position of the batch within the appended buffer. */
  position: number;
  sizeInBytes: number;
  baseOffset: number;
  maxTimestamp: number;
}

export interface SegmentReadResult {
  records: Buffer;
  firstOffset: number;
  /** The offset after the last returned batch. */
  nextOffset: number;
}

/**
 * One segment of a partition log: `<baseOffset>.log` holding RecordBatch v2 bytes exactly as
 * produced (with offsets assigned), plus a sparse offset index (`.index`) and time index
 * (`.timeindex`).
 *
 * Invariants:
 * - bytes [0, size) of the log file are whole, valid batches with strictly increasing offsets, all
 *   >= baseOffset; `nextOffset` is one past the last of them (baseOffset when empty);
 * - every offset-index entry (offset, position) names the start of the batch whose base offset is
 *   `offset`; every time-index entry (t, offset) says no record before that batch's end has a
 *   timestamp above t;
 * - `size` only grows after the bytes are written, so concurrent readers never see a partial batch.
 *
 * Sealed segments are opened lazily: nothing is read until the first lookup needs the indexes.
 */
export class LogSegment {
  readonly logPath: string;
  private readonly offsetIndex: SparseIndex;
  private readonly timeIndex: SparseIndex;
  private loaded = false;
  private loading: Promise<void> | null = null;
  private bytesSinceLastIndexEntry = 0;
  private flushedSize: number;
  /**
   * Bytes [0, verifiedSize) are known to pass their CRC: they were validated before this process
   * appended them, or re-checked by recovery or by an earlier read. Bytes loaded from disk are
   * checked once, before they are first served, so corruption is reported rather than served
   * without paying for a CRC on every read.
   */
  private verifiedSize: number;
  /** Where the last read ended, so a sequential consumer's next read needs no index lookup. */
  private readCursor: { offset: number; position: number; nextBatchSize: number } | null = null;

  nextOffset: number;
  maxTimestamp = -1;
  private offsetOfMaxTimestamp = -1;
  /** Max timestamp of the first batch; the segment's age for time-based rolling. */
  firstBatchTimestamp: number | null = null;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private size: number,
    private readonly pool: FileHandlePool,
    private readonly options: SegmentOptions,
  ) {
    const stem = join(dir, segmentFileStem(baseOffset));
    this.logPath = `${stem}.log`;
    this.offsetIndex = new SparseIndex(`${stem}.index`, offsetIndexCodec, baseOffset);
    this.timeIndex = new SparseIndex(`${stem}.timeindex`, timeIndexCodec, baseOffset);
    this.nextOffset = baseOffset;
    this.flushedSize = size;
    this.verifiedSize = options.verifyChecksumsOnRead ? 0 : Number.POSITIVE_INFINITY;
  }

  /** Creates an empty segment and its (empty) files. */
  static async create(
    dir: string,
    baseOffset: number,
    pool: FileHandlePool,
    options: SegmentOptions,
  ): Promise<LogSegment> {
    const segment = new LogSegment(dir, baseOffset, 0, pool, options);
    for (const path of [segment.logPath, segment.offsetIndex.path, segment.timeIndex.path]) {
      await (await open(path, 'w')).close();
    }
    segment.loaded = true;
    return segment;
  }

  /** A handle on an existing segment; its indexes load on first use. */
  static existing(
    dir: string,
    baseOffset: number,
    size: number,
    pool: FileHandlePool,
    options: SegmentOptions,
  ): LogSegment {
    return new LogSegment(dir, baseOffset, size, pool, options);
  }

  get sizeInBytes(): number {
    return this.size;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** The index files beside the log file (complete on disk once the segment is sealed). */
  get indexPaths(): { offsetIndex: string; timeIndex: string } {
    return { offsetIndex: this.offsetIndex.path, timeIndex: this.timeIndex.path };
  }

  get hasUnflushedData(): boolean {
    return this.flushedSize < this.size;
  }

  /**
   * Loads the indexes (rebuilding them if missing or untrustworthy) and scans the tail past the
   * last index entry to learn the next offset and max timestamp. Idempotent and concurrency-safe.
   */
  ensureLoaded(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    let trusted =
      (await this.offsetIndex.load(this.pool)) &&
      (await this.timeIndex.load(this.pool)) &&
      this.indexesFitLog();
    if (!trusted) {
      this.offsetIndex.clear();
      this.timeIndex.clear();
    }
    let result = await this.rederiveTail();
    if (result.failure && trusted) {
      // The scan from the last index entry failed: the index may be what is wrong (an entry that
      // does not point at a batch would give a wrong next offset). Rebuild it from the start.
      this.offsetIndex.clear();
      this.timeIndex.clear();
      trusted = false;
      result = await this.rederiveTail();
    }
    if (result.failure) {
      // Only sealed segments load lazily, and their tails were validated before sealing, so this is
      // corruption. Keep what is readable; a read that reaches the bad bytes reports them.
      this.size = Math.max(result.validEnd, this.size);
    }
    if (!trusted) await this.persistIndexes(false);
    this.loaded = true;
  }

  /**
   * Derives nextOffset, the max timestamp and the first batch's timestamp from the indexes plus a
   * scan of the batches after the last offset-index entry, re-adding any index entries it passes.
   */
  private async rederiveTail(verifyCrc = false): Promise<ScanResult> {
    const lastTime = this.timeIndex.lastEntry;
    this.maxTimestamp = lastTime ? lastTime.key : -1;
    this.offsetOfMaxTimestamp = lastTime ? lastTime.value : -1;
    const last = this.offsetIndex.lastEntry;
    this.nextOffset = last ? last.key : this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.firstBatchTimestamp = null;
    const result = await this.scanAndIndex(last ? last.value : 0, verifyCrc);
    if (last && this.size > 0) {
      const header = await this.readAt(0, MAX_TIMESTAMP_OFFSET + 8);
      // Only used for time-based rolling; a corrupt value is reported when the batch is read.
      this.firstBatchTimestamp = readInt64OrNull(header, MAX_TIMESTAMP_OFFSET);
    }
    return result;
  }

  private indexesFitLog(): boolean {
    const lastOffsetEntry = this.offsetIndex.lastEntry;
    if (lastOffsetEntry && (lastOffsetEntry.value >= this.size || lastOffsetEntry.key < this.baseOffset)) {
      return false;
    }
    const firstOffsetEntry = this.offsetIndex.size > 0 ? this.offsetIndex.entryAt(0) : undefined;
    if (firstOffsetEntry && firstOffsetEntry.key < this.baseOffset) return false;
    const lastTimeEntry = this.timeIndex.lastEntry;
    return !lastTimeEntry || lastTimeEntry.value >= this.baseOffset;
  }

  /** Scans from `from` to the end, adding index entries and tracking offsets and timestamps. */
  private scanAndIndex(from: number, verifyCrc: boolean): Promise<ScanResult> {
    return this.pool.withHandle(this.logPath, (handle) =>
      scanSegment(handle, from, this.size, { verifyCrc, minBaseOffset: this.nextOffset }, (batch) => {
        this.trackBatch(batch.position, batch.sizeInBytes, batch.baseOffset, batch.maxTimestamp);
        this.nextOffset = batch.lastOffset + 1;
        return true;
      }),
    );
  }

  /** Updates indexes and summary fields for a batch now at file position `position`. */
  private trackBatch(position: number, size: number, baseOffset: number, maxTimestamp: number): void {
    if (this.firstBatchTimestamp === null) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = baseOffset;
    }
    if (this.bytesSinceLastIndexEntry >= this.options.indexIntervalBytes) {
      this.offsetIndex.append(baseOffset, position);
      this.timeIndex.append(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
  }

  /**
   * Re-validates the whole segment by CRC after an unclean shutdown, truncates a torn or corrupt
   * tail, and rebuilds both indexes. Returns the number of bytes cut off.
   */
  async recover(): Promise<{ truncatedBytes: number; reason?: string }> {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    const fileSize = await this.pool.withHandle(this.logPath, async (handle) => (await handle.stat()).size);
    this.size = fileSize;
    const result = await this.rederiveTail(true);
    const truncatedBytes = fileSize - result.validEnd;
    if (truncatedBytes > 0) {
      await this.pool.withHandle(this.logPath, (handle) => handle.truncate(result.validEnd));
    }
    this.size = result.validEnd;
    this.flushedSize = this.size;
    this.verifiedSize = Math.max(this.verifiedSize, this.size);
    this.readCursor = null;
    await this.persistIndexes(false);
    this.loaded = true;
    return { truncatedBytes, ...(result.failure ? { reason: result.failure.reason } : {}) };
  }

  /**
   * Appends `buf` (whole batches whose offsets are already assigned) at the end of the file and
   * indexes them. On a write error the file is cut back to its previous size, so no partial batch
   * survives.
   */
  async append(buf: Buffer, batches: readonly AppendedBatch[], lastOffset: number): Promise<void> {
    const start = this.size;
    await this.pool.withHandle(this.logPath, async (handle) => {
      try {
        let written = 0;
        while (written < buf.length) {
          const { bytesWritten } = await handle.write(buf, written, buf.length - written, start + written);
          written += bytesWritten;
        }
      } catch (error) {
        await handle.truncate(start).catch(() => undefined);
        throw new StorageError(`write to ${this.logPath} failed`, { cause: error });
      }
    });
    for (const batch of batches) {
      this.trackBatch(start + batch.position, batch.sizeInBytes, batch.baseOffset, batch.maxTimestamp);
    }
    this.nextOffset = lastOffset + 1;
    this.size = start + buf.length;
    // Appended batches were validated by the caller (the produce path checks every CRC once).
    if (this.verifiedSize === start) this.verifiedSize = this.size;
  }

  /**
   * File position of the first batch whose last offset is >= `offset`, with that batch's base
   * offset, or null if there is none before `limit`.
   */
  private async locate(
    offset: number,
    limit: number,
  ): Promise<{ position: number; baseOffset: number } | null> {
    // A sequential reader asks for exactly the offset where its last read ended: that is the base
    // offset of the batch at the cursor, so no header needs reading.
    const cursor = this.readCursor;
    if (cursor && cursor.offset === offset && cursor.position + HEADER_PREFIX_SIZE <= limit) {
      return { position: cursor.position, baseOffset: offset };
    }
    let position = this.offsetIndex.floor(offset)?.value ?? 0;
    const header = Buffer.allocUnsafe(HEADER_PREFIX_SIZE);
    return this.pool.withHandle(this.logPath, async (handle) => {
      while (position + HEADER_PREFIX_SIZE <= limit) {
        const { bytesRead } = await handle.read(header, 0, HEADER_PREFIX_SIZE, position);
        if (bytesRead < HEADER_PREFIX_SIZE) break;
        const baseOffset = readInt64OrNull(header, 0);
        if (baseOffset === null)
          throw new CorruptSegmentError(this.logPath, position, 'base offset out of range');
        const size = header.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
        if (size < HEADER_PREFIX_SIZE || position + size > limit) {
          throw new CorruptSegmentError(this.logPath, position, `invalid batch length ${size}`);
        }
        if (baseOffset + header.readInt32BE(LAST_OFFSET_DELTA_OFFSET) >= offset)
          return { position, baseOffset };
        position += size;
      }
      return null;
    });
  }

  /**
   * Reads whole batches starting with the one that contains `offset`, up to `maxBytes`, but always
   * at least one batch if one exists (as Kafka does since KIP-74). Stops before any batch whose
   * last offset is >= `maxOffsetExclusive` (the high watermark, for consumers).
   *
   * With `into`, bytes are read into that buffer when they fit and the result is a view of it,
   * valid until the caller reuses the buffer; this keeps steady-state reads allocation-free.
   */
  async read(
    offset: number,
    maxBytes: number,
    maxOffsetExclusive = Number.MAX_SAFE_INTEGER,
    into?: Buffer,
  ): Promise<SegmentReadResult | null> {
    if (!this.loaded) await this.ensureLoaded();
    const limit = this.size;
    const start = await this.locate(offset, limit);
    if (!start || start.baseOffset >= maxOffsetExclusive) return null;
    // Read a whole first batch even past maxBytes when the cursor already knows its size, plus
    // the next batch's header, so the next sequential read can also be a single read.
    const cursor = this.readCursor;
    const knownFirstSize = cursor && cursor.position === start.position ? cursor.nextBatchSize : 0;
    const budget = Math.max(maxBytes, knownFirstSize);
    const length = Math.max(Math.min(budget + HEADER_PREFIX_SIZE, limit - start.position), LOG_OVERHEAD);
    let chunk = await this.readAt(start.position, length, into);
    let end = this.framedEnd(chunk, start.position, maxOffsetExclusive, budget);
    if (end === 0) {
      // The first batch alone exceeds maxBytes: return it whole, reading only what is missing.
      const firstSize = chunk.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (firstSize < LOG_OVERHEAD || start.position + firstSize > limit) {
        throw new CorruptSegmentError(this.logPath, start.position, `invalid batch length ${firstSize}`);
      }
      // Also take the next batch's header, so the cursor can size the next read.
      const wanted = Math.min(firstSize + HEADER_PREFIX_SIZE, limit - start.position);
      // `chunk` is a prefix of `into` when it was used; keep reading into it if the batch fits.
      const reuse = into !== undefined && chunk.buffer === into.buffer && into.length >= wanted;
      const whole = reuse ? into : Buffer.allocUnsafe(wanted);
      if (!reuse) chunk.copy(whole, 0, 0, chunk.length);
      await this.readAt(
        start.position + chunk.length,
        wanted - chunk.length,
        whole.subarray(chunk.length, wanted),
      );
      chunk = whole.subarray(0, wanted);
      end = this.framedEnd(chunk, start.position, maxOffsetExclusive, firstSize);
      if (end === 0) return null;
    }
    let records = end === chunk.length ? chunk : chunk.subarray(0, end);
    if (start.position + records.length > this.verifiedSize) {
      records = records.subarray(0, await this.verify(records, start.position));
      end = records.length;
    }
    const lastBatchStart = this.lastBatchStart(records);
    const nextOffset =
      readInt64(records, lastBatchStart) + records.readInt32BE(lastBatchStart + LAST_OFFSET_DELTA_OFFSET) + 1;
    const nextBatchSize =
      chunk.length >= end + LOG_OVERHEAD ? chunk.readInt32BE(end + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD : 0;
    this.readCursor = { offset: nextOffset, position: start.position + end, nextBatchSize };
    return { records, firstOffset: start.baseOffset, nextOffset };
  }

  private framedEnd(chunk: Buffer, position: number, maxOffsetExclusive: number, budget: number): number {
    const { end, corruptAt } = wholeBatchesEnd(chunk, maxOffsetExclusive, budget);
    if (corruptAt !== undefined && corruptAt === 0) {
      throw new CorruptSegmentError(this.logPath, position + corruptAt, 'base offset out of range');
    }
    return end;
  }

  /**
   * Checks the batches in `records` (read from file position `position`) that were not verified
   * before, and returns how many leading bytes are good. A read that reaches corrupt bytes serves
   * the good batches before them; a read that starts at them gets CorruptSegmentError.
   */
  private async verify(records: Buffer, position: number): Promise<number> {
    const end = position + records.length;
    if (end <= this.verifiedSize) return records.length;
    if (this.verifiedSize < position) {
      // A read that skips ahead of the verified prefix: check the gap from the file first.
      const result = await this.pool.withHandle(this.logPath, (handle) =>
        scanSegment(handle, this.verifiedSize, position, { verifyCrc: true, minBaseOffset: 0 }, () => true),
      );
      if (result.failure)
        throw new CorruptSegmentError(this.logPath, result.failure.position, result.failure.reason);
      this.verifiedSize = Math.max(this.verifiedSize, result.validEnd);
    }
    let p = Math.max(this.verifiedSize - position, 0);
    while (p < records.length) {
      const size = records.readInt32BE(p + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      const problem = checkBatchAt(records, p, size, true);
      if (problem !== null) {
        if (p === 0) throw new CorruptSegmentError(this.logPath, position, problem);
        return p;
      }
      p += size;
      this.verifiedSize = Math.max(this.verifiedSize, position + p);
    }
    return records.length;
  }

  /** Reads `length` bytes at `position`, into `into` when it is large enough. */
  private async readAt(position: number, length: number, into?: Buffer): Promise<Buffer> {
    const wanted = Math.min(length, this.size - position);
    const buf = into && into.length >= wanted ? into.subarray(0, wanted) : Buffer.allocUnsafe(wanted);
    await this.pool.withHandle(this.logPath, async (handle) => {
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
        if (bytesRead === 0)
          throw new CorruptSegmentError(this.logPath, position + done, 'unexpected end of file');
        done += bytesRead;
      }
    });
    return buf;
  }

  private lastBatchStart(records: Buffer): number {
    let p = 0;
    for (;;) {
      const size = records.readInt32BE(p + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (p + size >= records.length) return p;
      p += size;
    }
  }

  /**
   * The first record at or after `minOffset` whose timestamp is >= `timestamp`, or null if every
   * record is older. Decodes only the batch that holds the answer.
   */
  async offsetForTimestamp(
    timestamp: number,
    minOffset: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    await this.ensureLoaded();
    if (this.maxTimestamp < timestamp) return null;
    const fromOffset = Math.max(this.timeIndex.below(timestamp)?.value ?? this.baseOffset, minOffset);
    const from = this.offsetIndex.floor(fromOffset)?.value ?? 0;
    let found: { offset: number; timestamp: number } | null = null;
    let failure: unknown = null;
    await this.pool.withHandle(this.logPath, (handle) =>
      scanSegment(handle, from, this.size, { verifyCrc: false, minBaseOffset: 0 }, (batch: ScannedBatch) => {
        if (batch.lastOffset < minOffset || batch.maxTimestamp < timestamp) return true;
        try {
          found = firstRecordAtOrAfter(batch, timestamp, minOffset);
        } catch (error) {
          failure = new CorruptSegmentError(this.logPath, batch.position, 'undecodable batch', {
            cause: error,
          });
          return false;
        }
        return found === null;
      }),
    );
    if (failure) throw failure;
    return found;
  }

  /**
   * Removes every batch whose last offset is >= `offset`, which may cut below `offset` when it
   * falls inside a batch. Returns the new next offset.
   */
  async truncateTo(offset: number): Promise<number> {
    await this.ensureLoaded();
    if (offset >= this.nextOffset) return this.nextOffset;
    const start = await this.locate(offset, this.size);
    const position = start ? start.position : this.size;
    await this.pool.withHandle(this.logPath, (handle) => handle.truncate(position));
    this.size = position;
    this.flushedSize = Math.min(this.flushedSize, position);
    this.verifiedSize = Math.min(this.verifiedSize, position);
    this.readCursor = null;
    this.offsetIndex.truncateFromValue(position);
    if (start) this.timeIndex.truncateFromValue(start.baseOffset);
    await this.rederiveTail();
    return this.nextOffset;
  }

  /** fsyncs the log file if it has unflushed bytes. */
  async flush(): Promise<void> {
    if (!this.hasUnflushedData) return;
    const target = this.size;
    await this.pool.withHandle(this.logPath, (handle) => handle.datasync());
    this.flushedSize = Math.max(this.flushedSize, target);
  }

  /**
   * Makes the segment durable and self-describing before it becomes immutable (on roll) or the log
   * closes: a final time-index entry records the max timestamp, then indexes and log are fsynced.
   */
  async seal(): Promise<void> {
    await this.ensureLoaded();
    if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, this.offsetOfMaxTimestamp);
    await this.persistIndexes(true);
    await this.flush();
  }

  private async persistIndexes(sync: boolean): Promise<void> {
    await this.offsetIndex.persist(this.pool, sync);
    await this.timeIndex.persist(this.pool, sync);
  }

  /** Closes handles and deletes the segment's files. */
  async delete(): Promise<void> {
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) {
      await this.pool.evict(path);
      await rm(path, { force: true });
    }
  }

  /** Closes the segment's handles without deleting anything. */
  async release(): Promise<void> {
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path])
      await this.pool.evict(path);
  }
}

/** An int64 header field, or null when no valid batch could hold it (beyond Number's safe range). */
function readInt64OrNull(buf: Buffer, position: number): number | null {
  const value = buf.readInt32BE(position) * 2 ** 32 + buf.readUInt32BE(position + 4);
  return Number.isSafeInteger(value) ? value : null;
}

function firstRecordAtOrAfter(
  batch: ScannedBatch,
  timestamp: number,
  minOffset: number,
): { offset: number; timestamp: number } | null {
  const decoded = decodeRecordBatch(batch.chunk, batch.chunkPosition, { verifyCrc: true });
  for (const record of decoded.records) {
    const offset = decoded.baseOffset + record.offsetDelta;
    const recordTimestamp =
      decoded.timestampType === TimestampType.LogAppendTime
        ? decoded.maxTimestamp
        : decoded.baseTimestamp + record.timestampDelta;
    if (offset >= minOffset && recordTimestamp >= timestamp) return { offset, timestamp: recordTimestamp };
  }
  return null;
}

/**
 * Length of the prefix of `chunk` made of whole batches whose last offset is below
 * `maxOffsetExclusive` that fit in `budget` bytes. Framing only; CRCs are checked by LogSegment.verify. Returns the position
 * of a batch whose base offset is unusable (it sits outside the CRC) as `corruptAt`.
 */
function wholeBatchesEnd(
  chunk: Buffer,
  maxOffsetExclusive: number,
  budget: number,
): { end: number; corruptAt?: number } {
  let p = 0;
  while (p + HEADER_PREFIX_SIZE <= chunk.length) {
    const size = chunk.readInt32BE(p + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size < HEADER_PREFIX_SIZE || p + size > chunk.length || p + size > budget) break;
    const baseOffset = readInt64OrNull(chunk, p);
    if (baseOffset === null) return { end: p, corruptAt: p };
    if (baseOffset + chunk.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET) >= maxOffsetExclusive) break;
    p += size;
  }
  return { end: p };
}
