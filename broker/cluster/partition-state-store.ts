import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  paginateScan,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { tableName } from './tables.js';

/**
 * Partition state in DynamoDB: who replicates a partition, who leads it, and who is in sync.
 *
 * Invariants kept by the writers:
 * - `version` grows by one with every write; every update is conditional on the version read, so
 *   two writers can never both apply a change computed from the same state.
 * - `leaderEpoch` grows by one whenever leadership changes (or the leader restarts); a leader only
 *   acts on the epoch it was elected with.
 * - The controller writes only while its controller lease (epoch and incarnation) is unchanged, and
 *   a leader changes the ISR only while its own broker lease is unchanged: each write carries a
 *   ConditionCheck on the writer's lease item in the same transaction.
 * - `leader` is -1 or a member of `isr`; `isr` is a subset of `replicas` and never empty.
 */
export interface PartitionState {
  topic: string;
  topicId: string;
  partition: number;
  /** Assigned replicas; the first is the preferred leader. */
  replicas: number[];
  /** Leader broker id, or -1 when no eligible replica is alive. */
  leader: number;
  leaderEpoch: number;
  /** The leader's broker-lease epoch when elected: a restarted broker does not inherit leadership. */
  leaderBrokerEpoch: number;
  isr: number[];
  version: number;
  /** Epoch of the controller that last wrote leadership. */
  controllerEpoch: number;
}

/** A lease the writer must still hold for its write to count. */
export interface LeaseFence {
  key: string;
  incarnation: string;
  epoch: number;
}

/** The partition changed (or the writer's lease moved on) since the state was read. */
export class PartitionStateConflictError extends Error {
  override name = 'PartitionStateConflictError';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly expectedVersion: number,
    readonly reason: 'version' | 'fence',
  ) {
    super(
      `partition ${topic}-${partition} changed since version ${expectedVersion} (${reason} check failed)`,
    );
  }
}

const LEASE_SORT_KEY = 'lease';
/** DynamoDB allows at most 100 items per transaction; one is the fence. */
const MAX_PUTS_PER_TRANSACTION = 50;

export function partitionSortKey(partition: number): string {
  return `p#${String(partition).padStart(6, '0')}`;
}

export class PartitionStateStore {
  private readonly table: string;
  private readonly clusterTable: string;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
  ) {
    this.table = tableName(tablePrefix, 'partitions');
    this.clusterTable = tableName(tablePrefix, 'cluster');
  }

  async list(): Promise<PartitionState[]> {
    const states: PartitionState[] = [];
    for await (const page of paginateScan(
      { client: this.client },
      { TableName: this.table, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) states.push(toState(item));
    }
    return states;
  }

  /** Creates states that must not exist yet (new topics and partitions), fenced by `fence`. */
  async create(states: readonly PartitionState[], fence: LeaseFence): Promise<void> {
    for (let i = 0; i < states.length; i += MAX_PUTS_PER_TRANSACTION) {
      const chunk = states.slice(i, i + MAX_PUTS_PER_TRANSACTION);
      await this.transact(chunk[0]!, 0, fence, (check) => ({
        TransactItems: [
          check,
          ...chunk.map((state) => ({
            Put: {
              TableName: this.table,
              Item: { pk: state.topic, sk: partitionSortKey(state.partition), ...state },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          })),
        ],
      }));
    }
  }

  /**
   * Replaces a partition's state with `next` (whose version must be expected + 1), conditional on
   * the stored version still being `expectedVersion` and on `fence` still being held.
   */
  async update(next: PartitionState, expectedVersion: number, fence: LeaseFence): Promise<void> {
    if (next.version !== expectedVersion + 1)
      throw new RangeError('next.version must be expectedVersion + 1');
    await this.transact(next, expectedVersion, fence, (check) => ({
      TransactItems: [
        check,
        {
          Put: {
            TableName: this.table,
            Item: { pk: next.topic, sk: partitionSortKey(next.partition), ...next },
            ConditionExpression: 'version = :expected AND topicId = :topicId',
            ExpressionAttributeValues: { ':expected': expectedVersion, ':topicId': next.topicId },
          },
        },
      ],
    }));
  }

  /** Deletes the state of a partition whose topic is gone, fenced by `fence`. */
  async delete(state: PartitionState, fence: LeaseFence): Promise<void> {
    await this.transact(state, state.version, fence, (check) => ({
      TransactItems: [
        check,
        {
          Delete: {
            TableName: this.table,
            Key: { pk: state.topic, sk: partitionSortKey(state.partition) },
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': state.version },
          },
        },
      ],
    }));
  }

  private async transact(
    subject: PartitionState,
    expectedVersion: number,
    fence: LeaseFence,
    build: (
      check: NonNullable<TransactWriteCommandInput['TransactItems']>[number],
    ) => TransactWriteCommandInput,
  ): Promise<void> {
    const check = {
      ConditionCheck: {
        TableName: this.clusterTable,
        Key: { pk: fence.key, sk: LEASE_SORT_KEY },
        ConditionExpression: 'incarnation = :incarnation AND epoch = :epoch',
        ExpressionAttributeValues: { ':incarnation': fence.incarnation, ':epoch': fence.epoch },
      },
    };
    try {
      await this.client.send(new TransactWriteCommand(build(check)));
    } catch (error) {
      if (error instanceof TransactionCanceledException || error instanceof ConditionalCheckFailedException) {
        const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
        const fenced = reasons?.[0]?.Code === 'ConditionalCheckFailed';
        throw new PartitionStateConflictError(
          subject.topic,
          subject.partition,
          expectedVersion,
          fenced ? 'fence' : 'version',
        );
      }
      throw error;
    }
  }
}

function toState(item: Record<string, unknown>): PartitionState {
  return {
    topic: item.topic as string,
    topicId: item.topicId as string,
    partition: item.partition as number,
    replicas: item.replicas as number[],
    leader: item.leader as number,
    leaderEpoch: item.leaderEpoch as number,
    leaderBrokerEpoch: item.leaderBrokerEpoch as number,
    isr: item.isr as number[],
    version: item.version as number,
    controllerEpoch: item.controllerEpoch as number,
  };
}
