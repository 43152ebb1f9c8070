import { type BatchSpan, scanRecordBatches } from '../../protocol/record-batch/header.js';
import type { PartitionState } from '../cluster/partition-state-store.js';
import type { TopicConfig } from '../cluster/topic-config.js';
import type { Logger } from '../common/logger.js';
import { SerialQueue } from '../common/serial-queue.js';
import type { FetchWaiters } from '../server/fetch-waiters.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { AckWaiters } from './ack-waiters.js';
import {
  FencedLeaderEpochError,
  NotEnoughReplicasAfterAppendError,
  NotEnoughReplicasError,
  NotLeaderError,
  UnknownLeaderEpochError,
} from './errors.js';
import { type FollowerProgress, IsrTracker } from './isr-tracker.js';
import { type ProducerStateManager, withAssignedOffsets } from './producer-state.js';

/** What a partition needs from the broker around it. */
export interface PartitionContext {
  localBrokerId: number;
  /** This broker's current lease epoch; leadership is only valid for the epoch it was elected in. */
  brokerEpoch(): number;
  /** Self-fencing: false once this broker's lease may have lapsed. A leader then acknowledges nothing. */
  leaseValid(): boolean;
  /**
   * Writes an ISR change through a conditional update fenced by this broker's lease. `applyLocally`
   * runs after the write commits and before the change is announced in metadata, so nobody can see
   * the new ISR in a Metadata response while this leader still acknowledges against the old one.
   */
  writeIsr(next: PartitionState, expectedVersion: number, applyLocally: () => Promise<void>): Promise<void>;
  replicaLagTimeMaxMs: number;
  /** See IsrTrackerDeps.mayJoinIsr. */
  mayJoinIsr(replicaId: number): boolean;
  /** Woken on appends and high-watermark moves, for long-polling fetches. */
  waiters: FetchWaiters;
  waiterKey: string;
  logger: Logger;
}

export type Role = 'leader' | 'follower' | 'none';

export interface LeaderAppendOutcome {
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
}

/**
 * One partition replica on this broker, as leader or follower.
 *
 * Offsets (redpanda/Kafka vocabulary):
 * - log end offset (LEO): one past the last record in the local log.
 * - high watermark (HW): one past the last record known to be on every ISR member. Consumers read
 *   only below it. On the leader HW = min LEO over the ISR (plus any member being added or removed),
 *   it never moves backwards, and HW <= LEO always. A follower's HW is min(leader's HW, own LEO).
 *
 * All appends and truncations of the log go through `appendQueue`, so producer-state checks and the
 * append they guard are atomic with respect to each other.
 */
export class Partition {
  private roleValue: Role = 'none';
  private stateValue: PartitionState | undefined;
  private hw = 0;
  private readonly appendQueue = new SerialQueue();
  private readonly transitions = new SerialQueue();
  private readonly acks = new AckWaiters();
  private isr: IsrTracker | undefined;
  private lastSnapshotOffset = -1;

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
    readonly producers: ProducerStateManager,
    private readonly ctx: PartitionContext,
    initialHighWatermark: number,
  ) {
    this.hw = Math.min(Math.max(initialHighWatermark, log.logStartOffset), log.logEndOffset);
  }

  get role(): Role {
    return this.roleValue;
  }

  get state(): PartitionState | undefined {
    return this.stateValue;
  }

  get leaderEpoch(): number {
    return this.stateValue?.leaderEpoch ?? -1;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Whether this replica may act as leader right now (elected for this incarnation, lease valid). */
  isLeader(): boolean {
    return (
      this.roleValue === 'leader' &&
      this.ctx.leaseValid() &&
      this.stateValue?.leaderBrokerEpoch === this.ctx.brokerEpoch()
    );
  }

  /**
   * Applies a partition state from metadata. Returns the role afterwards. A newer leader epoch for
   * which this broker is leader makes it leader; any other epoch where it is a replica makes it a
   * follower of the named leader.
   */
  applyState(state: PartitionState): Promise<Role> {
    // Transitions are serialized: metadata refreshes and this leader's own ISR writes both apply
    // states, and a transition awaits the log.
    return this.transitions.run(() => this.transition(state));
  }

  private async transition(state: PartitionState): Promise<Role> {
    const current = this.stateValue;
    if (current && state.version <= current.version) return this.roleValue;
    const me = this.ctx.localBrokerId;
    const leads = state.leader === me && state.leaderBrokerEpoch === this.ctx.brokerEpoch();
    const epochChanged = !current || current.leaderEpoch !== state.leaderEpoch;
    if (leads && (this.roleValue !== 'leader' || epochChanged)) {
      // Record where the new epoch starts before acting as its leader (KIP-101). Inside the append
      // queue, so no follower append of the old epoch can land after it.
      const epochStart = await this.appendQueue.run(async () => {
        // From here on follower appends of the old epoch are refused (see follows()).
        this.stateValue = state;
        await this.log.assignLeaderEpoch(state.leaderEpoch);
        return this.log.logEndOffset;
      });
      this.becomeLeader(state, epochStart);
    } else {
      this.stateValue = state;
      if (leads) this.isr!.onStateChanged(state);
      else if (state.replicas.includes(me)) {
        if (this.roleValue !== 'follower' || epochChanged) this.becomeFollower(state);
      } else this.resign('none');
    }
    if (leads) this.maybeAdvanceHighWatermark();
    return this.roleValue;
  }

  private becomeLeader(state: PartitionState, epochStart: number): void {
    this.acks.failAll(() => new NotLeaderError(this.topic, this.index));
    this.isr = new IsrTracker(state, {
      localBrokerId: this.ctx.localBrokerId,
      lagTimeMaxMs: this.ctx.replicaLagTimeMaxMs,
      logEndOffset: () => this.log.logEndOffset,
      highWatermark: () => this.hw,
      epochStartOffset: () => epochStart,
      mayJoinIsr: (replicaId) => this.ctx.mayJoinIsr(replicaId),
      propose: (isr) => this.proposeIsr(isr),
    });
    this.roleValue = 'leader';
    this.ctx.logger.info(
      {
        topic: this.topic,
        partition: this.index,
        leaderEpoch: state.leaderEpoch,
        isr: state.isr,
        hw: this.hw,
      },
      'became leader',
    );
  }

  private becomeFollower(state: PartitionState): void {
    this.resign('follower');
    this.ctx.logger.info(
      { topic: this.topic, partition: this.index, leader: state.leader, leaderEpoch: state.leaderEpoch },
      'became follower',
    );
  }

  private resign(role: Role): void {
    this.roleValue = role;
    this.isr = undefined;
    this.acks.failAll(() => new NotLeaderError(this.topic, this.index));
  }

  /** Checks a request's current_leader_epoch against ours (-1 means the client did not say). */
  checkLeaderEpoch(requestEpoch: number): void {
    if (requestEpoch < 0) return;
    const current = this.leaderEpoch;
    if (requestEpoch < current)
      throw new FencedLeaderEpochError(this.topic, this.index, requestEpoch, current);
    if (requestEpoch > current)
      throw new UnknownLeaderEpochError(this.topic, this.index, requestEpoch, current);
  }

  private assertLeader(): PartitionState {
    if (!this.isLeader()) throw new NotLeaderError(this.topic, this.index);
    return this.stateValue!;
  }

  /**
   * Appends a producer's batches as leader and waits for the requested acknowledgement:
   * acks 0/1 return after the local append; acks -1 (all) requires at least min.insync.replicas in
   * the ISR before appending and returns once the high watermark passes the batches. The lease is
   * checked again when acknowledging, so a paused-and-resumed zombie cannot confirm a write.
   * The append is queued before the first await (ReplicaManager.append relies on that to keep
   * produce requests in arrival order).
   */
  async appendAsLeader(
    batches: Buffer,
    /** The batches' spans, from the caller's validating scan. */
    spans: readonly BatchSpan[],
    options: { acks: number; timeoutMs: number; config: Readonly<TopicConfig> },
  ): Promise<LeaderAppendOutcome> {
    const minIsr = options.config['min.insync.replicas'];
    const state = this.assertLeader();
    if (options.acks === -1 && state.isr.length < minIsr) {
      throw new NotEnoughReplicasError(this.topic, this.index, state.isr.length, minIsr);
    }
    const outcome = await this.appendQueue.run(async () => {
      const current = this.assertLeader();
      const check = this.producers.checkLeaderAppend(spans);
      if (check.kind === 'duplicate') {
        return {
          baseOffset: check.firstOffset,
          lastOffset: check.lastOffset,
          logAppendTime: check.logAppendTime,
        };
      }
      const result = await this.log.appendAsLeader(batches, {
        leaderEpoch: current.leaderEpoch,
        logAppendTime: options.config['message.timestamp.type'] === 'LogAppendTime',
        validated: true,
      });
      // The log assigned consecutive offsets from firstOffset (and, if set, one append time).
      this.producers.onAppended(withAssignedOffsets(spans, result.firstOffset), result.logAppendTime);
      return {
        baseOffset: result.firstOffset,
        lastOffset: result.lastOffset,
        logAppendTime: result.logAppendTime,
      };
    });
    this.ctx.waiters.notify(this.ctx.waiterKey);
    this.maybeAdvanceHighWatermark();
    if (options.acks === -1) {
      const epoch = state.leaderEpoch;
      await this.acks.wait(outcome.lastOffset + 1, this.hw, options.timeoutMs, this.topic, this.index);
      const now = this.assertLeader();
      if (now.leaderEpoch !== epoch) throw new NotLeaderError(this.topic, this.index);
      if (now.isr.length < minIsr) {
        throw new NotEnoughReplicasAfterAppendError(this.topic, this.index, now.isr.length, minIsr);
      }
    }
    return {
      baseOffset: outcome.baseOffset,
      logAppendTime: outcome.logAppendTime,
      logStartOffset: this.log.logStartOffset,
    };
  }

  /** Leader side of a follower's fetch: records the follower's log end offset (its fetch offset). */
  onFollowerFetch(replicaId: number, fetchOffset: number): void {
    const state = this.assertLeader();
    if (!state.replicas.includes(replicaId)) throw new NotLeaderError(this.topic, this.index);
    this.isr!.onFollowerFetch(replicaId, fetchOffset, Date.now());
    this.maybeAdvanceHighWatermark();
  }

  followerProgress(): ReadonlyMap<number, FollowerProgress> {
    return this.isr?.progress ?? new Map();
  }

  /** Periodic ISR maintenance: drops followers that lagged longer than replica.lag.time.max.ms. */
  maybeShrinkIsr(now: number): void {
    if (this.isLeader()) this.isr!.maybeShrink(now);
  }

  private async proposeIsr(isr: number[]): Promise<boolean> {
    const state = this.stateValue!;
    const next: PartitionState = { ...state, isr, version: state.version + 1 };
    try {
      if (!this.isLeader()) return false;
      await this.ctx.writeIsr(next, state.version, async () => {
        await this.applyState(next);
      });
    } catch (error) {
      this.ctx.logger.info(
        { topic: this.topic, partition: this.index, err: error, isr },
        'ISR change rejected; waiting for newer metadata',
      );
      return false;
    }
    this.ctx.logger.info(
      { topic: this.topic, partition: this.index, from: state.isr, to: isr },
      'ISR changed',
    );
    return true;
  }

  private maybeAdvanceHighWatermark(): void {
    if (this.roleValue !== 'leader' || !this.isr) return;
    const candidate = this.isr.highWatermarkCandidate();
    if (candidate > this.hw) {
      this.hw = candidate;
      this.acks.release(this.hw);
      this.ctx.waiters.notify(this.ctx.waiterKey);
    }
  }

  /**
   * Follower side: appends batches fetched from the leader of `leaderEpoch` and adopts the leader's
   * high watermark. Ignored if this replica has meanwhile moved to another epoch or role.
   */
  async appendAsFollower(records: Buffer, leaderHighWatermark: number, leaderEpoch: number): Promise<void> {
    if (!this.follows(leaderEpoch)) return;
    if (records.length > 0) {
      await this.appendQueue.run(async () => {
        if (!this.follows(leaderEpoch)) return;
        await this.log.appendAsFollower(records);
        this.producers.onAppended(scanRecordBatches(records, { verifyCrc: false }), -1);
      });
    }
    if (this.follows(leaderEpoch)) this.updateFollowerHighWatermark(leaderHighWatermark);
  }

  private follows(leaderEpoch: number): boolean {
    return this.roleValue === 'follower' && this.stateValue?.leaderEpoch === leaderEpoch;
  }

  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    const next = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (next > this.hw) {
      this.hw = next;
      this.ctx.waiters.notify(this.ctx.waiterKey);
    }
  }

  /** Follower side: cuts a divergent tail (KIP-101) and rebuilds producer state to match. */
  truncateTo(offset: number): Promise<void> {
    return this.appendQueue.run(async () => {
      if (offset > this.log.logEndOffset || this.roleValue !== 'follower') return;
      if (offset === this.log.logEndOffset) {
        await this.log.truncateTo(offset); // only drops epochs that start at the log end
        return;
      }
      const before = this.log.logEndOffset;
      await this.log.truncateTo(offset);
      await this.producers.truncateTo(this.log, this.log.logEndOffset);
      this.hw = Math.min(this.hw, this.log.logEndOffset);
      this.ctx.logger.info(
        { topic: this.topic, partition: this.index, from: before, to: offset },
        'truncated log',
      );
    });
  }

  /** Follower side: the leader's log starts past ours; drop everything and start there. */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.appendQueue.run(async () => {
      if (this.roleValue !== 'follower') return;
      await this.log.truncateFullyAndStartAt(offset);
      // Older snapshots describe the discarded log; start producer state afresh.
      await this.producers.truncateFully(this.log.dir);
      this.hw = offset;
    });
  }

  /** OffsetForLeaderEpoch: the end offset of the largest epoch <= `epoch` in this log (-1/-1 if none). */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: number } {
    const found = this.log.leaderEpochs.endOffsetFor(epoch, this.log.logEndOffset);
    return found
      ? { leaderEpoch: found.epoch, endOffset: found.endOffset }
      : { leaderEpoch: -1, endOffset: -1 };
  }

  /**
   * Snapshots producer state at the current log end offset (inside the append queue, so the state
   * matches the offset exactly), if anything was appended since the last one. Recovery then
   * replays only the log after the snapshot.
   */
  snapshotProducerState(): Promise<void> {
    return this.appendQueue.run(async () => {
      const offset = this.log.logEndOffset;
      if (offset === this.lastSnapshotOffset) return;
      await this.producers.writeSnapshot(this.log.dir, offset);
      this.lastSnapshotOffset = offset;
    });
  }

  close(): void {
    this.resign('none');
  }
}
