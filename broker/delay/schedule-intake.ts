import { decodeRecordBatches } from '../../protocol/record-batch/index.js';
import {
  InvalidScheduleIdError,
  MAX_DELAY_MS,
  MAX_SCHEDULED_RECORD_BYTES,
  MIN_DELAY_MS,
  newScheduleId,
  parseScheduleId,
  SCHEDULE_HEADERS,
  type Schedule,
  type ScheduleHeader,
} from '../../protocol/schedules.js';

/** One record produced to the schedule topic, understood. */
export type ScheduleRequest =
  | { kind: 'schedule'; schedule: Schedule }
  | { kind: 'cancel'; scheduleId: string };

/** A record produced to the schedule topic that cannot be scheduled; the produce fails with it. */
export class InvalidScheduleError extends Error {
  override name = 'InvalidScheduleError';
  constructor(
    message: string,
    readonly recordIndex: number,
  ) {
    super(`record ${recordIndex}: ${message}`);
  }
}

/** How far in the past a due time may be (clients' clocks differ from the broker's). */
const MAX_PAST_MS = 60_000;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const INTERNAL = new Set<string>(Object.values(SCHEDULE_HEADERS));

/**
 * Turns the batches of a produce to the schedule topic into schedules and cancellations, all or
 * nothing: one bad record fails the whole request (INVALID_RECORD) so that a client never has to
 * find out which of its records were accepted.
 *
 * A schedule needs the target topic header and either an absolute due time or a delay (from
 * `now`, the broker's receipt); a due time more than a minute in the past is refused, so a schedule
 * cannot land behind a promoter's cursor. The internal headers are removed from what is stored; the record's
 * own headers, key and value are kept.
 */
export function parseScheduleRecords(records: Buffer, now: number): ScheduleRequest[] {
  const requests: ScheduleRequest[] = [];
  let index = 0;
  for (const batch of decodeRecordBatches(records)) {
    for (const record of batch.records) {
      const header = (name: string) => record.headers.find((h) => h.key === name)?.value?.toString('utf8');
      const cancel = header(SCHEDULE_HEADERS.cancel);
      if (cancel !== undefined) {
        checkId(cancel, index);
        requests.push({ kind: 'cancel', scheduleId: cancel });
        index++;
        continue;
      }
      const topic = header(SCHEDULE_HEADERS.topic);
      if (topic === undefined)
        throw new InvalidScheduleError(`needs the ${SCHEDULE_HEADERS.topic} header`, index);
      if (!TOPIC_NAME.test(topic) || topic.startsWith('__'))
        throw new InvalidScheduleError(`"${topic}" cannot be a target topic`, index);
      const dueAt = dueTime(
        header(SCHEDULE_HEADERS.deliverAt),
        header(SCHEDULE_HEADERS.deliverAfter),
        now,
        index,
      );
      const partitionText = header(SCHEDULE_HEADERS.partition);
      const partition = partitionText === undefined ? null : Number(partitionText);
      if (partition !== null && !(Number.isInteger(partition) && partition >= 0))
        throw new InvalidScheduleError(`bad ${SCHEDULE_HEADERS.partition} "${partitionText}"`, index);
      const headers: ScheduleHeader[] = record.headers
        .filter((h) => !INTERNAL.has(h.key))
        .map((h) => ({ key: h.key, value: h.value ? Buffer.from(h.value) : null }));
      const size =
        (record.key?.length ?? 0) +
        (record.value?.length ?? 0) +
        headers.reduce((sum, h) => sum + h.key.length + (h.value?.length ?? 0), 0);
      if (size > MAX_SCHEDULED_RECORD_BYTES)
        throw new InvalidScheduleError(
          `${size} bytes; a scheduled record holds at most ${MAX_SCHEDULED_RECORD_BYTES}`,
          index,
        );
      const requestedId = header(SCHEDULE_HEADERS.id);
      let id: string;
      if (requestedId !== undefined) {
        // The SDK names its schedules (so send() can return the id); the id must match the due time.
        checkId(requestedId, index);
        if (parseScheduleId(requestedId).dueAt !== dueAt)
          throw new InvalidScheduleError(
            `schedule id ${requestedId} does not match the due time ${dueAt}`,
            index,
          );
        id = requestedId;
      } else {
        id = newScheduleId(dueAt);
      }
      requests.push({
        kind: 'schedule',
        schedule: {
          id,
          dueAt,
          shard: parseScheduleId(id).shard,
          topic,
          partition,
          key: record.key ? Buffer.from(record.key) : null,
          value: record.value ? Buffer.from(record.value) : null,
          headers,
          createdAt: now,
        },
      });
      index++;
    }
  }
  return requests;
}

function dueTime(at: string | undefined, after: string | undefined, now: number, index: number): number {
  if ((at === undefined) === (after === undefined))
    throw new InvalidScheduleError(
      `needs exactly one of ${SCHEDULE_HEADERS.deliverAt} and ${SCHEDULE_HEADERS.deliverAfter}`,
      index,
    );
  const value = Number(at ?? after);
  if (!Number.isSafeInteger(value)) throw new InvalidScheduleError(`bad due time "${at ?? after}"`, index);
  const delay = at !== undefined ? value - now : value;
  if (delay > MAX_DELAY_MS)
    throw new InvalidScheduleError(
      `a delay of ${delay} ms is more than the maximum, ${MAX_DELAY_MS} ms`,
      index,
    );
  if (after !== undefined && value < MIN_DELAY_MS)
    throw new InvalidScheduleError('a delay cannot be negative', index);
  const due = now + delay;
  // A due time a little in the past (the client's clock, or "now") is due at once. Much further
  // back it could fall behind a promoter's cursor (schedule-store.ts), so it is refused.
  if (due < now - MAX_PAST_MS)
    throw new InvalidScheduleError(
      `due time ${due} is more than ${MAX_PAST_MS} ms in the past (clock skew?)`,
      index,
    );
  return due;
}

function checkId(id: string, index: number): void {
  try {
    parseScheduleId(id);
  } catch (error) {
    if (error instanceof InvalidScheduleIdError) throw new InvalidScheduleError(error.message, index);
    throw error;
  }
}
