import { ErrorCode } from '../../protocol/error-codes.js';
import {
  CorruptRecordBatchError,
  UnsupportedCompressionError,
  UnsupportedMagicError,
} from '../../protocol/errors.js';
import { ProducerIdAllocationError } from '../cluster/producer-id-store.js';
import { InvalidTopicConfigError } from '../cluster/topic-config.js';
import { TopicExistsError, UnknownTopicError } from '../cluster/topic-store.js';
import {
  FencedLeaderEpochError,
  LeaderNotAvailableError,
  MessageTooLargeError,
  NotEnoughReplicasAfterAppendError,
  NotEnoughReplicasError,
  NotLeaderError,
  ReplicationTimeoutError,
  UnknownLeaderEpochError,
  UnknownTopicOrPartitionError,
} from '../replication/errors.js';
import {
  InvalidProducerBatchError,
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
} from '../replication/producer-errors.js';
import {
  CorruptSegmentError,
  InvalidBatchError,
  LogClosedError,
  OffsetOutOfRangeError,
} from '../storage/errors.js';

/**
 * The one place internal errors become Kafka wire error codes. Anything unrecognised is an
 * UNKNOWN_SERVER_ERROR, and the caller logs it.
 */
export function errorCodeFor(error: unknown): number {
  if (error instanceof CorruptRecordBatchError) return ErrorCode.CORRUPT_MESSAGE;
  if (error instanceof UnsupportedMagicError) return ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT;
  if (error instanceof UnsupportedCompressionError) return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
  if (error instanceof InvalidBatchError) return ErrorCode.INVALID_RECORD;
  // Idempotent producers (replication/producer-state.ts); transactional batches land on INVALID_RECORD.
  if (error instanceof InvalidProducerBatchError) return ErrorCode.INVALID_RECORD;
  if (error instanceof OutOfOrderSequenceError) return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
  if (error instanceof InvalidProducerEpochError) return ErrorCode.INVALID_PRODUCER_EPOCH;
  // Retriable, as Kafka answers while it cannot reserve a block of producer ids.
  if (error instanceof ProducerIdAllocationError) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
  if (error instanceof MessageTooLargeError) return ErrorCode.MESSAGE_TOO_LARGE;
  if (error instanceof OffsetOutOfRangeError) return ErrorCode.OFFSET_OUT_OF_RANGE;
  // A log closed under a request belongs to a topic being deleted.
  if (
    error instanceof UnknownTopicOrPartitionError ||
    error instanceof UnknownTopicError ||
    error instanceof LogClosedError
  ) {
    return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }
  if (error instanceof NotLeaderError) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  if (error instanceof LeaderNotAvailableError) return ErrorCode.LEADER_NOT_AVAILABLE;
  if (error instanceof FencedLeaderEpochError) return ErrorCode.FENCED_LEADER_EPOCH;
  if (error instanceof UnknownLeaderEpochError) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  if (error instanceof NotEnoughReplicasError) return ErrorCode.NOT_ENOUGH_REPLICAS;
  if (error instanceof NotEnoughReplicasAfterAppendError) return ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
  if (error instanceof ReplicationTimeoutError) return ErrorCode.REQUEST_TIMED_OUT;
  if (error instanceof TopicExistsError) return ErrorCode.TOPIC_ALREADY_EXISTS;
  if (error instanceof InvalidTopicConfigError) return ErrorCode.INVALID_CONFIG;
  if (error instanceof CorruptSegmentError) return ErrorCode.KAFKA_STORAGE_ERROR;
  // DynamoDB or S3 did not answer in time (or throttled): transient, so the client retries.
  if (isAwsTransient(error)) return ErrorCode.REQUEST_TIMED_OUT;
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** A failed AWS SDK call that a retry may fix: timeouts, throttling, 5xx from the service. */
function isAwsTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (
    error.name === 'TimeoutError' ||
    /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(error.name)
  )
    return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

export function isUnexpected(code: number): boolean {
  return code === ErrorCode.UNKNOWN_SERVER_ERROR || code === ErrorCode.KAFKA_STORAGE_ERROR;
}
