import type { PartitionState } from '../cluster/partition-state-store.js';

/** What the leader knows about one follower, from its fetches. */
export interface FollowerProgress {
  /** The follower's log end offset: the offset of its latest fetch. -1 until it fetches. */
  logEndOffset: number;
  /** Last time the follower was known to have everything the leader had (Kafka's lastCaughtUpTimeMs). */
  lastCaughtUpTime: number;
  /** The leader's LEO and the time at the follower's previous fetch. */
  lastFetchLeaderLogEndOffset: number;
  lastFetchTime: number;
}

export interface IsrTrackerDeps {
  localBrokerId: number;
  lagTimeMaxMs: number;
  logEndOffset(): number;
  highWatermark(): number;
  /** First offset of the current leader epoch: a follower below it has not caught up with this leader. */
  epochStartOffset(): number;
  /**
   * Whether a caught-up follower may be added: false for a broker still rejoining with a new data
   * directory (cluster/storage-rejoin.ts), which the controller would only take out again.
   */
  mayJoinIsr(replicaId: number): boolean;
  /** Writes a new ISR; resolves false if the write lost (newer metadata will follow). */
  propose(isr: number[]): Promise<boolean>;
}

/**
 * The leader's follower bookkeeping (Kafka's AlterPartition logic, with DynamoDB as the arbiter).
 *
 * - A follower is caught up when its fetch offset reaches the leader's LEO, or the LEO the leader
 *   had at the follower's previous fetch. One not caught up for lagTimeMaxMs leaves the ISR.
 * - A follower outside the ISR whose LEO reaches the high watermark and the start of the current
 *   epoch rejoins it.
 * - At most one ISR change is in flight. While it is, the high watermark is computed over the
 *   union of the committed and proposed ISR: a joining member is counted before the write lands,
 *   and a leaving one until it has landed, so the HW never runs ahead of any ISR that might be
 *   committed.
 */
export class IsrTracker {
  readonly progress = new Map<number, FollowerProgress>();
  private committed: number[];
  private pending: number[] | null = null;

  constructor(
    state: PartitionState,
    private readonly deps: IsrTrackerDeps,
  ) {
    this.committed = state.isr;
    const now = Date.now();
    for (const replica of state.replicas) {
      if (replica === deps.localBrokerId) continue;
      // A new leader gives every follower a full lag period to show up before shrinking the ISR.
      this.progress.set(replica, {
        logEndOffset: -1,
        lastCaughtUpTime: now,
        lastFetchLeaderLogEndOffset: -1,
        lastFetchTime: now,
      });
    }
  }

  onStateChanged(state: PartitionState): void {
    this.committed = state.isr;
  }

  get pendingIsr(): readonly number[] | null {
    return this.pending;
  }

  onFollowerFetch(replicaId: number, fetchOffset: number, now: number): void {
    const progress = this.progress.get(replicaId);
    if (!progress) return;
    const leaderLeo = this.deps.logEndOffset();
    progress.logEndOffset = fetchOffset;
    if (fetchOffset >= leaderLeo) progress.lastCaughtUpTime = now;
    else if (fetchOffset >= progress.lastFetchLeaderLogEndOffset) {
      progress.lastCaughtUpTime = Math.max(progress.lastCaughtUpTime, progress.lastFetchTime);
    }
    progress.lastFetchLeaderLogEndOffset = leaderLeo;
    progress.lastFetchTime = now;
    if (
      !this.committed.includes(replicaId) &&
      this.pending === null &&
      fetchOffset >= this.deps.highWatermark() &&
      fetchOffset >= this.deps.epochStartOffset() &&
      this.deps.mayJoinIsr(replicaId)
    ) {
      this.propose([...this.committed, replicaId]);
    }
  }

  /** The largest HW the ISR supports now: min LEO over (committed ∪ pending ISR). */
  highWatermarkCandidate(): number {
    let candidate = this.deps.logEndOffset();
    const members = new Set([...this.committed, ...(this.pending ?? [])]);
    for (const member of members) {
      if (member === this.deps.localBrokerId) continue;
      const progress = this.progress.get(member);
      if (!progress || progress.logEndOffset < 0) return -1;
      candidate = Math.min(candidate, progress.logEndOffset);
    }
    return candidate;
  }

  maybeShrink(now: number): void {
    if (this.pending !== null) return;
    const lagging = this.committed.filter((id) => {
      if (id === this.deps.localBrokerId) return false;
      const progress = this.progress.get(id);
      return !progress || now - progress.lastCaughtUpTime > this.deps.lagTimeMaxMs;
    });
    if (lagging.length > 0) this.propose(this.committed.filter((id) => !lagging.includes(id)));
  }

  private propose(isr: number[]): void {
    this.pending = isr;
    void this.deps.propose(isr).finally(() => {
      this.pending = null;
    });
  }
}
