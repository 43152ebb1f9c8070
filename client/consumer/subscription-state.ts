import type { StartPosition, TopicPartition } from './types.js';

/** A record as fetched: raw bytes, not yet deserialized. */
export interface FetchedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  leaderEpoch: number;
}

/** Records of one partition taken for delivery, with what is needed to settle them later. */
export interface TakenBatch {
  topic: string;
  partition: number;
  records: FetchedRecord[];
  highWatermark: number;
  /** The partition's generation when taken; a seek or revocation since makes the batch stale. */
  generation: number;
  /**
   * The offset after this batch: its last record + 1, or further when the offsets after that
   * record up to the fetch position hold nothing to deliver (tag-filtered, control or compacted
   * records). Processing the whole batch processes everything before it.
   */
  nextOffset: number;
}

/**
 * One assigned partition. Offsets, in the order they can only ever be:
 *   processed <= position <= fetchOffset      (while nothing is seeking)
 * - fetchOffset: the next offset to fetch; records below it are buffered or handed out.
 * - position: the next offset to hand out; buffered records run from position to fetchOffset.
 *   Once the buffer is empty, position is fetchOffset: offsets a fetch returned nothing for
 *   (filtered out by a tag filter, control records, compacted away) are passed, not pending.
 * - processed: the offset after the last record whose handler finished (what atLeastOnce commits).
 * - committed: what the group coordinator last acknowledged (-1 if nothing).
 * `reset` is set while the partition has no usable offset (new assignment, out of range, or a seek
 * to earliest/latest/timestamp); fetchOffset/position/processed are meaningless until it is cleared.
 * `generation` changes on every seek and reset so that stale fetch responses and batches taken
 * before it are recognized and dropped.
 */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  fetchOffset: number;
  position: number;
  processed: number;
  committed: number;
  reset: StartPosition | 'committed' | null;
  highWatermark: number;
  logStartOffset: number;
  /** The leader epoch from metadata when the position was set; sent as currentLeaderEpoch. */
  leaderEpoch: number;
  paused: boolean;
  generation: number;
  buffered: FetchedRecord[];
  /** A fetch for this partition is outstanding. */
  fetching: boolean;
  /** The batch of this partition that is with a handler, if any (at most one at a time). */
  delivering: TakenBatch | null;
  /** No fetches before this time (after errors). */
  backoffUntil: number;
  /** Seeked since the last commit: the processed offset may be behind the committed one and still be wanted. */
  seeked: boolean;
  /** A non-retriable error to surface when this partition's turn comes (e.g. a corrupt batch). */
  error: Error | null;
}

/**
 * Generations are unique across partitions and re-assignments, so a batch taken before a partition
 * was revoked and assigned again is still recognized as stale.
 */
let lastGeneration = 0;
function nextGeneration(): number {
  return ++lastGeneration;
}

export function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The consumer's assigned partitions and their offsets. Pure bookkeeping, no I/O: the fetcher,
 * the delivery loop and the group membership all read and update it on the one event loop.
 */
export class SubscriptionState {
  private readonly partitions = new Map<string, PartitionState>();
  /** Round-robin cursor so one busy partition cannot starve the others. */
  private cursor = 0;

  get size(): number {
    return this.partitions.size;
  }

  assigned(): TopicPartition[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  states(): PartitionState[] {
    return [...this.partitions.values()];
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.partitions.get(keyOf(topic, partition));
  }

  /** Adds partitions that start at `reset` (their committed offset, or a start position). */
  assign(partitions: readonly TopicPartition[], reset: PartitionState['reset']): void {
    for (const { topic, partition } of partitions) {
      const key = keyOf(topic, partition);
      if (this.partitions.has(key)) continue;
      this.partitions.set(key, {
        topic,
        partition,
        fetchOffset: -1,
        position: -1,
        processed: -1,
        committed: -1,
        reset,
        highWatermark: -1,
        logStartOffset: -1,
        leaderEpoch: -1,
        paused: false,
        generation: nextGeneration(),
        buffered: [],
        fetching: false,
        delivering: null,
        backoffUntil: 0,
        seeked: false,
        error: null,
      });
    }
  }

  /** Removes partitions; their buffered records are dropped and in-flight results become stale. */
  unassign(partitions: readonly TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const state = this.partitions.get(keyOf(topic, partition));
      if (!state) continue;
      state.generation = nextGeneration();
      state.buffered = [];
      this.partitions.delete(keyOf(topic, partition));
    }
  }

  /** Moves a partition to `offset`: everything buffered is dropped and in-flight results are stale. */
  seek(state: PartitionState, offset: number): void {
    state.generation = nextGeneration();
    state.buffered = [];
    state.reset = null;
    state.fetchOffset = offset;
    state.position = offset;
    state.processed = offset;
    state.seeked = true;
    state.error = null;
  }

  /** Marks a partition to be positioned by `reset` before it is fetched again. */
  requestReset(state: PartitionState, reset: NonNullable<PartitionState['reset']>): void {
    state.generation = nextGeneration();
    state.buffered = [];
    state.reset = reset;
    state.error = null;
  }

  /** Partitions waiting for a position. */
  needingReset(): PartitionState[] {
    return this.states().filter((s) => s.reset !== null);
  }

  /**
   * Partitions a fetch may ask for now: positioned, not paused, nothing buffered (one fetch
   * response per partition is the buffering bound), no fetch outstanding, not backing off.
   */
  fetchable(now: number): PartitionState[] {
    return this.states().filter(
      (s) =>
        s.reset === null &&
        !s.paused &&
        !s.fetching &&
        s.buffered.length === 0 &&
        s.error === null &&
        s.backoffUntil <= now,
    );
  }

  /**
   * Takes up to `max` buffered records of the next partition (round-robin) that is not paused and
   * not already with a handler, advancing its position. Returns undefined if none is ready; a
   * partition with a pending error throws it (once).
   */
  take(max: number): TakenBatch | undefined {
    const states = this.states();
    for (let i = 0; i < states.length; i++) {
      const state = states[(this.cursor + i) % states.length]!;
      if (state.paused || state.delivering !== null || state.reset !== null) continue;
      if (state.error && state.buffered.length === 0) {
        const error = state.error;
        state.error = null;
        state.backoffUntil = 0;
        throw error;
      }
      if (state.buffered.length === 0) continue;
      this.cursor = (this.cursor + i + 1) % Math.max(1, states.length);
      const records = state.buffered.splice(0, max);
      const afterLast = records[records.length - 1]!.offset + 1;
      state.position = state.buffered.length === 0 ? Math.max(afterLast, state.fetchOffset) : afterLast;
      const batch: TakenBatch = {
        topic: state.topic,
        partition: state.partition,
        records,
        highWatermark: state.highWatermark,
        generation: state.generation,
        nextOffset: state.position,
      };
      state.delivering = batch;
      return batch;
    }
    return undefined;
  }

  /**
   * A fetch moved fetchOffset past offsets with nothing to deliver (all filtered out, control
   * batches): the position follows, and so does the processed offset, directly when every record
   * handed out before is processed, else through the batch in hand, which now also covers them.
   * Without this, a consumer whose last records were filtered out would never commit, or report
   * zero lag at, the log end.
   */
  skipped(state: PartitionState): void {
    if (state.reset !== null || state.buffered.length > 0 || state.fetchOffset <= state.position) return;
    const previous = state.position;
    state.position = state.fetchOffset;
    const inHand = state.delivering;
    if (inHand && inHand.generation === state.generation) inHand.nextOffset = state.fetchOffset;
    else if (state.processed === previous) state.processed = state.fetchOffset;
  }

  /** Whether `batch` still belongs to the partition's current generation. */
  isCurrent(batch: { topic: string; partition: number; generation: number }): boolean {
    return this.get(batch.topic, batch.partition)?.generation === batch.generation;
  }

  /** Records a handler's progress: everything before `nextOffset` is processed. Stale batches are ignored. */
  markProcessed(batch: TakenBatch, nextOffset: number): void {
    const state = this.get(batch.topic, batch.partition);
    if (!state || state.generation !== batch.generation) return;
    if (nextOffset > state.processed) state.processed = nextOffset;
  }

  /** The handler is done with `batch` (processed or not). */
  release(batch: TakenBatch): void {
    const state = this.get(batch.topic, batch.partition);
    if (state?.delivering === batch) state.delivering = null;
  }

  /** Whether any of these partitions has a batch with a handler. */
  anyDelivering(partitions: readonly TopicPartition[]): boolean {
    return partitions.some((p) => (this.get(p.topic, p.partition)?.delivering ?? null) !== null);
  }

  /**
   * Offsets that atLeastOnce would commit now: processed beyond the committed offset (or moved by
   * a seek). Never behind a manual commit the user made past the processed offset.
   */
  uncommitted(partitions: readonly TopicPartition[] = this.assigned()): {
    topic: string;
    partition: number;
    offset: number;
  }[] {
    const result: { topic: string; partition: number; offset: number }[] = [];
    for (const { topic, partition } of partitions) {
      const state = this.get(topic, partition);
      if (!state || state.reset !== null || state.processed < 0) continue;
      if (state.processed > state.committed || (state.seeked && state.processed !== state.committed))
        result.push({ topic, partition, offset: state.processed });
    }
    return result;
  }

  /** Records that the coordinator acknowledged `offset` for a partition. */
  markCommitted(topic: string, partition: number, offset: number): void {
    const state = this.get(topic, partition);
    if (!state) return;
    state.committed = offset;
    state.seeked = false;
  }
}
