import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  scanRecordBatches,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
} from '../../protocol/record-batch/header.js';
import { type Logger, silentLogger } from '../common/logger.js';
import { SerialQueue } from '../common/serial-queue.js';
import {
  readFileIfExists,
  readOffsetCheckpoint,
  removeFileIfExists,
  syncDirectory,
  writeFileAtomically,
  writeOffsetCheckpoint,
} from './checkpoint-file.js';
import {
  InvalidBatchError,
  LogClosedError,
  NonMonotonicOffsetError,
  OffsetOutOfRangeError,
} from './errors.js';
import { FileHandlePool } from './file-handle-pool.js';
import { LeaderEpochCheckpoint } from './leader-epoch-checkpoint.js';
import { type LogConfig, type LogConfigInput, parseLogConfig } from './log-config.js';
import { type AppendedBatch, LogSegment } from './segment.js';

export const RECOVERY_POINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_FILE = 'log-start-offset-checkpoint';
export const LEADER_EPOCH_FILE = 'leader-epoch-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';

/** Offsets relative to a segment's base are stored as uint32 in its index. */
const MAX_RELATIVE_OFFSET = 0xffffffff;

export interface PartitionLogOptions {
  config?: LogConfigInput;
  /** Shared handle cache; a log opened alone gets a private one. */
  pool?: FileHandlePool;
  logger?: Logger;
  /** Clock, injectable for time-based rolling tests. */
  now?: () => number;
}

export interface AppendResult {
  firstOffset: number;
  lastOffset: number;
  /** The broker's append time when the topic uses LogAppendTime, else -1. */
  logAppendTime: number;
  maxTimestamp: number;
  batchCount: number;
  sizeInBytes: number;
}

/** A sealed (immutable) segment as tiering sees it. */
export interface SealedSegment {
  baseOffset: number;
  /** The last offset in the segment (inclusive). */
  endOffset: number;
  sizeInBytes: number;
  /** Max record timestamp (-1 if unknown). */
  maxTimestamp: number;
  logPath: string;
  offsetIndexPath: string;
  timeIndexPath: string;
}

export interface ReadResult {
  /** Whole batches, as stored. Empty when there is nothing at or after the offset. */
  records: Buffer;
  /** Offset after the last returned batch (the requested offset when nothing was returned). */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

/**
 * The append-only log of one partition: an ordered list of segments in one directory.
 *
 * Offsets and invariants:
 * - logStartOffset <= every readable offset < logEndOffset (LEO). LEO is one past the last
 *   appended record; it only moves back through truncateTo.
 * - recoveryPoint <= LEO: everything below it is fsynced. After a crash, only segments that may
 *   hold offsets at or past the checkpointed recovery point are re-validated.
 * - Segments are sorted by base offset; only the last (the active segment) is appended to.
 * - Mutations are serialized; reads run concurrently and only see fully written batches.
 * - The high watermark is not kept here: the replication layer passes it to `read` as maxOffset.
 */
export class PartitionLog {
  private segments: LogSegment[] = [];
  private readonly mutations = new SerialQueue();
  private pendingSeal: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private _logStartOffset = 0;
  private _logEndOffset = 0;
  private _recoveryPoint = 0;
  /** Counts truncations, so a flush that raced one does not advance the recovery point. */
  private truncations = 0;

  private constructor(
    readonly dir: string,
    readonly config: LogConfig,
    private readonly pool: FileHandlePool,
    private readonly ownsPool: boolean,
    private readonly logger: Logger,
    private readonly now: () => number,
    readonly leaderEpochs: LeaderEpochCheckpoint,
  ) {}

  /** Opens (creating if needed) the log in `dir`, recovering it if it was not shut down cleanly. */
  static async open(dir: string, options: PartitionLogOptions = {}): Promise<PartitionLog> {
    const config = parseLogConfig(options.config);
    await mkdir(dir, { recursive: true });
    const pool = options.pool ?? new FileHandlePool(64);
    const logger = (options.logger ?? silentLogger()).child({ log: dir });
    const epochs = await LeaderEpochCheckpoint.load(join(dir, LEADER_EPOCH_FILE));
    const log = new PartitionLog(dir, config, pool, !options.pool, logger, options.now ?? Date.now, epochs);
    await log.load();
    if (config.flush.mode === 'interval') {
      log.flushTimer = setInterval(() => {
        log.flush().catch((error: unknown) => log.logger.error({ err: error }, 'periodic flush failed'));
      }, config.flush.intervalMs);
      log.flushTimer.unref();
    }
    return log;
  }

  get logStartOffset(): number {
    return this._logStartOffset;
  }

  get logEndOffset(): number {
    return this._logEndOffset;
  }

  /** Offsets below this are durable on disk. */
  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  get sizeInBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.sizeInBytes, 0);
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  private segmentOptions() {
    return {
      indexIntervalBytes: this.config.indexIntervalBytes,
      verifyChecksumsOnRead: this.config.verifyChecksumsOnRead,
    };
  }

  private async load(): Promise<void> {
    const names = await readdir(this.dir);
    const logStems = new Set(names.filter((n) => n.endsWith('.log')).map((n) => n.slice(0, -'.log'.length)));
    for (const name of names) {
      // Left by an interrupted checkpoint write, or by a crash while deleting a segment.
      const orphanIndex = /^\d{20}\.(index|timeindex)$/.test(name) && !logStems.has(name.slice(0, 20));
      if (name.endsWith('.tmp') || orphanIndex) await removeFileIfExists(join(this.dir, name));
    }
    const baseOffsets = names
      .filter((name) => /^\d{20}\.log$/.test(name))
      .map((name) => Number(name.slice(0, 20)))
      .sort((a, b) => a - b);
    const cleanMarker = join(this.dir, CLEAN_SHUTDOWN_FILE);
    const clean = (await readFileIfExists(cleanMarker)) !== null;
    if (clean) {
      // From here on a crash must be treated as unclean, so the marker's removal must be durable.
      await removeFileIfExists(cleanMarker);
      await syncDirectory(this.dir);
    }
    const checkpointedRecoveryPoint = (await readOffsetCheckpoint(join(this.dir, RECOVERY_POINT_FILE))) ?? 0;
    const checkpointedStart = (await readOffsetCheckpoint(join(this.dir, LOG_START_OFFSET_FILE))) ?? 0;

    for (const baseOffset of baseOffsets) {
      const { size } = await stat(join(this.dir, `${String(baseOffset).padStart(20, '0')}.log`));
      this.segments.push(LogSegment.existing(this.dir, baseOffset, size, this.pool, this.segmentOptions()));
    }
    if (this.segments.length === 0) {
      this.segments.push(
        await LogSegment.create(this.dir, checkpointedStart, this.pool, this.segmentOptions()),
      );
    }

    if (clean) {
      await this.active.ensureLoaded();
    } else {
      await this.recover(checkpointedRecoveryPoint);
    }
    this._logEndOffset = this.active.nextOffset;
    this._logStartOffset = Math.min(
      Math.max(checkpointedStart, this.segments[0]!.baseOffset),
      this._logEndOffset,
    );
    this._recoveryPoint = this._logEndOffset;
    let epochsChanged = this.leaderEpochs.truncateFromEnd(this._logEndOffset);
    epochsChanged = this.leaderEpochs.truncateFromStart(this._logStartOffset) || epochsChanged;
    if (epochsChanged) await this.leaderEpochs.persist();
    this.logger.info(
      {
        clean,
        segments: this.segments.length,
        logStartOffset: this._logStartOffset,
        logEndOffset: this._logEndOffset,
      },
      'log opened',
    );
  }

  /**
   * Re-validates every segment that may hold offsets at or past `recoveryPoint`. The first corrupt
   * or torn batch ends the log: it and everything after it (in later segments too) is removed,
   * because offsets past a hole could never be served in order. Data below the recovery point was
   * fsynced and is not touched.
   */
  private async recover(recoveryPoint: number): Promise<void> {
    let index = this.segments.findIndex((_segment, i) => {
      const next = this.segments[i + 1];
      return !next || next.baseOffset > recoveryPoint;
    });
    for (; index < this.segments.length; index++) {
      const segment = this.segments[index]!;
      const { truncatedBytes, reason } = await segment.recover();
      if (truncatedBytes > 0) {
        this.logger.warn(
          { segment: segment.logPath, truncatedBytes, reason, nextOffset: segment.nextOffset },
          'truncated corrupt or torn tail during recovery',
        );
        const dropped = this.segments.splice(index + 1);
        for (const later of dropped) {
          this.logger.warn({ segment: later.logPath }, 'deleting segment after corrupt tail');
          await later.delete();
        }
      }
    }
    await this.active.flush();
    await writeOffsetCheckpoint(join(this.dir, RECOVERY_POINT_FILE), this.active.baseOffset);
  }

  private ensureOpen(): void {
    if (this.closed) throw new LogClosedError(this.dir);
  }

  /**
   * Appends batches produced by a client, as the partition leader: validates framing and CRC
   * (unless the caller already did), assigns offsets from the log end offset by rewriting each
   * batch's base offset, stamps the leader epoch and, for LogAppendTime topics, the append time.
   * Records are never re-encoded. `batches` is modified in place.
   */
  appendAsLeader(
    batches: Buffer,
    options: { leaderEpoch: number; logAppendTime?: boolean; validated?: boolean },
  ): Promise<AppendResult> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      const spans = scanRecordBatches(batches, { verifyCrc: !options.validated });
      if (spans.length === 0) throw new InvalidBatchError('append needs at least one record batch', 0);
      const appendTime = options.logAppendTime ? this.now() : -1;
      let next = this._logEndOffset;
      let maxTimestamp = -1;
      const appended: AppendedBatch[] = [];
      for (const span of spans) {
        if (span.recordCount !== span.lastOffsetDelta + 1) {
          throw new InvalidBatchError(
            `batch has ${span.recordCount} records but a last offset delta of ${span.lastOffsetDelta}`,
            span.position,
          );
        }
        setBaseOffset(batches, span.position, next);
        setPartitionLeaderEpoch(batches, span.position, options.leaderEpoch);
        if (appendTime >= 0) setLogAppendTime(batches, span.position, span.sizeInBytes, appendTime);
        const batchMaxTimestamp = appendTime >= 0 ? appendTime : span.maxTimestamp;
        maxTimestamp = Math.max(maxTimestamp, batchMaxTimestamp);
        appended.push({
          position: span.position,
          sizeInBytes: span.sizeInBytes,
          baseOffset: next,
          maxTimestamp: batchMaxTimestamp,
        });
        next += span.lastOffsetDelta + 1;
      }
      const firstOffset = this._logEndOffset;
      await this.write(batches, appended, next - 1, [
        { epoch: options.leaderEpoch, startOffset: firstOffset },
      ]);
      return {
        firstOffset,
        lastOffset: next - 1,
        logAppendTime: appendTime,
        maxTimestamp,
        batchCount: spans.length,
        sizeInBytes: batches.length,
      };
    });
  }

  /**
   * Records that `epoch` starts at the current log end offset, as a new leader does before its
   * first append (KIP-101), so OffsetForLeaderEpoch can answer for an epoch with no batches yet.
   */
  assignLeaderEpoch(epoch: number): Promise<void> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      if (this.leaderEpochs.assign(epoch, this._logEndOffset)) await this.leaderEpochs.persist();
    });
  }

  /**
   * Appends batches copied from the leader, keeping their offsets and leader epochs. Offsets must
   * start at or after the log end offset and increase (gaps are allowed, as after compaction).
   */
  appendAsFollower(batches: Buffer): Promise<AppendResult> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      const spans = scanRecordBatches(batches, { verifyCrc: true });
      if (spans.length === 0) throw new InvalidBatchError('append needs at least one record batch', 0);
      let expectedMin = this._logEndOffset;
      let maxTimestamp = -1;
      const appended: AppendedBatch[] = [];
      const epochs: { epoch: number; startOffset: number }[] = [];
      for (const span of spans) {
        if (span.baseOffset < expectedMin) throw new NonMonotonicOffsetError(span.baseOffset, expectedMin);
        appended.push({
          position: span.position,
          sizeInBytes: span.sizeInBytes,
          baseOffset: span.baseOffset,
          maxTimestamp: span.maxTimestamp,
        });
        epochs.push({ epoch: span.partitionLeaderEpoch, startOffset: span.baseOffset });
        maxTimestamp = Math.max(maxTimestamp, span.maxTimestamp);
        expectedMin = span.baseOffset + span.lastOffsetDelta + 1;
      }
      const firstOffset = spans[0]!.baseOffset;
      await this.write(batches, appended, expectedMin - 1, epochs);
      return {
        firstOffset,
        lastOffset: expectedMin - 1,
        logAppendTime: -1,
        maxTimestamp,
        batchCount: spans.length,
        sizeInBytes: batches.length,
      };
    });
  }

  private async write(
    batches: Buffer,
    appended: AppendedBatch[],
    lastOffset: number,
    epochs: { epoch: number; startOffset: number }[],
  ): Promise<void> {
    const maxTimestamp = appended.reduce((max, batch) => Math.max(max, batch.maxTimestamp), -1);
    await this.maybeRoll(batches.length, appended[0]!.baseOffset, lastOffset, maxTimestamp);
    let epochsChanged = false;
    for (const { epoch, startOffset } of epochs)
      epochsChanged = this.leaderEpochs.assign(epoch, startOffset) || epochsChanged;
    if (epochsChanged) await this.leaderEpochs.persist();
    await this.active.append(batches, appended, lastOffset);
    this._logEndOffset = lastOffset + 1;
    if (this.config.flush.mode === 'every-batch') await this.flushActive();
  }

  /**
   * Rolls to a new segment when the append would overflow the active one by size, age or offset
   * range. Age is measured as Kafka does: the incoming batches' max timestamp minus the active
   * segment's first batch timestamp, so replayed or back-dated records do not roll every append.
   */
  private async maybeRoll(
    appendBytes: number,
    firstOffset: number,
    lastOffset: number,
    incomingMaxTimestamp: number,
  ): Promise<void> {
    const active = this.active;
    if (active.isEmpty) return;
    const full = active.sizeInBytes + appendBytes > this.config.segmentBytes;
    const old =
      active.firstBatchTimestamp !== null &&
      incomingMaxTimestamp - active.firstBatchTimestamp >= this.config.segmentMs;
    const offsetOverflow = lastOffset - active.baseOffset > MAX_RELATIVE_OFFSET;
    if (full || old || offsetOverflow) await this.rollAt(firstOffset);
  }

  /**
   * The sealed segments (every segment but the active one), oldest first. Their files are complete
   * and fsynced: sealing happens off the append path, so this waits for any seal in progress.
   */
  async sealedSegments(): Promise<SealedSegment[]> {
    this.ensureOpen();
    await this.pendingSeal;
    const sealed = this.segments.slice(0, -1);
    const result: SealedSegment[] = [];
    for (const segment of sealed) {
      await segment.ensureLoaded();
      if (segment.isEmpty) continue;
      const { offsetIndex, timeIndex } = segment.indexPaths;
      result.push({
        baseOffset: segment.baseOffset,
        endOffset: segment.nextOffset - 1,
        sizeInBytes: segment.sizeInBytes,
        maxTimestamp: segment.maxTimestamp,
        logPath: segment.logPath,
        offsetIndexPath: offsetIndex,
        timeIndexPath: timeIndex,
      });
    }
    return result;
  }

  /** Forces a roll: the next append goes to a new segment. No-op when the active segment is empty. */
  roll(): Promise<void> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      if (!this.active.isEmpty) await this.rollAt(this._logEndOffset);
    });
  }

  private async rollAt(baseOffset: number): Promise<void> {
    const sealed = this.active;
    const next = await LogSegment.create(this.dir, baseOffset, this.pool, this.segmentOptions());
    this.segments = [...this.segments, next];
    this.logger.debug({ sealed: sealed.baseOffset, next: baseOffset }, 'rolled segment');
    // Sealing fsyncs the old segment; do it off the append path (as Kafka does), then move the
    // checkpointed recovery point past it so a crash never re-scans sealed data.
    this.pendingSeal = this.pendingSeal
      .then(async () => {
        await sealed.seal();
        if (!this.closed) await writeOffsetCheckpoint(join(this.dir, RECOVERY_POINT_FILE), baseOffset);
      })
      .catch((error: unknown) =>
        this.logger.error({ err: error, segment: sealed.logPath }, 'sealing segment failed'),
      );
  }

  /**
   * Reads whole batches from `offset`, up to `maxBytes` but at least one batch if any exists.
   * `maxOffset` (exclusive; the high watermark for consumers) hides batches that end at or past it.
   * Throws OffsetOutOfRangeError outside [logStartOffset, logEndOffset].
   */
  async read(
    offset: number,
    maxBytes: number,
    options: { maxOffset?: number; buffer?: Buffer } = {},
  ): Promise<ReadResult> {
    this.ensureOpen();
    const logStartOffset = this._logStartOffset;
    const logEndOffset = this._logEndOffset;
    if (offset < logStartOffset || offset > logEndOffset) {
      throw new OffsetOutOfRangeError(offset, logStartOffset, logEndOffset);
    }
    const maxOffset = Math.min(options.maxOffset ?? logEndOffset, logEndOffset);
    const segments = this.segments;
    for (let i = floorSegmentIndex(segments, offset); i < segments.length; i++) {
      const result = await segments[i]!.read(offset, maxBytes, maxOffset, options.buffer);
      if (result)
        return { records: result.records, nextOffset: result.nextOffset, logStartOffset, logEndOffset };
    }
    return { records: Buffer.alloc(0), nextOffset: offset, logStartOffset, logEndOffset };
  }

  /**
   * The first offset whose record timestamp is >= `timestamp`, with that timestamp, or null when
   * every record is older (Kafka then answers with the log end offset).
   */
  async offsetForTimestamp(timestamp: number): Promise<{ offset: number; timestamp: number } | null> {
    this.ensureOpen();
    for (const segment of this.segments) {
      const found = await segment.offsetForTimestamp(timestamp, this._logStartOffset);
      if (found) return found;
    }
    return null;
  }

  /**
   * Removes everything at or after `offset` (whole batches: a batch containing `offset` goes too).
   * Used by followers to cut a divergent tail. Returns the new log end offset.
   */
  truncateTo(offset: number): Promise<number> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      if (offset >= this._logEndOffset) {
        // Nothing to cut, but an epoch that starts at the log end (a leadership with no records
        // yet) is forgotten too: the new leader's log does not have it.
        if (offset === this._logEndOffset && this.leaderEpochs.truncateFromEnd(offset)) {
          await this.leaderEpochs.persist();
        }
        return this._logEndOffset;
      }
      this.truncations++;
      if (offset <= this._logStartOffset) return this.resetTo(offset);
      await this.pendingSeal;
      const keep = this.segments.filter((s) => s.baseOffset < offset);
      const drop = this.segments.slice(keep.length);
      this.segments = keep;
      for (const segment of drop) await segment.delete();
      this._logEndOffset = await this.active.truncateTo(offset);
      this._recoveryPoint = Math.min(this._recoveryPoint, this._logEndOffset);
      await writeOffsetCheckpoint(join(this.dir, RECOVERY_POINT_FILE), this.active.baseOffset);
      if (this.leaderEpochs.truncateFromEnd(this._logEndOffset)) await this.leaderEpochs.persist();
      return this._logEndOffset;
    });
  }

  /** Deletes every segment and restarts the log empty at `offset` (Kafka's truncateFullyAndStartAt). */
  truncateFullyAndStartAt(offset: number): Promise<number> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      return this.resetTo(offset);
    });
  }

  private async resetTo(offset: number): Promise<number> {
    this.truncations++;
    await this.pendingSeal;
    for (const segment of this.segments) await segment.delete();
    this.segments = [await LogSegment.create(this.dir, offset, this.pool, this.segmentOptions())];
    this._logStartOffset = offset;
    this._logEndOffset = offset;
    this._recoveryPoint = offset;
    await writeOffsetCheckpoint(join(this.dir, LOG_START_OFFSET_FILE), offset);
    await writeOffsetCheckpoint(join(this.dir, RECOVERY_POINT_FILE), offset);
    if (this.leaderEpochs.truncateFromEnd(offset)) await this.leaderEpochs.persist();
    return offset;
  }

  /**
   * Advances the log start offset to `offset` (capped at the log end offset) and deletes the
   * segments wholly below it. The active segment is rolled first if it would be deleted, so the
   * log always has somewhere to append. Returns the number of segments deleted.
   */
  deleteSegmentsBefore(offset: number): Promise<number> {
    return this.mutations.run(async () => {
      this.ensureOpen();
      const target = Math.min(offset, this._logEndOffset);
      if (target <= this._logStartOffset) return 0;
      if (!this.active.isEmpty && this._logEndOffset <= target) await this.rollAt(this._logEndOffset);
      await this.pendingSeal;
      const doomed: LogSegment[] = [];
      while (this.segments.length > 1 && this.segments[1]!.baseOffset <= target)
        doomed.push(this.segments.shift()!);
      this.segments = [...this.segments];
      this._logStartOffset = target;
      await writeOffsetCheckpoint(join(this.dir, LOG_START_OFFSET_FILE), target);
      if (this.leaderEpochs.truncateFromStart(target)) await this.leaderEpochs.persist();
      for (const segment of doomed) await segment.delete();
      return doomed.length;
    });
  }

  /** fsyncs everything appended so far and advances the recovery point. */
  async flush(): Promise<void> {
    // The fsync runs outside the mutation queue so appends keep flowing while it completes; it
    // covers every byte written before it started, which is all the recovery point claims.
    await this.flushActive();
  }

  private async flushActive(): Promise<void> {
    if (this.closed) return;
    const target = this._logEndOffset;
    const truncations = this.truncations;
    const segment = this.active;
    await this.pendingSeal;
    await segment.flush();
    // A truncation while the fsync ran may have replaced the flushed offsets with new data.
    if (this.closed || truncations !== this.truncations) return;
    this._recoveryPoint = Math.max(this._recoveryPoint, Math.min(target, this._logEndOffset));
  }

  /** Flushes, persists indexes and checkpoints, and marks the shutdown clean. */
  close(): Promise<void> {
    return this.mutations.run(async () => {
      if (this.closed) return;
      if (this.flushTimer) clearInterval(this.flushTimer);
      await this.pendingSeal;
      await this.active.seal();
      await writeOffsetCheckpoint(join(this.dir, RECOVERY_POINT_FILE), this._logEndOffset);
      await writeOffsetCheckpoint(join(this.dir, LOG_START_OFFSET_FILE), this._logStartOffset);
      await writeFileAtomically(join(this.dir, CLEAN_SHUTDOWN_FILE), '');
      this.closed = true;
      for (const segment of this.segments) await segment.release();
      if (this.ownsPool) await this.pool.closeAll();
    });
  }
}

/** Index of the last segment whose base offset is <= `offset` (0 if none). */
function floorSegmentIndex(segments: readonly LogSegment[], offset: number): number {
  let low = 0;
  let high = segments.length - 1;
  let result = 0;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (segments[mid]!.baseOffset <= offset) {
      result = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return result;
}
