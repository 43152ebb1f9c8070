import { randomBytes } from 'node:crypto';

/**
 * Delayed and scheduled messages: the names and limits shared by the broker, the promotion Lambda
 * and the SDK.
 *
 * A client schedules a record by producing it to the virtual topic SCHEDULE_TOPIC with headers
 * naming the target topic and the due time (SCHEDULE_HEADERS). The broker does not append it to any
 * log: it stores it in DynamoDB (broker/delay/schedule-store.ts) and acknowledges once that write
 * succeeded. At the due time a promoter (a broker's timing wheel for near-term schedules, or the
 * delayed-promotion Lambda) claims it with a conditional write and produces it to the target
 * topic, with the schedule id in a header (broker/delay/promoter.ts). This module is the shared
 * convention (names, limits, id format) and does no I/O.
 */

/** The virtual topic schedules and cancellations are produced to. It has no log. */
export const SCHEDULE_TOPIC = '__spool_schedules';
/** Partitions of the virtual topic: they only spread produce requests over the brokers. */
export const SCHEDULE_TOPIC_PARTITIONS = 8;
/** Schedules are spread over this many shards, each a DynamoDB partition key sorted by due time. */
export const SCHEDULE_SHARDS = 16;

export const SCHEDULE_HEADERS = {
  /** The target topic (required). */
  topic: 'spool-schedule-topic',
  /** Due time, epoch milliseconds as decimal text; or `deliverAfter`. */
  deliverAt: 'spool-deliver-at',
  /** Delay in milliseconds from the broker's receipt, as decimal text. */
  deliverAfter: 'spool-deliver-after-ms',
  /** Target partition (optional; default: by key, murmur2 like Kafka's Java client). */
  partition: 'spool-schedule-partition',
  /**
   * The schedule id. Optional when scheduling (the broker then derives one), and carried by the
   * promoted record so consumers can deduplicate.
   */
  id: 'spool-schedule-id',
  /** A record with this header (value: a schedule id) cancels that schedule. */
  cancel: 'spool-schedule-cancel',
} as const;

export const MIN_DELAY_MS = 0;
/** The longest delay accepted: a year (RocketMQ's limit is days, Pulsar's memory). */
export const MAX_DELAY_MS = 365 * 24 * 3600 * 1000;
/**
 * A schedule lives in one DynamoDB item (400 KB at most), so key, value and headers together are
 * limited to this.
 */
export const MAX_SCHEDULED_RECORD_BYTES = 350 * 1024;

/** A record header, as the codec and the SDK carry them. */
export interface ScheduleHeader {
  key: string;
  value: Buffer | null;
}

/** One scheduled record, as stored. */
export interface Schedule {
  id: string;
  dueAt: number;
  shard: number;
  topic: string;
  /** Null: chosen at promotion, by key. */
  partition: number | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: ScheduleHeader[];
  createdAt: number;
}

const DUE_WIDTH = 9; // base-36 digits: enough for epoch milliseconds until the year 5188
const ID_PATTERN = /^([0-9a-z]{9})-([0-9a-f]{2})-([A-Za-z0-9_-]{8,64})$/;

export class InvalidScheduleIdError extends Error {
  override name = 'InvalidScheduleIdError';
  constructor(readonly scheduleId: string) {
    super(`"${scheduleId}" is not a schedule id`);
  }
}

/**
 * Schedule ids carry where the schedule is stored: `<due time, 9 base-36 digits>-<shard, 2 hex>-
 * <unique part>`. So a cancellation finds the item without an index, and ids sort by due time
 * (the sort key of a shard's Query). The unique part is random, or the client's own suffix.
 */
export function newScheduleId(dueAt: number, unique: string = randomBytes(12).toString('base64url')): string {
  const shard = shardOf(unique);
  return `${dueAt.toString(36).padStart(DUE_WIDTH, '0')}-${shard.toString(16).padStart(2, '0')}-${unique}`;
}

export function parseScheduleId(id: string): { dueAt: number; shard: number } {
  const match = ID_PATTERN.exec(id);
  if (!match) throw new InvalidScheduleIdError(id);
  const dueAt = Number.parseInt(match[1]!, 36);
  const shard = Number.parseInt(match[2]!, 16);
  if (shard >= SCHEDULE_SHARDS || shard !== shardOf(match[3]!)) throw new InvalidScheduleIdError(id);
  return { dueAt, shard };
}

/** A string sorting after every id due at or before `dueAt` (a Query's upper bound). */
export function idUpperBound(dueAt: number): string {
  return `${dueAt.toString(36).padStart(DUE_WIDTH, '0')}-~`;
}

/** A string sorting before every id due at or after `dueAt` (a cursor). */
export function idLowerBound(dueAt: number): string {
  return `${Math.max(0, dueAt).toString(36).padStart(DUE_WIDTH, '0')}-`;
}

/** FNV-1a of the unique part: spreads schedules evenly over the shards. */
function shardOf(unique: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < unique.length; i++) {
    hash ^= unique.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SCHEDULE_SHARDS;
}
