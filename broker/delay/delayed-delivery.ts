import { idLowerBound, SCHEDULE_SHARDS } from '../../protocol/schedules.js';
import type { Logger } from '../common/logger.js';
import { type Promoter, type PromotionOutcome, promoteDue } from './promoter.js';
import { parseScheduleRecords } from './schedule-intake.js';
import type { ScheduleStore, StoredSchedule } from './schedule-store.js';
import { TimingWheel } from './timing-wheel.js';

/** Schedules of one produce stored at once. */
const ACCEPT_PARALLELISM = 8;
/** The overdue scan runs every this many polls (10 s by default). */
const CATCH_UP_EVERY = 10;

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
 * - Catch-up: every 10 s the owned shards' overdue schedules are promoted (those of a broker that
 *   died, claims that ran out) and the shards' cursors move on.
 * The wheel only ever holds copies: losing it loses nothing, DynamoDB is the record.
 */
export class DelayedDelivery {
  private readonly wheel: TimingWheel<StoredSchedule>;
  private readonly inWheel = new Set<string>();
  /** Per owned shard: schedules due up to this time have been loaded into the wheel. */
  private readonly loadedUntil = new Map<number, number>();
  private polls = 0;
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
    // Cancellations in order, after the schedules of the same request; schedules in parallel
    // (each is its own conditional put), a bounded number at a time.
    const schedules = requests.flatMap((r) => (r.kind === 'schedule' ? [r.schedule] : []));
    for (let i = 0; i < schedules.length; i += ACCEPT_PARALLELISM) {
      await Promise.all(
        schedules.slice(i, i + ACCEPT_PARALLELISM).map(async (schedule) => {
          await this.options.store.put(schedule);
          this.counts.scheduled++;
          if (schedule.dueAt <= now + this.horizonMs) this.enqueue({ ...schedule, state: 'pending' });
        }),
      );
    }
    for (const request of requests) {
      if (request.kind !== 'cancel') continue;
      const outcome = await this.options.store.cancel(request.scheduleId, now);
      if (outcome !== 'cancelled') throw new ScheduleNotCancellableError(request.scheduleId, outcome);
      this.counts.cancelled++;
      if (this.inWheel.delete(request.scheduleId)) this.wheel.remove((s) => s.id === request.scheduleId);
    }
    return requests.length;
  }

  private ownedShards(): number[] {
    const live = [...this.options.liveBrokerIds()].sort((a, b) => a - b);
    const position = live.indexOf(this.options.nodeId);
    if (position < 0) return [];
    return Array.from({ length: SCHEDULE_SHARDS }, (_, s) => s).filter((s) => s % live.length === position);
  }

  /**
   * Every poll loads what became due within the horizon since the last one (each owned shard is
   * read only past what it loaded before). Every CATCH_UP_EVERY polls, the overdue scan promotes
   * what is due and unfinished from the shards' cursors: schedules of a broker that died before
   * promoting them, claims that ran out, schedules accepted elsewhere after this broker's load.
   */
  private async pollOnce(): Promise<void> {
    const shards = this.ownedShards();
    const now = Date.now();
    for (const shard of [...this.loadedUntil.keys()])
      if (!shards.includes(shard)) this.loadedUntil.delete(shard);
    if (shards.length === 0) return;
    if (this.polls++ % CATCH_UP_EVERY === 0) {
      const summary = await promoteDue({
        store: this.options.store,
        promoter: this.options.promoter,
        shards,
        now,
        until: now,
        logger: this.options.logger,
      });
      this.counts.delivered += summary.delivered;
      this.counts.failed += summary.failed;
    }
    const cursors = await this.options.store.cursors();
    const until = now + this.horizonMs;
    for (const shard of shards) {
      const cursor = cursors.get(shard);
      if (cursor === undefined) continue;
      const loaded = this.loadedUntil.get(shard);
      const from = loaded === undefined ? cursor : idLowerBound(loaded + 1);
      for (const schedule of await this.options.store.unfinished(
        shard,
        from > cursor ? from : cursor,
        until,
      )) {
        if (schedule.state === 'pending') this.enqueue(schedule);
      }
      this.loadedUntil.set(shard, until);
    }
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
