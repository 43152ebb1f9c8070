import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
  paginateScan,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { tableName } from '../cluster/tables.js';

/**
 * Consumer groups in DynamoDB (table `<prefix>-groups`). Each group is one partition key holding
 * one `group` item (generation, protocol, leader and members with their assignments) and one
 * `offset#<topic>#<partition>` item per committed offset. DynamoDB is the source of truth: the
 * coordinator's in-memory groups are a cache that is dropped whenever a write fails.
 *
 * Fencing: the group item carries a `version` bumped by every write, and every write is
 * conditional on the version this coordinator last read or wrote (and on the stored generation not
 * being newer). Offset commits are transactions whose ConditionCheck pins the group's generation.
 * A coordinator that lost track of a group (another broker took over and moved it on) therefore
 * fails its writes with GroupFencedError instead of clobbering newer state.
 */

/** States a group is stored in. The transient PreparingRebalance is never stored; Dead is a deletion. */
export type StoredGroupState = 'Empty' | 'CompletingRebalance' | 'Stable';

export interface StoredProtocol {
  name: string;
  metadata: Buffer;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** The member's supported protocols in preference order. */
  protocols: StoredProtocol[];
  assignment: Buffer;
}

export interface StoredGroup {
  groupId: string;
  state: StoredGroupState;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  members: StoredMember[];
}

export interface StoredOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface LoadedGroup {
  /** The group item and its version, absent for a group that only has offsets (or nothing). */
  group: { record: StoredGroup; version: number } | undefined;
  offsets: StoredOffset[];
}

/** What an offset commit is fenced on: the member's generation, or (generation -1) an empty group. */
export type OffsetFence = { kind: 'generation'; generationId: number } | { kind: 'empty' };

/** A conditional write failed: the stored group moved on without this coordinator. */
export class GroupFencedError extends Error {
  override name = 'GroupFencedError';
  constructor(readonly groupId: string) {
    super(`group ${groupId} was modified by another coordinator`);
  }
}

const GROUP_SK = 'group';
const OFFSET_PREFIX = 'offset#';
/** DynamoDB's limit on items per transaction; one slot is taken by the group ConditionCheck. */
const MAX_TRANSACTION_ITEMS = 100;

export function offsetSortKey(topic: string, partition: number): string {
  return `${OFFSET_PREFIX}${topic}#${partition}`;
}

export class GroupStore {
  private readonly table: string;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
  ) {
    this.table = tableName(tablePrefix, 'groups');
  }

  /** Everything stored under a group id, read consistently. */
  async load(groupId: string): Promise<LoadedGroup> {
    const loaded: LoadedGroup = { group: undefined, offsets: [] };
    for await (const page of paginateQuery(
      { client: this.client },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': groupId },
        ConsistentRead: true,
      },
    )) {
      for (const item of page.Items ?? []) {
        if (item.sk === GROUP_SK) {
          loaded.group = { record: toGroup(groupId, item), version: item.version as number };
        } else if (typeof item.sk === 'string' && item.sk.startsWith(OFFSET_PREFIX)) {
          loaded.offsets.push(toOffset(item));
        }
      }
    }
    return loaded;
  }

  /**
   * Writes the group item. `expectedVersion` is the version last read or written by this
   * coordinator (undefined: the item must not exist). Returns the new version.
   */
  async save(group: StoredGroup, expectedVersion: number | undefined): Promise<number> {
    const version = (expectedVersion ?? 0) + 1;
    const condition =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :expected AND generationId <= :generation',
            ExpressionAttributeValues: { ':expected': expectedVersion, ':generation': group.generationId },
          };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: group.groupId, sk: GROUP_SK, ...fromGroup(group), version },
          ...condition,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new GroupFencedError(group.groupId);
      throw error;
    }
    return version;
  }

  /**
   * Stores committed offsets, in transactions of at most 100 items each guarded by a
   * ConditionCheck on the group item. Each transaction is atomic; a large commit split across
   * several is not (a failure can leave a prefix committed, as a retried Kafka commit would).
   */
  async commitOffsets(groupId: string, fence: OffsetFence, offsets: readonly StoredOffset[]): Promise<void> {
    const check = fenceCondition(fence);
    for (let start = 0; start < offsets.length; start += MAX_TRANSACTION_ITEMS - 1) {
      const chunk = offsets.slice(start, start + MAX_TRANSACTION_ITEMS - 1);
      await this.transact(groupId, [
        {
          ConditionCheck: { TableName: this.table, Key: { pk: groupId, sk: GROUP_SK }, ...check },
        },
        ...chunk.map((o) => ({
          Put: {
            TableName: this.table,
            Item: { pk: groupId, sk: offsetSortKey(o.topic, o.partition), ...o },
          },
        })),
      ]);
    }
  }

  /**
   * Deletes a group and all its offsets, provided the stored group is still the empty group this
   * coordinator knows (`expectedVersion` undefined: no group item may exist). The group item goes
   * last, so an interrupted delete leaves a group that can be deleted again.
   */
  async deleteGroup(groupId: string, expectedVersion: number | undefined): Promise<void> {
    const keys: string[] = [];
    for await (const page of paginateQuery(
      { client: this.client },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :offsets)',
        ExpressionAttributeValues: { ':pk': groupId, ':offsets': OFFSET_PREFIX },
        ProjectionExpression: 'sk',
        ConsistentRead: true,
      },
    )) {
      for (const item of page.Items ?? []) keys.push(item.sk as string);
    }
    const condition =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :expected AND groupState = :empty',
            ExpressionAttributeValues: { ':expected': expectedVersion, ':empty': 'Empty' },
          };
    const groupKey = { pk: groupId, sk: GROUP_SK };
    const perChunk = MAX_TRANSACTION_ITEMS - 1;
    const chunks = Math.max(1, Math.ceil(keys.length / perChunk));
    for (let i = 0; i < chunks; i++) {
      const deletes = keys
        .slice(i * perChunk, (i + 1) * perChunk)
        .map((sk) => ({ Delete: { TableName: this.table, Key: { pk: groupId, sk } } }));
      const guard =
        i === chunks - 1
          ? { Delete: { TableName: this.table, Key: groupKey, ...condition } }
          : { ConditionCheck: { TableName: this.table, Key: groupKey, ...condition } };
      await this.transact(groupId, [guard, ...deletes]);
    }
  }

  /** Every stored group id with its stored state and protocol type (offsets-only groups are Empty). */
  async list(): Promise<{ groupId: string; state: StoredGroupState; protocolType: string }[]> {
    const groups = new Map<string, { groupId: string; state: StoredGroupState; protocolType: string }>();
    for await (const page of paginateScan(
      { client: this.client },
      {
        TableName: this.table,
        ProjectionExpression: 'pk, sk, groupState, protocolType',
        ConsistentRead: true,
      },
    )) {
      for (const item of page.Items ?? []) {
        const groupId = item.pk as string;
        if (item.sk === GROUP_SK) {
          groups.set(groupId, {
            groupId,
            state: item.groupState as StoredGroupState,
            protocolType: (item.protocolType as string | null) ?? '',
          });
        } else if (!groups.has(groupId)) {
          groups.set(groupId, { groupId, state: 'Empty', protocolType: '' });
        }
      }
    }
    return [...groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  private async transact(groupId: string, items: TransactWriteCommandInput['TransactItems']): Promise<void> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      // The guard (group item) is always the first item of the transaction.
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        throw new GroupFencedError(groupId);
      }
      throw error;
    }
  }
}

function fenceCondition(fence: OffsetFence): {
  ConditionExpression: string;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  if (fence.kind === 'empty') {
    return {
      ConditionExpression: 'attribute_not_exists(pk) OR groupState = :empty',
      ExpressionAttributeValues: { ':empty': 'Empty' },
    };
  }
  // Generation 0 exists only before the first generation completes, when no item is stored yet.
  return {
    ConditionExpression:
      fence.generationId === 0
        ? 'attribute_not_exists(pk) OR generationId = :generation'
        : 'generationId = :generation',
    ExpressionAttributeValues: { ':generation': fence.generationId },
  };
}

function fromGroup(group: StoredGroup): Record<string, unknown> {
  return {
    groupState: group.state,
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leaderId: group.leaderId,
    members: group.members.map((m) => ({ ...m, protocols: m.protocols.map((p) => ({ ...p })) })),
    updatedAt: Date.now(),
  };
}

/** The document client returns binary attributes as Uint8Array; the protocol layer wants Buffers. */
function toBuffer(value: unknown): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.alloc(0);
}

function toGroup(groupId: string, item: Record<string, unknown>): StoredGroup {
  const members = (item.members as Record<string, unknown>[] | undefined) ?? [];
  return {
    groupId,
    state: item.groupState as StoredGroupState,
    generationId: item.generationId as number,
    protocolType: (item.protocolType as string | null | undefined) ?? null,
    protocolName: (item.protocolName as string | null | undefined) ?? null,
    leaderId: (item.leaderId as string | null | undefined) ?? null,
    members: members.map((m) => ({
      memberId: m.memberId as string,
      groupInstanceId: (m.groupInstanceId as string | null | undefined) ?? null,
      clientId: m.clientId as string,
      clientHost: m.clientHost as string,
      sessionTimeoutMs: m.sessionTimeoutMs as number,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs as number,
      protocols: ((m.protocols as Record<string, unknown>[] | undefined) ?? []).map((p) => ({
        name: p.name as string,
        metadata: toBuffer(p.metadata),
      })),
      assignment: toBuffer(m.assignment),
    })),
  };
}

function toOffset(item: Record<string, unknown>): StoredOffset {
  return {
    topic: item.topic as string,
    partition: item.partition as number,
    offset: item.offset as number,
    leaderEpoch: item.leaderEpoch as number,
    metadata: (item.metadata as string | null | undefined) ?? null,
    commitTimestamp: item.commitTimestamp as number,
  };
}
