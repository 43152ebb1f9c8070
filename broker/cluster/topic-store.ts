import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { tableName } from './tables.js';

/** A topic as stored in DynamoDB. `config` holds only explicitly set keys. */
export interface TopicRecord {
  name: string;
  /** Kafka's textual UUID form (22 characters of URL-safe base64). */
  topicId: string;
  partitionCount: number;
  replicationFactor: number;
  config: Record<string, string>;
  /** Bumped by every change; changes are conditional on it. */
  version: number;
  createdAt: number;
}

export class TopicExistsError extends Error {
  override name = 'TopicExistsError';
  constructor(readonly topic: string) {
    super(`topic ${topic} already exists`);
  }
}

export class UnknownTopicError extends Error {
  override name = 'UnknownTopicError';
  constructor(readonly topic: string) {
    super(`topic ${topic} does not exist`);
  }
}

/** The topic changed under us: another writer won a conditional update. */
export class TopicVersionConflictError extends Error {
  override name = 'TopicVersionConflictError';
  constructor(readonly topic: string) {
    super(`topic ${topic} was modified concurrently`);
  }
}

const SORT_KEY = 'topic';

/** A random topic id that is never the all-zero "no id" value. */
export function newTopicId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    if (bytes.some((b) => b !== 0)) return bytes.toString('base64url');
  }
}

/** Topic metadata in DynamoDB. Every write is conditional, so concurrent admins cannot clobber each other. */
export class TopicStore {
  private readonly table: string;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
  ) {
    this.table = tableName(tablePrefix, 'topics');
  }

  async create(topic: Omit<TopicRecord, 'topicId' | 'version' | 'createdAt'>): Promise<TopicRecord> {
    const record: TopicRecord = { ...topic, topicId: newTopicId(), version: 1, createdAt: Date.now() };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: record.name, sk: SORT_KEY, ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TopicExistsError(topic.name);
      throw error;
    }
    return record;
  }

  async get(name: string): Promise<TopicRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: name, sk: SORT_KEY }, ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async list(): Promise<TopicRecord[]> {
    const topics: TopicRecord[] = [];
    for await (const page of paginateScan(
      { client: this.client },
      { TableName: this.table, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) topics.push(toRecord(item));
    }
    return topics.sort((a, b) => a.name.localeCompare(b.name));
  }

  async delete(name: string): Promise<TopicRecord> {
    try {
      const { Attributes } = await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: name, sk: SORT_KEY },
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      return toRecord(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new UnknownTopicError(name);
      throw error;
    }
  }

  /**
   * Writes a new partition count and config, conditional on the topic still being at
   * `expectedVersion`. Throws TopicVersionConflictError if another writer got there first.
   */
  async update(
    name: string,
    expectedVersion: number,
    change: Pick<TopicRecord, 'partitionCount' | 'config'>,
  ): Promise<TopicRecord> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: name, sk: SORT_KEY },
          UpdateExpression: 'SET partitionCount = :count, config = :config, version = :next',
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeValues: {
            ':count': change.partitionCount,
            ':config': change.config,
            ':next': expectedVersion + 1,
            ':expected': expectedVersion,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TopicVersionConflictError(name);
      throw error;
    }
  }

  /**
   * Replaces the topic's config overrides, conditional on the topic still being at
   * `expectedVersion` (read-modify-write: callers read the record, edit its config and write it
   * back, and re-read on TopicVersionConflictError, so concurrent changes are never lost). A topic
   * deleted meanwhile also fails the condition; the caller's re-read then finds it gone.
   */
  async updateConfig(
    name: string,
    expectedVersion: number,
    config: Record<string, string>,
  ): Promise<TopicRecord> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: name, sk: SORT_KEY },
          UpdateExpression: 'SET config = :config, version = :next',
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeValues: {
            ':config': config,
            ':next': expectedVersion + 1,
            ':expected': expectedVersion,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TopicVersionConflictError(name);
      throw error;
    }
  }
}

function toRecord(item: Record<string, unknown>): TopicRecord {
  return {
    name: item.name as string,
    topicId: item.topicId as string,
    partitionCount: item.partitionCount as number,
    replicationFactor: item.replicationFactor as number,
    config: (item.config as Record<string, string> | undefined) ?? {},
    version: item.version as number,
    createdAt: item.createdAt as number,
  };
}
