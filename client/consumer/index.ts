export type {
  GroupAssignment,
  GroupMember,
  PartitionAssignor,
  RebalanceProtocol,
} from './assignors/assignor.js';
export { CooperativeStickyAssignor } from './assignors/cooperative-sticky.js';
export { RangeAssignor } from './assignors/range.js';
export { RoundRobinAssignor } from './assignors/round-robin.js';
export { type BatchControl, Consumer, type ConsumerEvents, type RunOptions } from './consumer.js';
export {
  type DeadLetterReason,
  deliveryAttempt,
  MAX_ERROR_BYTES,
  RETRY_HEADERS,
  type RetryInfo,
  retryInfo,
  withoutRetryHeaders,
} from './retry/retry-headers.js';
export {
  DEFAULT_MAX_RETRY_BACKOFF_MS,
  DEFAULT_RETRY_BACKOFF_MS,
  DEFAULT_RETRY_MULTIPLIER,
  defaultDeadLetterTopic,
  defaultRetryTopic,
  type RetryOptions,
  retryDelayMs,
} from './retry/retry-policy.js';
export type { RoutedFailure } from './retry/retry-router.js';
export type {
  ConsumerBatch,
  ConsumerOptions,
  ConsumerRecord,
  DeliveryMode,
  PartitionLag,
  RebalanceListener,
  StartPosition,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';
