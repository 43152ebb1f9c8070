import type { BatchSpan } from '../../protocol/record-batch/header.js';
import { scanRecordBatches } from '../../protocol/record-batch/header.js';
import { TIMESTAMP_TYPE_BIT, TRANSACTIONAL_BIT } from '../../protocol/record-batch/layout.js';
import type { PartitionLog } from '../storage/partition-log.js';
import {
  InvalidProducerBatchError,
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  TransactionalBatchNotSupportedError,
} from './producer-errors.js';
import {
  CorruptProducerSnapshotError,
  deleteSnapshot,
  deleteSnapshotsAbove,
  encodeProducerSnapshot,
  listSnapshotOffsets,
  MAX_CACHED_BATCHES,
  type ProducerBatchMetadata,
  type ProducerEntry,
  readSnapshotFile,
  removeSnapshotTempFiles,
  retainNewestSnapshots,
  writeSnapshotFile,
} from './producer-state-snapshot.js';

export type { ProducerBatchMetadata, ProducerEntry } from './producer-state-snapshot.js';

/**
 * Idempotent-producer state of one partition replica (KIP-98, without transactions): for each
 * producer id, its epoch and its last MAX_CACHED_BATCHES appended batches, so the leader can drop
 * retried batches and reject gaps.
 *
 * Rules the leader enforces (checkLeaderAppend):
 * - Only batches with producerId >= 0 are checked; transactional batches are rejected outright.
 * - An epoch below the known one is fenced (InvalidProducerEpochError).
 * - A higher epoch must start at sequence 0; the producer's old batches are forgotten.
 * - Within an epoch, each batch's first sequence must follow the previous batch's last sequence,
 *   wrapping from Int32 max to 0. This applies across batches of the same request too.
 * - A producer this partition does not know may start at any sequence and epoch. This is Kafka's
 *   behaviour since 2.5 (KIP-360): state legitimately disappears when the producer expires or the
 *   log loses its batches (retention, truncation), and a live producer must not be wedged by that.
 *   The price is that a retry of a batch whose state is gone is appended again; that needs the
 *   retry to arrive after `producerIdExpirationMs` of silence, which a client's delivery timeout
 *   (2 minutes by default) rules out.
 * - A batch matching one of the cached batches (same epoch, first and last sequence) is a
 *   duplicate: nothing is appended and the original offsets are reported. A request is either all
 *   duplicates or all new batches, because an append cannot be partial; a mix is rejected as out
 *   of order (clients never send one: a retry resends the exact same batches).
 *
 * Followers and log replay apply batches without checks (onAppended): the leader's log is the
 * truth, so the state always reflects the last batch each producer has in the log.
 *
 * Not concurrency-safe: the caller serializes check, append and onAppended per partition.
 */

const INT32_MAX = 0x7fffffff;
/** Kafka's default producer.id.expiration.ms: one day. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const DEFAULT_SNAPSHOTS_TO_RETAIN = 3;
const DEFAULT_REPLAY_CHUNK_BYTES = 1024 * 1024;

/** The header fields the leader checks; a BatchSpan from scanRecordBatches has them all. */
export type ProducerBatchHeader = Pick<
  BatchSpan,
  'producerId' | 'producerEpoch' | 'baseSequence' | 'lastOffsetDelta' | 'attributes'
>;

/** A batch that is in the log, with its real offsets. BatchSpans of appended batches qualify. */
export interface AppendedProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  baseOffset: number;
  lastOffsetDelta: number;
  /** The batch's max timestamp (for LogAppendTime topics, the append time stamped on it). */
  maxTimestamp: number;
  /** When given, a set LogAppendTime bit means the append time is maxTimestamp. */
  attributes?: number;
}

export type LeaderAppendCheck =
  | { kind: 'append' }
  /** Every batch was appended before: answer with these offsets and append nothing. */
  | { kind: 'duplicate'; firstOffset: number; lastOffset: number; logAppendTime: number };

/** The log surface replay needs; PartitionLog provides it. */
export type ReplayableLog = Pick<PartitionLog, 'dir' | 'read' | 'logStartOffset' | 'logEndOffset'>;

export interface ProducerStateOptions {
  /** A producer idle this long (by its batch timestamps) is forgotten at the next snapshot. */
  producerIdExpirationMs?: number;
  /** Snapshot files kept per partition; older ones are deleted after each write. */
  snapshotsToRetain?: number;
  /** Bytes read per log read while replaying. */
  replayChunkBytes?: number;
  /** Clock for expiry, injectable for tests. */
  now?: () => number;
}

export interface RebuildResult {
  /** Offset of the snapshot the state started from, or null when replay began at the log start. */
  snapshotOffset: number | null;
  /** Offset replay stopped at (exclusive): the state now reflects every batch below it. */
  endOffset: number;
  replayedBatches: number;
}

/** The last sequence of a batch, wrapping past Int32 max as producers do. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

function nextSequence(lastSeq: number): number {
  return lastSeq === INT32_MAX ? 0 : lastSeq + 1;
}

/**
 * Gives batches scanned before a leader append the offsets the append assigned them: the first
 * starts at `firstOffset` (AppendResult.firstOffset) and each next one follows the previous.
 */
export function withAssignedOffsets<T extends Omit<AppendedProducerBatch, 'baseOffset'>>(
  batches: readonly T[],
  firstOffset: number,
): (T & { baseOffset: number })[] {
  let next = firstOffset;
  return batches.map((batch) => {
    const baseOffset = next;
    next += batch.lastOffsetDelta + 1;
    return { ...batch, baseOffset };
  });
}

export class ProducerStateManager {
  private producers = new Map<number, ProducerEntry>();
  private readonly expirationMs: number;
  private readonly snapshotsToRetain: number;
  private readonly replayChunkBytes: number;
  private readonly now: () => number;

  constructor(options: ProducerStateOptions = {}) {
    this.expirationMs = options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.snapshotsToRetain = Math.max(1, options.snapshotsToRetain ?? DEFAULT_SNAPSHOTS_TO_RETAIN);
    this.replayChunkBytes = options.replayChunkBytes ?? DEFAULT_REPLAY_CHUNK_BYTES;
    this.now = options.now ?? Date.now;
  }

  /**
   * A manager for the partition in `dir`, with temp files of interrupted snapshot writes removed.
   * The state starts empty: call rebuild(log) before serving the partition.
   */
  static async open(dir: string, options: ProducerStateOptions = {}): Promise<ProducerStateManager> {
    await removeSnapshotTempFiles(dir);
    return new ProducerStateManager(options);
  }

  get producerCount(): number {
    return this.producers.size;
  }

  /** What the partition knows about `producerId` (a live view: do not mutate). */
  entry(producerId: number): Readonly<ProducerEntry> | undefined {
    return this.producers.get(producerId);
  }

  /** Every producer the partition knows, in insertion order (live views: do not mutate). */
  entries(): IterableIterator<Readonly<ProducerEntry>> {
    return this.producers.values();
  }

  clear(): void {
    this.producers.clear();
  }

  /**
   * Validates a produce request's batches before the leader appends them (offsets not assigned
   * yet). Throws OutOfOrderSequenceError, InvalidProducerEpochError or InvalidProducerBatchError
   * (TransactionalBatchNotSupportedError); changes no state.
   */
  checkLeaderAppend(batches: readonly ProducerBatchHeader[]): LeaderAppendCheck {
    // Each producer's epoch and last sequence as of the batches of this request checked so far.
    const pending = new Map<number, { epoch: number; lastSeq: number }>();
    let duplicate: { firstOffset: number; lastOffset: number; logAppendTime: number } | null = null;
    let appendCount = 0;
    for (const batch of batches) {
      const { producerId, producerEpoch, baseSequence } = batch;
      if ((batch.attributes & TRANSACTIONAL_BIT) !== 0) {
        throw new TransactionalBatchNotSupportedError(producerId);
      }
      if (producerId < 0) {
        appendCount++;
        continue;
      }
      if (producerEpoch < 0 || baseSequence < 0) {
        throw new InvalidProducerBatchError(
          `producer ${producerId} sent a batch with epoch ${producerEpoch} and base sequence ${baseSequence}`,
          producerId,
        );
      }
      const lastSeq = lastSequenceOf(baseSequence, batch.lastOffsetDelta);
      const entry = this.producers.get(producerId);
      const cached = entry && findCachedBatch(entry, producerEpoch, baseSequence, lastSeq);
      if (cached) {
        duplicate = duplicate
          ? {
              firstOffset: Math.min(duplicate.firstOffset, cached.firstOffset),
              lastOffset: Math.max(duplicate.lastOffset, cached.lastOffset),
              logAppendTime: duplicate.logAppendTime,
            }
          : {
              firstOffset: cached.firstOffset,
              lastOffset: cached.lastOffset,
              logAppendTime: cached.logAppendTime,
            };
        continue;
      }
      const current =
        pending.get(producerId) ??
        (entry && { epoch: entry.producerEpoch, lastSeq: entry.batches.at(-1)?.lastSeq ?? -1 });
      if (current) checkSequence(producerId, producerEpoch, baseSequence, current);
      pending.set(producerId, { epoch: producerEpoch, lastSeq });
      appendCount++;
    }
    if (!duplicate) return { kind: 'append' };
    if (appendCount > 0) {
      const first = batches.find((b) => b.producerId >= 0)!;
      throw new OutOfOrderSequenceError(
        first.producerId,
        first.producerEpoch,
        first.baseSequence,
        null,
        'the request mixes batches that were already appended with new ones',
      );
    }
    return { kind: 'duplicate', ...duplicate };
  }

  /**
   * Records batches that are now in the log: after a leader append (pass the re-scanned spans, or
   * withAssignedOffsets(spans, result.firstOffset) and result.logAppendTime), a follower append,
   * or replay. `logAppendTime` >= 0 is the leader's append time for every batch; otherwise each
   * batch's LogAppendTime bit (when `attributes` is given) says whether its maxTimestamp is one.
   * Batches without a producer id are ignored. Performs no checks.
   */
  onAppended(batches: readonly AppendedProducerBatch[], logAppendTime = -1): void {
    for (const batch of batches) {
      if (batch.producerId < 0) continue;
      let entry = this.producers.get(batch.producerId);
      if (!entry) {
        entry = {
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          lastTimestamp: -1,
          batches: [],
        };
        this.producers.set(batch.producerId, entry);
      } else if (entry.producerEpoch !== batch.producerEpoch) {
        // Sequences restart with each epoch, so the old epoch's batches can never match again.
        entry.producerEpoch = batch.producerEpoch;
        entry.batches = [];
      }
      const appendTime =
        logAppendTime >= 0
          ? logAppendTime
          : batch.attributes !== undefined && (batch.attributes & TIMESTAMP_TYPE_BIT) !== 0
            ? batch.maxTimestamp
            : -1;
      entry.lastTimestamp = Math.max(entry.lastTimestamp, appendTime >= 0 ? appendTime : batch.maxTimestamp);
      if (batch.baseSequence < 0) continue;
      entry.batches.push({
        firstSeq: batch.baseSequence,
        lastSeq: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
        firstOffset: batch.baseOffset,
        lastOffset: batch.baseOffset + batch.lastOffsetDelta,
        logAppendTime: appendTime,
      });
      if (entry.batches.length > MAX_CACHED_BATCHES) entry.batches.shift();
    }
  }

  /**
   * Forgets producers whose last batch timestamp is `producerIdExpirationMs` or more before `now`.
   * Returns how many were removed.
   */
  removeExpiredProducers(now = this.now()): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      if (now - entry.lastTimestamp >= this.expirationMs) {
        this.producers.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Expires idle producers, then persists the state as of log offset `offset` (which must be the
   * log end offset: the state must reflect exactly the batches below it). The state is captured
   * before the first await, so the caller may keep appending while the file is written.
   * Keeps the newest `snapshotsToRetain` snapshots.
   */
  async writeSnapshot(dir: string, offset: number): Promise<void> {
    this.removeExpiredProducers();
    const contents = encodeProducerSnapshot(offset, this.producers.values());
    await writeSnapshotFile(dir, offset, contents);
    await retainNewestSnapshots(dir, this.snapshotsToRetain);
  }

  /**
   * Replaces the state with the newest usable snapshot at or below `maxOffset` and returns its
   * offset, or clears the state and returns null when there is none. Snapshots above `maxOffset`
   * (from a log tail since lost or truncated) and corrupt ones are deleted.
   */
  async loadLatestSnapshot(dir: string, maxOffset: number): Promise<number | null> {
    this.producers.clear();
    await removeSnapshotTempFiles(dir);
    await deleteSnapshotsAbove(dir, maxOffset);
    const offsets = await listSnapshotOffsets(dir);
    for (const offset of offsets.reverse()) {
      try {
        const entries = await readSnapshotFile(dir, offset);
        this.producers = new Map(entries.map((entry) => [entry.producerId, entry]));
        this.removeExpiredProducers();
        return offset;
      } catch (error) {
        if (!(error instanceof CorruptProducerSnapshotError)) throw error;
        await deleteSnapshot(dir, offset);
      }
    }
    return null;
  }

  /**
   * Rebuilds the state from `log.dir`'s newest snapshot at or below the end offset, then replays
   * the batch headers after it up to the log end offset (or `upToOffset`, exclusive; batches that
   * end at or past it are not applied). The caller must keep the log from changing meanwhile.
   */
  async rebuild(log: ReplayableLog, options: { upToOffset?: number } = {}): Promise<RebuildResult> {
    const end = Math.min(options.upToOffset ?? log.logEndOffset, log.logEndOffset);
    const snapshotOffset = await this.loadLatestSnapshot(log.dir, end);
    // A snapshot below the log start still holds producers whose batches retention deleted; they
    // are kept (as Kafka does since KIP-360) until they expire.
    let offset = Math.max(snapshotOffset ?? log.logStartOffset, log.logStartOffset);
    let replayedBatches = 0;
    while (offset < end) {
      const { records } = await log.read(offset, this.replayChunkBytes, { maxOffset: end });
      const spans = scanRecordBatches(records, { verifyCrc: false, allowPartialTail: true });
      const last = spans.at(-1);
      if (!last) break;
      // A read may start with the batch containing `offset`; only batches from it on are new.
      const fresh = spans.filter((span) => span.baseOffset >= offset);
      this.onAppended(fresh);
      replayedBatches += fresh.length;
      const next = last.baseOffset + last.lastOffsetDelta + 1;
      if (next <= offset) break;
      offset = next;
    }
    return { snapshotOffset, endOffset: Math.min(offset, end), replayedBatches };
  }

  /**
   * After (or just before) a follower truncates its log to `offset`: deletes snapshots above it
   * and rebuilds the state from the log below it.
   */
  async truncateTo(log: ReplayableLog, offset: number): Promise<RebuildResult> {
    await deleteSnapshotsAbove(log.dir, offset);
    return this.rebuild(log, { upToOffset: offset });
  }

  /**
   * After a follower replaced its whole log (PartitionLog.truncateFullyAndStartAt): forgets every
   * producer and deletes every snapshot in `dir`, as Kafka does. Older snapshots may describe a
   * log that diverged from the leader's, and the new log holds no batches to rebuild from; the
   * producers' next batches are accepted as from unknown producers.
   */
  async truncateFully(dir: string): Promise<void> {
    this.producers.clear();
    await deleteSnapshotsAbove(dir, -1);
    await removeSnapshotTempFiles(dir);
  }
}

function findCachedBatch(
  entry: ProducerEntry,
  epoch: number,
  firstSeq: number,
  lastSeq: number,
): ProducerBatchMetadata | undefined {
  if (entry.producerEpoch !== epoch) return undefined;
  return entry.batches.find((batch) => batch.firstSeq === firstSeq && batch.lastSeq === lastSeq);
}

/**
 * Kafka's sequence rules against what the partition (plus the earlier batches of this request)
 * knows about the producer. `current.lastSeq` is -1 when the epoch is known but has no batches.
 */
function checkSequence(
  producerId: number,
  epoch: number,
  firstSeq: number,
  current: { epoch: number; lastSeq: number },
): void {
  if (epoch < current.epoch) throw new InvalidProducerEpochError(producerId, epoch, current.epoch);
  if (epoch > current.epoch) {
    if (firstSeq !== 0) {
      throw new OutOfOrderSequenceError(
        producerId,
        epoch,
        firstSeq,
        0,
        'a new epoch must start at sequence 0',
      );
    }
    return;
  }
  const expected = nextSequence(current.lastSeq);
  if (firstSeq !== expected) throw new OutOfOrderSequenceError(producerId, epoch, firstSeq, expected);
}
