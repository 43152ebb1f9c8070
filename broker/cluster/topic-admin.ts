import { ErrorCode } from '../../protocol/error-codes.js';
import type { MetadataCache } from './metadata-cache.js';
import { InvalidTopicConfigError, resolveTopicConfig } from './topic-config.js';
import { TopicExistsError, type TopicRecord, type TopicStore, UnknownTopicError } from './topic-store.js';

/** Kafka's topic name rules: 1-249 characters of [a-zA-Z0-9._-], and not "." or "..". */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export interface TopicOutcome {
  errorCode: number;
  errorMessage: string | null;
  topic?: TopicRecord;
}

export interface CreateTopicRequest {
  name: string;
  /** -1 means the broker default. */
  numPartitions: number;
  /** -1 means the broker default. */
  replicationFactor: number;
  configs: Record<string, string>;
  validateOnly: boolean;
}

/**
 * Topic administration shared by the CreateTopics, DeleteTopics and CreatePartitions handlers:
 * validates requests as Kafka does, writes through the DynamoDB store, and updates the local
 * metadata cache so the change is visible to this broker at once.
 */
export class TopicAdmin {
  constructor(
    private readonly store: TopicStore,
    private readonly metadata: MetadataCache,
    private readonly defaults: {
      numPartitions: number;
      replicationFactor: number;
      liveBrokers: () => number;
    },
    private readonly onDeleted: (topic: TopicRecord) => Promise<void>,
  ) {}

  async create(request: CreateTopicRequest): Promise<TopicOutcome> {
    if (!LEGAL_TOPIC.test(request.name) || request.name === '.' || request.name === '..') {
      return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `illegal topic name "${request.name}"`);
    }
    const partitions = request.numPartitions === -1 ? this.defaults.numPartitions : request.numPartitions;
    if (partitions < 1)
      return fail(ErrorCode.INVALID_PARTITIONS, `partition count must be at least 1, got ${partitions}`);
    const replication =
      request.replicationFactor === -1 ? this.defaults.replicationFactor : request.replicationFactor;
    if (replication < 1 || replication > this.defaults.liveBrokers()) {
      return fail(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${replication} is not between 1 and the ${this.defaults.liveBrokers()} live brokers`,
      );
    }
    try {
      resolveTopicConfig(request.configs);
    } catch (error) {
      if (error instanceof InvalidTopicConfigError) return fail(ErrorCode.INVALID_CONFIG, error.message);
      throw error;
    }
    if (request.validateOnly) {
      if (this.metadata.topic(request.name))
        return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${request.name} exists`);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    }
    try {
      const topic = await this.store.create({
        name: request.name,
        partitionCount: partitions,
        replicationFactor: replication,
        config: request.configs,
      });
      this.metadata.put(topic);
      return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
    } catch (error) {
      if (error instanceof TopicExistsError) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, error.message);
      throw error;
    }
  }

  async delete(name: string): Promise<TopicOutcome> {
    try {
      const topic = await this.store.delete(name);
      this.metadata.remove(name);
      await this.onDeleted(topic);
      return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
    } catch (error) {
      if (error instanceof UnknownTopicError)
        return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error.message);
      throw error;
    }
  }

  /** Grows a topic to `count` partitions; partitions can never be removed. */
  async addPartitions(name: string, count: number, validateOnly: boolean): Promise<TopicOutcome> {
    const current = this.metadata.topic(name) ?? (await this.store.get(name));
    if (!current) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    if (count <= current.partitionCount) {
      return fail(
        ErrorCode.INVALID_PARTITIONS,
        `topic ${name} has ${current.partitionCount} partitions; ${count} would not add any`,
      );
    }
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const topic = await this.store.update(name, (t) => {
      if (count <= t.partitionCount) throw new RangeError('partition count changed concurrently');
      return { partitionCount: count, config: t.config };
    });
    this.metadata.put(topic);
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }
}

function fail(errorCode: number, errorMessage: string): TopicOutcome {
  return { errorCode, errorMessage };
}
