import { idLowerBound, SCHEDULE_HEADERS, type ScheduleHeader } from '../../protocol/schedules.js';
import type { StructuredLogger } from '../common/logger.js';
import type { ScheduleStore, StoredSchedule } from './schedule-store.js';

/** Where promoted records go: the cluster, through a Kafka client (kafka-promotion-target.ts). */
export interface PromotionTarget {
  /** The partition for a schedule that did not name one: by key, like a direct produce. */
  partitionFor(topic: string, key: Buffer | null): Promise<number>;
  /** The partition's log end offset now. */
  endOffset(topic: string, partition: number): Promise<number>;
  /** Produces one record (acks=all); resolves to its offset. */
  produce(
    topic: string,
    partition: number,
    record: { key: Buffer | null; value: Buffer | null; headers: ScheduleHeader[] },
  ): Promise<number>;
  /** The offset of the record carrying schedule id `id` at or after `fromOffset`, if any. */
  find(topic: string, partition: number, fromOffset: number, id: string): Promise<number | undefined>;
}

export interface PromoterOptions {
  /** Identifies this promoter in claims (broker id and incarnation, or the Lambda request). */
  owner: string;
  /** How long a claim lasts (default 30 s). */
  claimMs?: number;
  /**
   * Safety margin (default 5 s): a promoter does not start a produce with less than this left on
   * its claim, and a claim is only taken over this long after it ran out. So a produce that is
   * under way when a claim runs out has landed before anyone looks for it.
   */
  marginMs?: number;
  now?: () => number;
  logger: StructuredLogger;
}

export type PromotionOutcome = 'delivered' | 'found' | 'not-due' | 'taken' | 'failed';

/**
 * Moves a due schedule into its target topic exactly once.
 *
 * 1. Claim it with a conditional write (pending, or a claim that ran out a margin ago). The first
 *    claim fixes the target partition and records the partition's log end (scanFrom).
 * 2. If an earlier claim existed, the record may already be in the partition (its promoter died
 *    after producing and before recording it): look for the schedule id from scanFrom on, and if
 *    it is there, only record the delivery.
 * 3. Produce (acks=all) with the schedule id in a header, then record the delivery; that write is
 *    conditional on still holding the claim.
 * A crash at any point leaves the schedule claimed, and the next claim after it runs out resumes
 * at step 2, so the record is neither lost nor promoted twice.
 */
export class Promoter {
  private readonly claimMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: ScheduleStore,
    private readonly target: PromotionTarget,
    private readonly options: PromoterOptions,
  ) {
    this.claimMs = options.claimMs ?? 30_000;
    this.marginMs = options.marginMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  async promote(schedule: StoredSchedule): Promise<PromotionOutcome> {
    if (schedule.dueAt > this.now()) return 'not-due';
    if (schedule.state === 'claimed' && (schedule.claimUntil ?? 0) >= this.now() - this.marginMs)
      return 'taken';
    const partition =
      schedule.targetPartition ??
      schedule.partition ??
      (await this.target.partitionFor(schedule.topic, schedule.key));
    const scanFrom = schedule.scanFrom ?? (await this.target.endOffset(schedule.topic, partition));
    const claimed = await this.store.claim(schedule.id, {
      owner: this.options.owner,
      now: this.now(),
      claimMs: this.claimMs,
      marginMs: this.marginMs,
      targetPartition: partition,
      scanFrom,
    });
    if (!claimed) return 'taken';
    const { targetPartition = partition, scanFrom: from = scanFrom, claimUntil = 0 } = claimed;
    try {
      if ((claimed.attempts ?? 1) > 1) {
        const offset = await this.target.find(claimed.topic, targetPartition, from, claimed.id);
        if (offset !== undefined) {
          await this.store.markDelivered(claimed.id, this.options.owner, offset, this.now());
          this.options.logger.info(
            { scheduleId: claimed.id, topic: claimed.topic, partition: targetPartition, offset },
            'a previous claim had delivered this schedule; recorded it',
          );
          return 'found';
        }
      }
      if (this.now() > claimUntil - this.marginMs) {
        await this.store.release(claimed.id, this.options.owner);
        return 'failed';
      }
    } catch (error) {
      // Nothing was produced under this claim: hand it back for the next pass.
      await this.store.release(claimed.id, this.options.owner).catch(() => undefined);
      throw error;
    }
    const headers: ScheduleHeader[] = [
      ...claimed.headers,
      { key: SCHEDULE_HEADERS.id, value: Buffer.from(claimed.id) },
      { key: SCHEDULE_HEADERS.deliverAt, value: Buffer.from(String(claimed.dueAt)) },
    ];
    // From here the record may land even if this call fails: the claim is left to run out, and
    // the next claimer looks for the record before producing (step 2).
    const offset = await this.target.produce(claimed.topic, targetPartition, {
      key: claimed.key,
      value: claimed.value,
      headers,
    });
    if (!(await this.store.markDelivered(claimed.id, this.options.owner, offset, this.now()))) {
      this.options.logger.warn(
        { scheduleId: claimed.id, offset },
        'lost the claim while delivering; the next claimer will find the record',
      );
    }
    return 'delivered';
  }
}

export interface DueScanSummary {
  scanned: number;
  delivered: number;
  failed: number;
  /** Stopped at the deadline with work left. */
  incomplete: boolean;
}

/** Cursors never pass schedules due this recently: one due a minute in the past may still arrive. */
const SETTLE_MS = 120_000;

/**
 * Promotes every unfinished schedule of `shards` due by `until`, from each shard's cursor, and
 * hands the ones due later (up to `until`) to `upcoming`. Then moves each cursor up to its first
 * unfinished schedule, but never past SETTLE_MS before `now` (schedule-intake.ts refuses due times
 * more than a minute in the past, so nothing new can appear behind it).
 */
export async function promoteDue(options: {
  store: ScheduleStore;
  promoter: Promoter;
  shards: readonly number[];
  now: number;
  /** Promote what is due by this time. */
  until: number;
  /** Also read schedules due up to this time (>= until) and pass them to `upcoming`. */
  lookahead?: number;
  upcoming?: (schedule: StoredSchedule) => void;
  deadline?: number;
  /** Promotions in flight at once (default 16). */
  concurrency?: number;
  logger: StructuredLogger;
}): Promise<DueScanSummary> {
  const { store, promoter, now, until } = options;
  const summary: DueScanSummary = { scanned: 0, delivered: 0, failed: 0, incomplete: false };
  const cursors = await store.cursors();
  for (const shard of options.shards) {
    if (options.deadline !== undefined && Date.now() > options.deadline) {
      summary.incomplete = true;
      return summary;
    }
    const cursor = cursors.get(shard);
    if (cursor === undefined) continue;
    const schedules = await store.unfinished(shard, cursor, Math.max(until, options.lookahead ?? until));
    const finished = new Set<string>();
    const due = schedules.filter((schedule) => {
      if (schedule.dueAt <= until) return true;
      options.upcoming?.(schedule);
      return false;
    });
    // A bounded number at a time: each promotion is a few round trips, and a backlog (brokers
    // were down) should clear in seconds, not one schedule after another.
    let taken = 0;
    const worker = async () => {
      while (taken < due.length) {
        if (options.deadline !== undefined && Date.now() > options.deadline) {
          summary.incomplete = true;
          return;
        }
        const schedule = due[taken++]!;
        summary.scanned++;
        try {
          const outcome = await promoter.promote(schedule);
          if (outcome === 'delivered' || outcome === 'found') {
            summary.delivered++;
            finished.add(schedule.id);
          }
          if (outcome === 'failed') summary.failed++;
        } catch (error) {
          summary.failed++;
          options.logger.warn({ err: error, scheduleId: schedule.id }, 'promotion failed; will retry');
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
    const firstLeft = schedules.find((schedule) => !finished.has(schedule.id))?.id;
    const settled = idLowerBound(now - SETTLE_MS);
    const next = firstLeft !== undefined && firstLeft < settled ? firstLeft : settled;
    if (next > cursor) await store.advanceCursor(shard, cursor, next);
    if (summary.incomplete) return summary;
  }
  return summary;
}
