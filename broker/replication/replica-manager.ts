import { scanRecordBatches } from '../../protocol/record-batch/header.js';
import type { MetadataCache } from '../cluster/metadata-cache.js';
import { resolveTopicConfig, type TopicConfig } from '../cluster/topic-config.js';
import type { TopicRecord } from '../cluster/topic-store.js';
import type { Logger } from '../common/logger.js';
import { FetchWaiters, partitionKey } from '../server/fetch-waiters.js';
import type { LogManager } from '../storage/log-manager.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { MessageTooLargeError, UnknownTopicOrPartitionError } from './errors.js';

export interface AppendOutcome {
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
}

export interface ReadOutcome {
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

/**
 * Owns the partitions this broker serves: finds (or creates) their logs, appends produced
 * batches, serves reads bounded by the high watermark, and wakes long-polling fetches.
 *
 * Single-broker mode: this broker leads every partition, the ISR is just itself, so the high
 * watermark equals the log end offset and acks=all is satisfied by the leader's append alone.
 * The replication layer (next issue) replaces that with ISR tracking.
 */
export class ReplicaManager {
  readonly waiters = new FetchWaiters();
  private readonly leaderEpoch = 0;

  constructor(
    private readonly logs: LogManager,
    private readonly metadata: MetadataCache,
    private readonly logger: Logger,
  ) {}

  private topicOrThrow(topic: string, partition: number): TopicRecord {
    const record = this.metadata.topic(topic);
    if (!record || partition < 0 || partition >= record.partitionCount) {
      throw new UnknownTopicOrPartitionError(topic, partition);
    }
    return record;
  }

  configOf(topic: TopicRecord): Readonly<TopicConfig> {
    return resolveTopicConfig(topic.config);
  }

  private async logOf(topic: TopicRecord, partition: number): Promise<PartitionLog> {
    const log =
      (await this.logs.get({ topic: topic.name, partition })) ??
      (await this.logs.getOrCreate({ topic: topic.name, partition }));
    // The topic may have been deleted (or re-created) while this request was in flight; never
    // serve or create a log for a topic that is no longer the one the request named.
    if (this.metadata.topic(topic.name)?.topicId !== topic.topicId) {
      throw new UnknownTopicOrPartitionError(topic.name, partition);
    }
    return log;
  }

  /**
   * Appends a produce request's batches to one partition. Every batch is validated (framing,
   * magic, CRC-32C) and size-checked before anything is written; offsets are assigned by the log.
   */
  async append(topicName: string, partition: number, records: Buffer | null): Promise<AppendOutcome> {
    const topic = this.topicOrThrow(topicName, partition);
    const config = this.configOf(topic);
    const batches = records ?? Buffer.alloc(0);
    const spans = scanRecordBatches(batches, { verifyCrc: true });
    for (const span of spans) {
      if (span.sizeInBytes > config['max.message.bytes']) {
        throw new MessageTooLargeError(topicName, partition, span.sizeInBytes, config['max.message.bytes']);
      }
    }
    const log = await this.logOf(topic, partition);
    const result = await log.appendAsLeader(batches, {
      leaderEpoch: this.leaderEpoch,
      logAppendTime: config['message.timestamp.type'] === 'LogAppendTime',
      validated: true,
    });
    this.waiters.notify(partitionKey(topicName, partition));
    return {
      baseOffset: result.firstOffset,
      logAppendTime: result.logAppendTime,
      logStartOffset: log.logStartOffset,
    };
  }

  /** Reads from `offset`, never past the high watermark. */
  async read(topicName: string, partition: number, offset: number, maxBytes: number): Promise<ReadOutcome> {
    const topic = this.topicOrThrow(topicName, partition);
    const log = await this.logOf(topic, partition);
    const highWatermark = log.logEndOffset;
    const result = await log.read(offset, maxBytes, { maxOffset: highWatermark });
    return { records: result.records, highWatermark, logStartOffset: result.logStartOffset };
  }

  async offsets(
    topicName: string,
    partition: number,
  ): Promise<{ logStartOffset: number; logEndOffset: number }> {
    const log = await this.logOf(this.topicOrThrow(topicName, partition), partition);
    return { logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset };
  }

  async offsetForTimestamp(
    topicName: string,
    partition: number,
    timestamp: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    const log = await this.logOf(this.topicOrThrow(topicName, partition), partition);
    return log.offsetForTimestamp(timestamp);
  }

  /** Deletes the local logs of a deleted topic. */
  async deleteTopic(name: string, partitionCount: number): Promise<void> {
    for (let partition = 0; partition < partitionCount; partition++) {
      if (this.logs.has({ topic: name, partition })) await this.logs.delete({ topic: name, partition });
    }
    this.logger.info({ topic: name }, 'deleted topic logs');
  }
}
