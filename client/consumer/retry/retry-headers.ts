import type { RecordHeader } from '../../../protocol/record-batch/index.js';
import { SCHEDULE_HEADERS } from '../../../protocol/schedules.js';

/**
 * The headers the consumer's retry option writes on records it sends to a retry or dead-letter
 * topic. Values are UTF-8 text (numbers in decimal), so any Kafka client or `spool consume
 * --print-headers` can read them.
 */
export const RETRY_HEADERS = {
  /** The number of the attempt that failed, 1-based (on a dead-lettered record: the last one). */
  attempt: 'spool-retry-attempt',
  /** Where the record was first consumed from: topic, partition and offset. */
  originalTopic: 'spool-retry-original-topic',
  originalPartition: 'spool-retry-original-partition',
  originalOffset: 'spool-retry-original-offset',
  /** The handler's error message of the failed attempt (at most MAX_ERROR_BYTES of UTF-8). */
  error: 'spool-retry-error',
  /** When the first attempt failed, epoch milliseconds. */
  firstFailureAt: 'spool-retry-first-failure-at',
  /** Only on dead-lettered records: why (a DeadLetterReason). */
  deadLetterReason: 'spool-dlq-reason',
} as const;

/**
 * Why a record went to the dead-letter topic:
 * - `attempts-exhausted`: the handler failed maxAttempts times;
 * - `deserialization-failed`: the key or value cannot be deserialized, which no retry can change;
 * - `too-large-to-delay`: the record is bigger than a delayed delivery can hold
 *   (MAX_SCHEDULED_RECORD_BYTES), so it cannot wait in the retry topic.
 */
export type DeadLetterReason = 'attempts-exhausted' | 'deserialization-failed' | 'too-large-to-delay';

export const MAX_ERROR_BYTES = 1024;

/** What the retry headers of a record say (see RETRY_HEADERS). */
export interface RetryInfo {
  /** Attempts that failed so far; the record in hand is attempt `failedAttempts + 1`. */
  failedAttempts: number;
  originalTopic: string;
  originalPartition: number;
  originalOffset: number;
  firstFailureAt: number;
  /** The error message of the last failed attempt. */
  lastError: string;
  /** Set on dead-lettered records. */
  deadLetterReason?: string;
}

const RETRY_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(RETRY_HEADERS));
/**
 * Delayed delivery's own headers. A delivered record carries `spool-schedule-id` and
 * `spool-deliver-at`; left on a record that is scheduled again, the broker would take them for the
 * new schedule's (it reads the first header of each name), so they are dropped when a record moves on.
 */
const SCHEDULE_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(SCHEDULE_HEADERS));

/** The headers without the retry and dead-letter headers (what `spool dlq replay` puts back). */
export function withoutRetryHeaders(headers: readonly RecordHeader[]): RecordHeader[] {
  return headers.filter((h) => !RETRY_HEADER_NAMES.has(h.key));
}

/** Reads the retry headers; undefined unless the record was sent by a consumer's retry. */
export function retryInfo(headers: readonly RecordHeader[]): RetryInfo | undefined {
  const text = (name: string) => headers.find((h) => h.key === name)?.value?.toString('utf8');
  const number = (name: string) => {
    const value = text(name);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  const failedAttempts = number(RETRY_HEADERS.attempt);
  const originalTopic = text(RETRY_HEADERS.originalTopic);
  const originalPartition = number(RETRY_HEADERS.originalPartition);
  const originalOffset = number(RETRY_HEADERS.originalOffset);
  if (
    failedAttempts === undefined ||
    originalTopic === undefined ||
    originalPartition === undefined ||
    originalOffset === undefined
  )
    return undefined;
  const reason = text(RETRY_HEADERS.deadLetterReason);
  return {
    failedAttempts,
    originalTopic,
    originalPartition,
    originalOffset,
    firstFailureAt: number(RETRY_HEADERS.firstFailureAt) ?? 0,
    lastError: text(RETRY_HEADERS.error) ?? '',
    ...(reason !== undefined ? { deadLetterReason: reason } : {}),
  };
}

/** Which attempt a record handed to a handler is: 1 unless it came back through a retry topic. */
export function deliveryAttempt(record: { headers: readonly RecordHeader[] }): number {
  return (retryInfo(record.headers)?.failedAttempts ?? 0) + 1;
}

export interface FailureDescription {
  originalTopic: string;
  originalPartition: number;
  originalOffset: number;
  /** The attempt that failed, 1-based. */
  attempt: number;
  firstFailureAt: number;
  error: unknown;
  /** Set when the record goes to the dead-letter topic. */
  deadLetterReason?: DeadLetterReason;
}

/**
 * The headers of a failed record on its way to a retry or dead-letter topic: its own headers
 * (minus earlier retry headers and delayed delivery's headers) followed by the retry headers.
 */
export function failureHeaders(
  headers: readonly RecordHeader[],
  failure: FailureDescription,
): RecordHeader[] {
  const own = headers.filter((h) => !RETRY_HEADER_NAMES.has(h.key) && !SCHEDULE_HEADER_NAMES.has(h.key));
  const header = (key: string, value: string | number): RecordHeader => ({
    key,
    value: Buffer.from(String(value), 'utf8'),
  });
  return [
    ...own,
    header(RETRY_HEADERS.attempt, failure.attempt),
    header(RETRY_HEADERS.originalTopic, failure.originalTopic),
    header(RETRY_HEADERS.originalPartition, failure.originalPartition),
    header(RETRY_HEADERS.originalOffset, failure.originalOffset),
    header(RETRY_HEADERS.error, truncateUtf8(errorMessage(failure.error), MAX_ERROR_BYTES)),
    header(RETRY_HEADERS.firstFailureAt, failure.firstFailureAt),
    ...(failure.deadLetterReason ? [header(RETRY_HEADERS.deadLetterReason, failure.deadLetterReason)] : []),
  ];
}

/**
 * The message, with its causes' messages: SDK errors wrap the informative one (a SerializationError
 * says which topic, its cause what was wrong with the bytes).
 */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message || error.name;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++, cause = cause.cause)
    if (cause.message && !message.includes(cause.message)) message += `: ${cause.message}`;
  return message;
}

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}
