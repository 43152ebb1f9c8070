/**
 * Which records of one partition a replay hands out, decided record by record in offset order
 * (pure: no I/O, unit-tested on its own).
 *
 * Bounds, per partition (`from` inclusive, `to` exclusive):
 * - offsets: records with from.offset <= offset < to.offset (and >= the archive's log start);
 * - timestamps: records with from.timestamp <= timestamp < to.timestamp, where the replay ends at
 *   the FIRST record whose timestamp is >= to.timestamp (as Kafka's offsetsForTimes would place
 *   the end). When timestamps grow with offsets (log-append time, or one producer per partition)
 *   this is exactly the records in the time range. With out-of-order create times no record
 *   outside the range is handed out, but a record of the range stored after that first later
 *   record is not either: without a minimum timestamp per segment, finding such stragglers would
 *   mean reading the partition to its end.
 * Offsets below `next` (already handed out, or skipped) are dropped, which also removes the
 * records two overlapping segments share.
 */

export type Verdict = 'skip' | 'take' | 'stop';

export interface WindowBounds {
  /** First offset that may be handed out. */
  startOffset: number;
  /** One past the last offset that may be handed out. */
  endOffset: number;
  fromTimestamp?: number;
  toTimestamp?: number;
}

export class RecordWindow {
  /** The next offset not yet passed. */
  private next: number;
  private stopped = false;

  constructor(private readonly bounds: WindowBounds) {
    this.next = bounds.startOffset;
    if (bounds.startOffset >= bounds.endOffset) this.stopped = true;
  }

  get done(): boolean {
    return this.stopped;
  }

  /** The next offset the window has not passed (where a resumed replay would start). */
  get position(): number {
    return this.next;
  }

  /**
   * A verdict on a whole batch from its header, so batches that cannot hold a wanted record are
   * not decompressed: 'skip' (every record already passed or older than the time range), 'stop'
   * (the batch starts at or past the end), or 'take' (decode it and ask `record` for each).
   */
  batch(baseOffset: number, lastOffset: number, maxTimestamp: number): Verdict {
    if (this.stopped) return 'stop';
    if (baseOffset >= this.bounds.endOffset) return this.stop();
    if (lastOffset < this.next) return 'skip';
    const { fromTimestamp } = this.bounds;
    // Every record's timestamp is <= the batch's maxTimestamp, so none is in the time range; and
    // none can be at or past to.timestamp (> from.timestamp), so the end is not in it either.
    if (fromTimestamp !== undefined && maxTimestamp < fromTimestamp) {
      this.next = Math.min(lastOffset + 1, this.bounds.endOffset);
      return 'skip';
    }
    return 'take';
  }

  /** Marks a batch that holds no records to hand out (a control batch) as passed. */
  pass(lastOffset: number): void {
    if (lastOffset >= this.next) this.next = Math.min(lastOffset + 1, this.bounds.endOffset);
  }

  /** The verdict on one record; records must come in offset order. */
  record(offset: number, timestamp: number): Verdict {
    if (this.stopped) return 'stop';
    if (offset < this.next) return 'skip';
    if (offset >= this.bounds.endOffset) return this.stop();
    const { fromTimestamp, toTimestamp } = this.bounds;
    if (toTimestamp !== undefined && timestamp >= toTimestamp) return this.stop();
    this.next = offset + 1;
    if (fromTimestamp !== undefined && timestamp < fromTimestamp) return 'skip';
    return 'take';
  }

  /** Nothing more will be handed out once the window reached its end offset. */
  get exhausted(): boolean {
    return this.stopped || this.next >= this.bounds.endOffset;
  }

  private stop(): 'stop' {
    this.stopped = true;
    return 'stop';
  }
}
