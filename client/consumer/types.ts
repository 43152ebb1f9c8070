import type { RecordHeader } from '../../protocol/record-batch/index.js';
import type { Deserializer } from '../serializers.js';
import type { PartitionAssignor } from './assignors/assignor.js';
import type { RetryOptions } from './retry/retry-policy.js';

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A partition and an offset in it: a position to seek to, or an offset to commit. */
export interface TopicPartitionOffset extends TopicPartition {
  /** For commits: the offset of the next record to read (last processed + 1), as in Kafka. */
  offset: number;
  /** Optional metadata stored with a commit. */
  metadata?: string | null;
}

/** A record as the consumer hands it out, deserialized. */
export interface ConsumerRecord<K, V> {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch (create time or log-append time, per the topic). */
  timestamp: number;
  key: K | null;
  value: V | null;
  headers: RecordHeader[];
  /** The leader epoch of the batch the record came in (-1 if unknown). */
  leaderEpoch: number;
}

/** Records of one partition, in offset order, handed out together. */
export interface ConsumerBatch<K, V> {
  topic: string;
  partition: number;
  records: ConsumerRecord<K, V>[];
  /** The partition's high watermark when these records were fetched. */
  highWatermark: number;
  /** Records after this batch not yet consumed at fetch time: highWatermark - (last offset + 1). */
  lag: number;
}

/** Where a partition without a committed offset (or with one out of range) starts. */
export type StartPosition = 'earliest' | 'latest' | { timestamp: number };

/**
 * When offsets are committed relative to processing.
 * - `atLeastOnce` (default): a record's offset is committed only after its handler finished, so a
 *   crash re-delivers what was in progress; nothing is lost, records may repeat.
 * - `atMostOnce`: a batch's offsets are committed before the batch is handed out, so a crash
 *   loses what was in progress; nothing is delivered twice.
 * - `exactlyOnce`: needs transactions (read-process-write with sendOffsetsToTransaction); Spool
 *   has no transactions yet, so asking for it is a ConfigError.
 */
export type DeliveryMode = 'atLeastOnce' | 'atMostOnce' | 'exactlyOnce';

/** Rebalance listener callbacks. Each may be async; the rebalance waits for it. */
export interface RebalanceListener {
  /** Partitions newly assigned to this member (only the added ones, under cooperative rebalancing). */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions being given up cleanly: their processed offsets are committed right after this returns. */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions lost without a clean hand-over (session expired, fenced): nothing can be committed. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface ConsumerOptions<K, V> {
  bootstrap: string[];
  clientId?: string;
  /** The consumer group. Required for subscribe() and commits; assign() works without one. */
  groupId?: string;
  /** Static membership (KIP-345): a restart within the session timeout keeps the assignment. */
  groupInstanceId?: string;
  /** Assignors in order of preference. Default: [cooperative-sticky]. */
  assignors?: PartitionAssignor[];
  /** How long the coordinator waits for a heartbeat before evicting the member. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Heartbeat period. Default 3 s (a tenth of the session timeout is also fine). */
  heartbeatIntervalMs?: number;
  /**
   * How long a rebalance may take, including finishing in-flight processing of revoked partitions.
   * Default 60 s.
   */
  rebalanceTimeoutMs?: number;
  /** Where to start without a committed offset. Default 'latest', as in Kafka. */
  startFrom?: StartPosition;
  /** Default 'atLeastOnce'. */
  deliveryMode?: DeliveryMode;
  /**
   * Commit processed offsets every autoCommitIntervalMs (and on revoke and close). Default true.
   * With false, commit with `commit()`. Ignored by atMostOnce, which commits before delivery.
   */
  autoCommit?: boolean;
  /** Default 5 s. */
  autoCommitIntervalMs?: number;
  /** Fetch long-poll: how long the broker waits for minBytes. Default 500 ms. */
  maxWaitMs?: number;
  /** Default 1 byte. */
  minBytes?: number;
  /** Per fetch response. Default 50 MiB. */
  maxBytes?: number;
  /** Per partition per fetch. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /**
   * Only records whose tags match this expression are delivered, e.g. `"orders || refunds"` or
   * `"eu && !test"`: tags as names, `||`, `&&`, `!`, parentheses, and `*` for every record. Tags
   * are in the record header `spool-tags` (write it with `tagsHeader`). Spool brokers filter at
   * fetch time, so skipped records do not cross the network; positions, commits and lag still move
   * past them. The consumer re-checks every record, so the result is the same against a broker
   * that ignores the filter (Apache Kafka), only without the savings. An invalid expression throws
   * InvalidTagFilterError from the constructor. Default: every record.
   */
  tagFilter?: string;
  /** At most this many records per handed-out batch. Default 500. */
  maxBatchRecords?: number;
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
  /** Per request (JoinGroup is given the rebalance timeout on top). Default 30 s. */
  requestTimeoutMs?: number;
  /** How long a failing operation keeps retrying retriable errors. Default 30 s. */
  retryTimeoutMs?: number;
  /** Subscribed-topic partition counts are re-checked this often; a change triggers a rebalance. Default 5 s. */
  metadataMaxAgeMs?: number;
  /**
   * Retry records whose eachMessage handler throws, instead of stopping the consumer. A failed
   * record is sent to the retry topic of its topic (default `<groupId>-<topic>-retry`) as a delayed
   * delivery, backoffMs * multiplier^(attempt - 1) later (capped at maxBackoffMs), and the consumer
   * goes on with the next record. The consumer subscribes to its retry topics too, so the record
   * comes back to the same handler, with its key, value and headers and the retry headers
   * (RETRY_HEADERS; `deliveryAttempt(record)` and `retryInfo(record.headers)` read them). Its
   * `topic`, `partition` and `offset` are then those in the retry topic. When attempt maxAttempts
   * fails, the record goes to the dead-letter topic (default `<groupId>-<topic>-dlq`) at once,
   * with `spool-dlq-reason`; so does a record whose key or value cannot be deserialized.
   *
   * At-least-once: the failed record counts as processed only once the retry or dead-letter
   * topic acknowledged it (acks=all), so a crash in between processes it again. If that send
   * fails, the consumer stops as it would without `retry` (run() rejects).
   *
   * Needs a groupId and subscribe() (not assign()). Missing retry and dead-letter topics are
   * created when the consumer starts, with the source topic's partition count. Retries need
   * delayed delivery, a Spool feature: against Apache Kafka the retry sends fail. eachBatch
   * handlers retry records explicitly with `control.retry(record, error)`; a throwing eachBatch
   * handler, or a for-await body, stops the consumer as without this option.
   */
  retry?: RetryOptions;
}

/** Consumer lag of one assigned partition. */
export interface PartitionLag extends TopicPartition {
  /** The next offset this consumer will hand out (-1 if not yet known). */
  position: number;
  /** The last committed offset (-1 if none). */
  committed: number;
  /** The high watermark last seen in a fetch (-1 if none yet). */
  highWatermark: number;
  /** highWatermark - position, or -1 while either is unknown. */
  lag: number;
}
