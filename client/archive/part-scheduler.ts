/**
 * Downloads byte ranges ("parts") for several lanes (partitions) in parallel and hands them out in
 * order within each lane. At most `concurrency` downloads run at once, and at most
 * `maxBufferedBytes` of parts are downloading or downloaded but not yet released, so a slow
 * consumer holds back the downloads instead of filling memory. Within a lane parts are started in
 * order, so the lane's next part is always downloading or done whenever later ones are: handing
 * out parts as they complete can never wait on a part that was not started. Lanes with the fewest
 * parts in hand go first, so every partition makes progress.
 */

export interface PartJob {
  /** Bytes the part will take once downloaded. */
  bytes: number;
}

export type Fetch<J extends PartJob> = (job: J, signal: AbortSignal) => Promise<Buffer>;

interface Part<J extends PartJob> {
  job: J;
  state: 'queued' | 'loading' | 'ready' | 'failed';
  data?: Buffer;
  error?: unknown;
  abort?: AbortController;
}

export class Lane<J extends PartJob> {
  /** Parts not yet handed out, in order; the first `started` of them are loading or settled. */
  readonly parts: Part<J>[];
  started = 0;
  dropped = false;

  constructor(jobs: readonly J[]) {
    this.parts = jobs.map((job) => ({ job, state: 'queued' }));
  }

  /** Bytes of the parts not handed out yet. */
  get remainingBytes(): number {
    return this.parts.reduce((sum, p) => sum + p.job.bytes, 0);
  }
}

/** A part handed out: its bytes, or why it could not be downloaded. */
export type Settled<J extends PartJob> =
  | { lane: Lane<J>; job: J; data: Buffer }
  | { lane: Lane<J>; job: J; error: unknown };

export class PartScheduler<J extends PartJob> {
  private readonly lanes: Lane<J>[] = [];
  private inFlight = 0;
  private buffered = 0;
  private cursor = 0;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly fetch: Fetch<J>,
    private readonly concurrency: number,
    private readonly maxBufferedBytes: number,
  ) {}

  addLane(jobs: readonly J[]): Lane<J> {
    // Downloads start at the first next(), once every lane is in: lanes added one by one must
    // not leave the first with every download slot.
    const lane = new Lane(jobs);
    this.lanes.push(lane);
    return lane;
  }

  /**
   * The next part, in order within its lane, from any lane whose next part is settled (lanes take
   * turns); null once every lane is empty. Release the part's bytes with `release` when done.
   */
  async next(): Promise<Settled<J> | null> {
    this.pump();
    for (;;) {
      if (this.closed) return null;
      const live = this.lanes.filter((l) => l.parts.length > 0);
      if (live.length === 0) return null;
      for (let i = 0; i < this.lanes.length; i++) {
        const lane = this.lanes[(this.cursor + i) % this.lanes.length]!;
        const head = lane.parts[0];
        if (!head || (head.state !== 'ready' && head.state !== 'failed')) continue;
        this.cursor = (this.cursor + i + 1) % this.lanes.length;
        lane.parts.shift();
        lane.started--;
        return head.state === 'ready'
          ? { lane, job: head.job, data: head.data! }
          : { lane, job: head.job, error: head.error };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Frees a handed-out part's share of the buffer budget. */
  release(job: J): void {
    this.buffered -= job.bytes;
    this.pump();
  }

  /** Gives up on the rest of a lane: queued parts are dropped, downloads aborted. */
  drop(lane: Lane<J>): void {
    lane.dropped = true;
    for (const part of lane.parts.slice(0, lane.started)) {
      part.abort?.abort();
      // Loading parts give their budget back when their download settles.
      if (part.state !== 'loading') this.buffered -= part.job.bytes;
    }
    lane.parts.length = 0;
    lane.started = 0;
    this.pump();
  }

  /** Stops everything: aborts downloads, and `next` returns null. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes) if (!lane.dropped) this.drop(lane);
    this.wake?.();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.concurrency) {
      const lane = this.pickLane();
      if (!lane) return;
      const part = lane.parts[lane.started]!;
      if (this.buffered > 0 && this.buffered + part.job.bytes > this.maxBufferedBytes) return;
      lane.started++;
      this.start(lane, part);
    }
  }

  /** The lane with queued parts and the fewest started (ties: the earliest added). */
  private pickLane(): Lane<J> | undefined {
    let best: Lane<J> | undefined;
    for (const lane of this.lanes)
      if (lane.started < lane.parts.length && (!best || lane.started < best.started)) best = lane;
    return best;
  }

  private start(lane: Lane<J>, part: Part<J>): void {
    part.state = 'loading';
    part.abort = new AbortController();
    this.inFlight++;
    this.buffered += part.job.bytes;
    this.fetch(part.job, part.abort.signal).then(
      (data) => this.settle(lane, part, { data }),
      (error: unknown) => this.settle(lane, part, { error }),
    );
  }

  private settle(lane: Lane<J>, part: Part<J>, outcome: { data?: Buffer; error?: unknown }): void {
    this.inFlight--;
    if (lane.dropped) this.buffered -= part.job.bytes;
    else if (outcome.data) {
      part.state = 'ready';
      part.data = outcome.data;
    } else {
      part.state = 'failed';
      part.error = outcome.error;
    }
    this.pump();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
