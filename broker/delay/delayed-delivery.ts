import { SCHEDULE_SHARDS } from '../../protocol/schedules.js';
import type { Logger } from '../common/logger.js';
import { type Promoter, type PromotionOutcome, promoteDue } from './promoter.js';
import { parseScheduleRecords } from './schedule-intake.js';
import type { ScheduleStore, StoredSchedule } from './schedule-store.js';
import { TimingWheel } from './timing-wheel.js';

export interface DelayedDeliveryOptions {
  store: ScheduleStore;
  promoter: Promoter;
  nodeId: number;
  /** Ids of the live brokers: shard s is polled by the broker at position s mod n among them. */
  liveBrokerIds: () => readonly number[];
  logger: Logger;
  /** Schedules due within this window go into the timing wheel (default 60 s). */
  horizonMs?: number;
  /** How often owned shards are read (default 1 s). */
  pollMs?: number;
  /** Promotions in flight at once (default 32). */
  concurrency?: number;
}

/** Outcome counts, for metrics and tests. */
export interface DeliveryCounts {
  scheduled: number;
  cancelled: number;
  delivered: number;
  failed: number;
}

/**
 * A broker's part in delayed delivery.
 *
 * - Intake: a produce to the schedule topic lands here (not in a log). The schedules are written to
 *   DynamoDB before the produce is answered, so an acknowledged schedule survives any broker.
 * - Near-term promotion: schedules due within the horizon sit in an in-memory hierarchical timing
 *   wheel, 10 ms resolution. Each broker loads those of the shards it owns every poll, and adds the
 *   ones it accepted itself at once (so a short delay does not wait for a poll). A schedule may be
 *   in two brokers' wheels; the claim in Promoter makes one of them promote it.
 * - Catch-up: each poll also promotes whatever is overdue in the owned shards (schedules of a
 *   broker that died, claims that ran out) and moves the shards' cursors.
 * The wheel only ever holds copies: losing it loses nothing, DynamoDB is the record.
 */
export class DelayedDelivery {
  private readonly wheel: TimingWheel<StoredSchedule>;
  private readonly inWheel = new Set<string>();
  private readonly horizonMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly queue: StoredSchedule[] = [];
  private inFlight = 0;
  private wheelTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  readonly counts: DeliveryCounts = { scheduled: 0, cancelled: 0, delivered: 0, failed: 0 };

  constructor(private readonly options: DelayedDeliveryOptions) {
    this.wheel = new TimingWheel(Date.now());
    this.horizonMs = options.horizonMs ?? 60_000;
    this.pollMs = options.pollMs ?? 1000;
    this.concurrency = options.concurrency ?? 32;
  }

  start(): void {
    const poll = () => {
      this.polling = this.pollOnce()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'delayed delivery poll failed'))
        .finally(() => {
          if (!this.stopped) this.pollTimer = setTimeout(poll, this.pollMs);
        });
    };
    this.pollTimer = setTimeout(poll, 0);
  }

  /**
   * Stores the schedules and cancellations of one produce to the schedule topic (all or none are
   * valid; see schedule-intake.ts). Resolves once every one is in DynamoDB. A cancellation of a
   * schedule that was already delivered fails the request with ScheduleNotCancellableError.
   */
  async accept(records: Buffer): Promise<number> {
    const now = Date.now();
    const requests = parseScheduleRecords(records, now);
    for (const request of requests) {
      if (request.kind === 'cancel') {
        const outcome = await this.options.store.cancel(request.scheduleId, now);
        if (outcome !== 'cancelled') throw new ScheduleNotCancellableError(request.scheduleId, outcome);
        this.counts.cancelled++;
        if (this.inWheel.delete(request.scheduleId)) this.wheel.remove((s) => s.id === request.scheduleId);
        continue;
      }
      const { schedule } = request;
      await this.options.store.put(schedule);
      this.counts.scheduled++;
      if (schedule.dueAt <= now + this.horizonMs) this.enqueue({ ...schedule, state: 'pending' });
    }
    return requests.length;
  }

  private ownedShards(): number[] {
    const live = [...this.options.liveBrokerIds()].sort((a, b) => a - b);
    const position = live.indexOf(this.options.nodeId);
    if (position < 0) return [];
    return Array.from({ length: SCHEDULE_SHARDS }, (_, s) => s).filter((s) => s % live.length === position);
  }

  private async pollOnce(): Promise<void> {
    const shards = this.ownedShards();
    if (shards.length === 0) return;
    const now = Date.now();
    // One read per owned shard: what is overdue (a dead broker's schedules, claims that ran out)
    // is promoted now; what is due within the horizon goes into the wheel.
    const summary = await promoteDue({
      store: this.options.store,
      promoter: this.options.promoter,
      shards,
      now,
      until: now,
      lookahead: now + this.horizonMs,
      upcoming: (schedule) => {
        if (schedule.state === 'pending') this.enqueue(schedule);
      },
      logger: this.options.logger,
    });
    this.counts.delivered += summary.delivered;
    this.counts.failed += summary.failed;
  }

  private enqueue(schedule: StoredSchedule): void {
    if (this.stopped || this.inWheel.has(schedule.id)) return;
    this.inWheel.add(schedule.id);
    this.wheel.add(schedule.dueAt, schedule);
    this.armWheel();
  }

  private armWheel(): void {
    if (this.wheelTimer || this.stopped) return;
    const wakeAt = this.wheel.nextWakeup();
    if (wakeAt === undefined) return;
    this.wheelTimer = setTimeout(
      () => {
        this.wheelTimer = undefined;
        for (const due of this.wheel.advance(Date.now())) this.queue.push(due);
        this.drain();
        this.armWheel();
      },
      Math.max(0, wakeAt - Date.now()),
    );
  }

  private drain(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const schedule = this.queue.shift()!;
      this.inFlight++;
      void this.options.promoter
        .promote(schedule)
        .then(
          (outcome: PromotionOutcome) => {
            if (outcome === 'delivered' || outcome === 'found') this.counts.delivered++;
          },
          (error: unknown) => {
            this.counts.failed++;
            this.options.logger.warn(
              { err: error, scheduleId: schedule.id },
              'promotion failed; a poll retries it',
            );
          },
        )
        .finally(() => {
          this.inFlight--;
          this.inWheel.delete(schedule.id);
          this.drain();
        });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.wheelTimer);
    await this.polling;
    while (this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A cancellation that came too late (or named an unknown schedule). */
export class ScheduleNotCancellableError extends Error {
  override name = 'ScheduleNotCancellableError';
  constructor(
    readonly scheduleId: string,
    readonly outcome: 'not-found' | 'already-delivered' | 'in-delivery',
  ) {
    super(`schedule ${scheduleId} cannot be cancelled: ${outcome.replace('-', ' ')}`);
  }
}
