import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  idLowerBound,
  idUpperBound,
  parseScheduleId,
  SCHEDULE_SHARDS,
  type Schedule,
  type ScheduleHeader,
} from '../../protocol/schedules.js';
import { tableName } from '../cluster/tables.js';

/** Delivered and cancelled schedules stay this long (for cancel answers and audits), then expire. */
const KEEP_FINISHED_S = 7 * 24 * 3600;

export type ScheduleState = 'pending' | 'claimed' | 'delivered' | 'cancelled';

/** A stored schedule and its promotion state. */
export interface StoredSchedule extends Schedule {
  state: ScheduleState;
  /** Who holds the claim, and until when (its clock). */
  claimOwner?: string;
  claimUntil?: number;
  /** The partition the promoted record goes to, fixed by the first claim. */
  targetPartition?: number;
  /**
   * The target partition's log end before the first claim produced: a later claimer looks for the
   * record from here before producing again (promoter.ts).
   */
  scanFrom?: number;
  deliveredOffset?: number;
  /** Claims so far (1 after the first). */
  attempts?: number;
}

export type CancelOutcome = 'cancelled' | 'not-found' | 'already-delivered' | 'in-delivery';

/**
 * The schedules table (broker/cluster/tables.ts): one item per schedule under pk = "s#<shard>",
 * sk = id (ids sort by due time), and one cursor per shard (pk = "cursor"): a lower bound on the
 * ids of its unfinished schedules, so finding what is due reads only from there.
 *
 * Invariants:
 * - a schedule is written once (put is conditional on its absence; a retried put is a no-op);
 * - state moves pending -> claimed -> delivered, or pending -> cancelled; a claim whose time ran
 *   out may be taken over (claimed -> claimed by another owner), and only the owner of a live claim
 *   marks it delivered;
 * - targetPartition and scanFrom are set by the first claim and never change.
 */
export class ScheduleStore {
  private readonly table: string;
  private readonly cursorsEnsured = new Set<number>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
  ) {
    this.table = tableName(tablePrefix, 'schedules');
  }

  /** Stores a new schedule; resolves false if this id was stored before (a retried produce). */
  async put(schedule: Schedule): Promise<boolean> {
    await this.ensureCursor(schedule.shard, schedule.createdAt);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: shardKey(schedule.shard),
            sk: schedule.id,
            state: 'pending',
            dueAt: schedule.dueAt,
            topic: schedule.topic,
            ...(schedule.partition !== null ? { partition: schedule.partition } : {}),
            ...(schedule.key ? { key: schedule.key } : {}),
            ...(schedule.value ? { value: schedule.value } : {}),
            headers: schedule.headers.map((h) => (h.value ? { k: h.key, v: h.value } : { k: h.key })),
            createdAt: schedule.createdAt,
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(id: string): Promise<StoredSchedule | undefined> {
    const { shard } = parseScheduleId(id);
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: shardKey(shard), sk: id },
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async cancel(id: string, now: number): Promise<CancelOutcome> {
    const { shard } = parseScheduleId(id);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: shardKey(shard), sk: id },
          UpdateExpression: 'SET #state = :cancelled, cancelledAt = :now, #ttl = :ttl',
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':cancelled': 'cancelled',
            ':pending': 'pending',
            ':now': now,
            ':ttl': Math.floor(now / 1000) + KEEP_FINISHED_S,
          },
        }),
      );
      return 'cancelled';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(id);
      if (!current) return 'not-found';
      if (current.state === 'cancelled') return 'cancelled';
      return current.state === 'delivered' ? 'already-delivered' : 'in-delivery';
    }
  }

  /** Unfinished schedules of `shard` from `fromId` on, due at or before `until`, by due time. */
  async unfinished(shard: number, fromId: string, until: number): Promise<StoredSchedule[]> {
    const found: StoredSchedule[] = [];
    // A cursor moved by a promoter whose clock ran ahead (tests move it forward) can be past `until`.
    if (fromId > idUpperBound(until)) return found;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :until',
          FilterExpression: '#state IN (:pending, :claimed)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':pk': shardKey(shard),
            ':from': fromId,
            ':until': idUpperBound(until),
            ':pending': 'pending',
            ':claimed': 'claimed',
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) found.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /**
   * Claims a schedule for `owner` until `now + claimMs`: a pending one, or one whose claim ran out
   * before `now - marginMs` (its owner has stopped acting; see Promoter). The first claim fixes the
   * target partition and scanFrom. Resolves the claimed schedule, or undefined if someone else has
   * it (or it is finished).
   */
  async claim(
    id: string,
    claim: {
      owner: string;
      now: number;
      claimMs: number;
      marginMs: number;
      targetPartition: number;
      scanFrom: number;
    },
  ): Promise<StoredSchedule | undefined> {
    const { shard } = parseScheduleId(id);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: shardKey(shard), sk: id },
          UpdateExpression:
            'SET #state = :claimed, claimOwner = :owner, claimUntil = :until, ' +
            'targetPartition = if_not_exists(targetPartition, :partition), ' +
            'scanFrom = if_not_exists(scanFrom, :scanFrom) ADD attempts :one',
          ConditionExpression: '#state = :pending OR (#state = :claimed AND claimUntil < :stale)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':claimed': 'claimed',
            ':pending': 'pending',
            ':owner': claim.owner,
            ':until': claim.now + claim.claimMs,
            ':stale': claim.now - claim.marginMs,
            ':partition': claim.targetPartition,
            ':scanFrom': claim.scanFrom,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? fromItem(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Hands a claim back (the produce failed before sending anything). */
  async release(id: string, owner: string): Promise<void> {
    const { shard } = parseScheduleId(id);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: shardKey(shard), sk: id },
          UpdateExpression: 'SET #state = :pending REMOVE claimOwner, claimUntil',
          ConditionExpression: '#state = :claimed AND claimOwner = :owner',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':pending': 'pending', ':claimed': 'claimed', ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Records the delivery; false if the claim was lost meanwhile (the taker rechecks the log). */
  async markDelivered(id: string, owner: string, offset: number, now: number): Promise<boolean> {
    const { shard } = parseScheduleId(id);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: shardKey(shard), sk: id },
          UpdateExpression:
            'SET #state = :delivered, deliveredOffset = :offset, deliveredAt = :now, #ttl = :ttl',
          ConditionExpression: '#state = :claimed AND claimOwner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':delivered': 'delivered',
            ':claimed': 'claimed',
            ':owner': owner,
            ':offset': offset,
            ':now': now,
            ':ttl': Math.floor(now / 1000) + KEEP_FINISHED_S,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The cursor of `shard`: no unfinished schedule sorts before it (undefined: none stored yet). */
  async cursor(shard: number): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: 'cursor', sk: String(shard) },
        ConsistentRead: true,
      }),
    );
    return Item?.fromId as string | undefined;
  }

  /** Every shard's cursor, in one read (shards that never held a schedule have none). */
  async cursors(): Promise<Map<number, string>> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :cursor',
        ExpressionAttributeValues: { ':cursor': 'cursor' },
        ConsistentRead: true,
      }),
    );
    return new Map((Items ?? []).map((item) => [Number(item.sk), item.fromId as string]));
  }

  /** Moves a shard's cursor from `from` to `to` (> from); false if it moved meanwhile. */
  async advanceCursor(shard: number, from: string, to: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'cursor', sk: String(shard) },
          UpdateExpression: 'SET fromId = :to',
          ConditionExpression: 'fromId = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * A shard's cursor must exist at or before the first schedule stored in it. Promoters never move
   * a cursor past ids due two minutes ago, and brokers refuse schedules due more than a minute in
   * the past, so after the first put the cursor can only be behind new schedules.
   */
  private async ensureCursor(shard: number, now: number): Promise<void> {
    if (this.cursorsEnsured.has(shard)) return;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: 'cursor',
            sk: String(shard),
            // From the time of the first put, not its due time: a shard's first schedule may be due
            // in 40 days, and the next one in a second.
            fromId: idLowerBound(now - 120_000),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    this.cursorsEnsured.add(shard);
  }
}

export const ALL_SHARDS: readonly number[] = Array.from({ length: SCHEDULE_SHARDS }, (_, i) => i);

function shardKey(shard: number): string {
  return `s#${shard}`;
}

function fromItem(item: Record<string, unknown>): StoredSchedule {
  const id = item.sk as string;
  return {
    id,
    dueAt: item.dueAt as number,
    shard: parseScheduleId(id).shard,
    topic: item.topic as string,
    partition: (item.partition as number | undefined) ?? null,
    key: toBuffer(item.key),
    value: toBuffer(item.value),
    headers: ((item.headers as { k: string; v?: Uint8Array }[] | undefined) ?? []).map(
      (h): ScheduleHeader => ({ key: h.k, value: toBuffer(h.v) }),
    ),
    createdAt: item.createdAt as number,
    state: item.state as ScheduleState,
    ...(item.claimOwner !== undefined ? { claimOwner: item.claimOwner as string } : {}),
    ...(item.claimUntil !== undefined ? { claimUntil: item.claimUntil as number } : {}),
    ...(item.targetPartition !== undefined ? { targetPartition: item.targetPartition as number } : {}),
    ...(item.scanFrom !== undefined ? { scanFrom: item.scanFrom as number } : {}),
    ...(item.deliveredOffset !== undefined ? { deliveredOffset: item.deliveredOffset as number } : {}),
    ...(item.attempts !== undefined ? { attempts: item.attempts as number } : {}),
  };
}

function toBuffer(value: unknown): Buffer | null {
  if (value === undefined || value === null) return null;
  const bytes = value as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
