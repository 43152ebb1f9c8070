import type { RecordHeader } from '../../../protocol/record-batch/index.js';
import { MAX_SCHEDULED_RECORD_BYTES } from '../../../protocol/schedules.js';
import { SpoolError, toSpoolError } from '../../errors.js';
import type { ProducerRecord } from '../../producer/producer.js';
import { type DeadLetterReason, failureHeaders, retryInfo } from './retry-headers.js';
import { type RetryPolicy, retryDelayMs, retryTopicsOf } from './retry-policy.js';
import type { RetryTopics } from './retry-topics.js';

/** A record whose processing failed, as fetched (raw bytes: it is re-sent exactly as it came). */
export interface FailedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Where the records go: the consumer's internal Producer (acks=all). */
export interface RecordSink {
  send(topic: string, record: ProducerRecord<Buffer, Buffer>): Promise<unknown>;
}

/** What happened to a failed record (the consumer's `handlerFailed` event). */
export interface RoutedFailure {
  topic: string;
  partition: number;
  offset: number;
  /** The attempt that failed, 1-based. */
  attempt: number;
  error: unknown;
  /** The retry or dead-letter topic the record was sent to. */
  sentTo: string;
  /** The retry's delay; null for the dead-letter topic. */
  delayMs: number | null;
  deadLetterReason: DeadLetterReason | null;
}

/**
 * Sends failed records on: to their source topic's retry topic as a delayed delivery (so the
 * record comes back to the same group after the backoff, without blocking the partition it came
 * from meanwhile), or to the dead-letter topic once the last attempt failed.
 *
 * `route` resolves only once the broker acknowledged the record (acks=all; for a retry, once the
 * schedule is stored), so the consumer marks the failed record processed only after that: a crash
 * in between processes it again rather than losing it (at-least-once, like the handler itself).
 */
export class RetryRouter {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly topics: Pick<RetryTopics, 'sourceOf' | 'ensure'>,
    private readonly sink: RecordSink,
    private readonly now: () => number = Date.now,
  ) {}

  async route(failed: FailedRecord, error: unknown, reason?: DeadLetterReason): Promise<RoutedFailure> {
    const origin = this.originOf(failed);
    const attempt = origin.failedAttempts + 1;
    const { retryTopic, deadLetterTopic } = retryTopicsOf(this.policy, origin.sourceTopic);
    const describe = (deadLetterReason?: DeadLetterReason) =>
      failureHeaders(failed.headers, {
        originalTopic: origin.topic,
        originalPartition: origin.partition,
        originalOffset: origin.offset,
        attempt,
        firstFailureAt: origin.firstFailureAt,
        error,
        ...(deadLetterReason ? { deadLetterReason } : {}),
      });
    let deadLetterReason = reason ?? (attempt >= this.policy.maxAttempts ? 'attempts-exhausted' : undefined);
    let headers = describe(deadLetterReason);
    if (!deadLetterReason && scheduledSize(failed, headers) > MAX_SCHEDULED_RECORD_BYTES) {
      deadLetterReason = 'too-large-to-delay';
      headers = describe(deadLetterReason);
    }
    const sentTo = deadLetterReason ? deadLetterTopic : retryTopic;
    const delayMs = deadLetterReason ? null : retryDelayMs(this.policy, attempt);
    try {
      await this.topics.ensure([origin.sourceTopic]);
      await this.sink.send(sentTo, {
        key: failed.key,
        value: failed.value,
        headers,
        ...(delayMs !== null ? { deliverAfterMs: delayMs } : {}),
      });
    } catch (sendError) {
      const cause = toSpoolError(sendError);
      throw new SpoolError(
        `${failed.topic}[${failed.partition}]@${failed.offset} failed and could not be sent to ${sentTo}: ${cause.message}`,
        { cause, retriable: cause.retriable },
      );
    }
    return {
      topic: failed.topic,
      partition: failed.partition,
      offset: failed.offset,
      attempt,
      error,
      sentTo,
      delayMs,
      deadLetterReason: deadLetterReason ?? null,
    };
  }

  /**
   * Where the record first came from and how often it failed before. Retry headers count only on
   * records of one of this consumer's retry topics: a record of a source topic starts at attempt 1
   * even if it carries retry headers (say, replayed from a dead-letter topic with them).
   */
  private originOf(failed: FailedRecord) {
    const source = this.topics.sourceOf(failed.topic);
    const info = source === undefined ? undefined : retryInfo(failed.headers);
    return {
      sourceTopic: source ?? failed.topic,
      topic: info?.originalTopic ?? failed.topic,
      partition: info?.originalPartition ?? failed.partition,
      offset: info?.originalOffset ?? failed.offset,
      failedAttempts: info?.failedAttempts ?? 0,
      firstFailureAt: info?.firstFailureAt || this.now(),
    };
  }
}

/** The size delayed delivery limits (MAX_SCHEDULED_RECORD_BYTES): key, value and headers. */
function scheduledSize(record: FailedRecord, headers: readonly RecordHeader[]): number {
  return (
    (record.key?.length ?? 0) +
    (record.value?.length ?? 0) +
    headers.reduce((sum, h) => sum + Buffer.byteLength(h.key) + (h.value?.length ?? 0), 0)
  );
}
