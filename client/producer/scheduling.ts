import type { RecordHeader } from '../../protocol/record-batch/index.js';
import {
  MAX_DELAY_MS,
  newScheduleId,
  parseScheduleId,
  SCHEDULE_HEADERS,
  SCHEDULE_TOPIC,
  SCHEDULE_TOPIC_PARTITIONS,
} from '../../protocol/schedules.js';
import { ConfigError } from '../errors.js';

const INTERNAL_HEADERS = new Set<string>(Object.values(SCHEDULE_HEADERS));

/** When a record is to be delivered, for `Producer.send` (one of the two). */
export interface DeliveryTime {
  /** Deliver this many milliseconds from now (up to a year). */
  deliverAfterMs?: number;
  /** Deliver at this time (epoch milliseconds or a Date), up to a year ahead. */
  deliverAt?: number | Date;
}

/**
 * The record a scheduled send produces instead: to the schedule topic, with the target topic, the
 * due time and a schedule id named here (so `send` can return it) in headers; see
 * protocol/schedules.ts. The schedule topic's partition only spreads requests over brokers.
 */
export function scheduledRecord(
  topic: string,
  when: DeliveryTime,
  headers: RecordHeader[],
  partition: number | undefined,
  now = Date.now(),
): { scheduleId: string; headers: RecordHeader[]; partition: number } {
  if ((when.deliverAfterMs === undefined) === (when.deliverAt === undefined))
    throw new ConfigError('give one of deliverAfterMs and deliverAt', 'deliverAfterMs');
  const dueAt =
    when.deliverAt !== undefined
      ? when.deliverAt instanceof Date
        ? when.deliverAt.getTime()
        : when.deliverAt
      : now + when.deliverAfterMs!;
  if (!Number.isSafeInteger(dueAt))
    throw new ConfigError('the delivery time must be a whole millisecond', 'deliverAt');
  if (when.deliverAfterMs !== undefined && when.deliverAfterMs < 0)
    throw new ConfigError('deliverAfterMs cannot be negative', 'deliverAfterMs');
  if (dueAt - now > MAX_DELAY_MS)
    throw new ConfigError(`a delivery at most ${MAX_DELAY_MS} ms ahead can be scheduled`, 'deliverAt');
  const scheduleId = newScheduleId(Math.max(dueAt, now));
  const internal: RecordHeader[] = [
    { key: SCHEDULE_HEADERS.topic, value: Buffer.from(topic) },
    { key: SCHEDULE_HEADERS.deliverAt, value: Buffer.from(String(parseScheduleId(scheduleId).dueAt)) },
    { key: SCHEDULE_HEADERS.id, value: Buffer.from(scheduleId) },
    ...(partition !== undefined
      ? [{ key: SCHEDULE_HEADERS.partition, value: Buffer.from(String(partition)) }]
      : []),
  ];
  return {
    scheduleId,
    // A forwarded record (a retry of a delivered one) may carry an old schedule's headers: this
    // schedule's must be the only ones, or the broker would read the old id.
    headers: [...headers.filter((h) => !INTERNAL_HEADERS.has(h.key)), ...internal],
    partition: parseScheduleId(scheduleId).shard % SCHEDULE_TOPIC_PARTITIONS,
  };
}

/** The record that cancels a schedule. */
export function cancellationRecord(scheduleId: string): { headers: RecordHeader[]; partition: number } {
  const { shard } = parseScheduleId(scheduleId);
  return {
    headers: [{ key: SCHEDULE_HEADERS.cancel, value: Buffer.from(scheduleId) }],
    partition: shard % SCHEDULE_TOPIC_PARTITIONS,
  };
}

export { SCHEDULE_TOPIC };
