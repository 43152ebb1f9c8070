import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ArchiveCommitConflictError, ArchiveFencedError, UploadExpiredError } from './errors.js';
import { archivePartitionKey } from './layout.js';
import type { ArchiveHead, RemoteSegment, UploadMarker } from './remote-segment.js';

/**
 * The archive's metadata in DynamoDB, one table (`<prefix>-archive`), items keyed by
 * pk = "<topicId>#<partition>" and
 * - sk = "head": the partition's ArchiveHead;
 * - sk = "seg#<endOffset, 20 digits>": one committed RemoteSegment. Keyed by end offset, so the
 *   first row at or after "seg#<offset>" is the segment holding `offset` (see `locate`);
 * - sk = "upload#<uploadId>": an UploadMarker.
 *
 * An upload counts only once `commitSegment` succeeds; that single transaction checks the
 * uploader is still the partition's leader (its leader epoch, in the partitions table), that its
 * upload marker has not expired, and that the segment continues the archive without a gap.
 */

const HEAD = 'head';
const SEGMENT_PREFIX = 'seg#';
const UPLOAD_PREFIX = 'upload#';

function segmentSortKey(endOffset: number): string {
  return `${SEGMENT_PREFIX}${String(endOffset).padStart(20, '0')}`;
}

/** The partition-state item whose leader epoch fences a commit. */
export interface LeaderEpochFence {
  tableName: string;
  key: Record<string, string>;
  leaderEpoch: number;
}

export class ArchiveMetadataStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async head(topicId: string, partition: number): Promise<ArchiveHead | null> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: archivePartitionKey(topicId, partition), sk: HEAD },
        ConsistentRead: true,
      }),
    );
    return Item ? toHead(Item) : null;
  }

  /** Every partition's head (for retention). */
  async heads(): Promise<ArchiveHead[]> {
    const heads: ArchiveHead[] = [];
    for await (const page of paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        FilterExpression: 'sk = :head',
        ExpressionAttributeValues: { ':head': HEAD },
      },
    ))
      for (const item of page.Items ?? []) heads.push(toHead(item));
    return heads;
  }

  /** Committed segments ending at or after `fromOffset`, in offset order. */
  async segments(topicId: string, partition: number, fromOffset = 0): Promise<RemoteSegment[]> {
    const segments: RemoteSegment[] = [];
    for await (const page of paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': archivePartitionKey(topicId, partition),
          ':from': segmentSortKey(Math.max(0, fromOffset)),
          ':to': `${SEGMENT_PREFIX}~`,
        },
      },
    ))
      for (const item of page.Items ?? []) segments.push(item as unknown as RemoteSegment);
    return segments.map(stripKeys);
  }

  /** The committed segment holding `offset`, or null when the archive does not have it. */
  async locate(topicId: string, partition: number, offset: number): Promise<RemoteSegment | null> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': archivePartitionKey(topicId, partition),
          ':from': segmentSortKey(offset),
          ':to': `${SEGMENT_PREFIX}~`,
        },
        Limit: 1,
      }),
    );
    const segment = Items?.[0] ? stripKeys(Items[0] as unknown as RemoteSegment) : null;
    return segment && segment.baseOffset <= offset ? segment : null;
  }

  /** Records an upload before its first object is written, so a crash leaves a trail to clean. */
  async beginUpload(marker: UploadMarker): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: archivePartitionKey(marker.topicId, marker.partition),
          sk: `${UPLOAD_PREFIX}${marker.uploadId}`,
          ...marker,
        },
      }),
    );
  }

  /** Uploads whose markers are still there (in progress, failed, or abandoned by a crash). */
  async uploads(): Promise<UploadMarker[]> {
    const markers: UploadMarker[] = [];
    for await (const page of paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        FilterExpression: 'begins_with(sk, :upload)',
        ExpressionAttributeValues: { ':upload': UPLOAD_PREFIX },
      },
    ))
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, ...marker } = item;
        markers.push(marker as UploadMarker);
      }
    return markers;
  }

  /**
   * Deletes an upload marker. With `expiredBy`, only if the marker expired before that time (the
   * cleaner's call: an upload still in time may yet commit). False if it was not deleted.
   */
  async endUpload(marker: Pick<UploadMarker, 'topicId' | 'partition' | 'uploadId'>, expiredBy?: number) {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: {
            pk: archivePartitionKey(marker.topicId, marker.partition),
            sk: `${UPLOAD_PREFIX}${marker.uploadId}`,
          },
          ...(expiredBy === undefined
            ? {}
            : {
                ConditionExpression: 'expiresAt < :now',
                ExpressionAttributeValues: { ':now': expiredBy },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Commits an uploaded segment: one transaction that checks the leader epoch fence, consumes the
   * (unexpired) upload marker, advances the head and writes the segment row. Throws
   * ArchiveFencedError, UploadExpiredError or ArchiveCommitConflictError when a condition fails.
   */
  async commitSegment(segment: RemoteSegment, fence: LeaderEpochFence, now = Date.now()): Promise<void> {
    const pk = archivePartitionKey(segment.topicId, segment.partition);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: fence.tableName,
                Key: fence.key,
                ConditionExpression: 'leaderEpoch = :epoch AND topicId = :topicId',
                ExpressionAttributeValues: { ':epoch': fence.leaderEpoch, ':topicId': segment.topicId },
              },
            },
            {
              Delete: {
                TableName: this.tableName,
                Key: { pk, sk: `${UPLOAD_PREFIX}${segment.uploadId}` },
                ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
                ExpressionAttributeValues: { ':now': now },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk, sk: HEAD },
                // No gap (the segment starts at or before the archive's end) and progress (it ends
                // at or after it): the archive stays contiguous and no offset is committed twice.
                ConditionExpression:
                  'attribute_not_exists(pk) OR (nextOffset >= :base AND nextOffset <= :end)',
                UpdateExpression:
                  'SET topic = :topic, topicId = :topicId, #partition = :partition, nextOffset = :next, ' +
                  'logStartOffset = if_not_exists(logStartOffset, :base)',
                ExpressionAttributeNames: { '#partition': 'partition' },
                ExpressionAttributeValues: {
                  ':topic': segment.topic,
                  ':topicId': segment.topicId,
                  ':partition': segment.partition,
                  ':base': segment.baseOffset,
                  ':end': segment.endOffset,
                  ':next': segment.endOffset + 1,
                },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { pk, sk: segmentSortKey(segment.endOffset), ...segment },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = (error.CancellationReasons ?? []).map((r) => r.Code);
      const where = { topic: segment.topic, partition: segment.partition, baseOffset: segment.baseOffset };
      if (reasons[0] === 'ConditionalCheckFailed')
        throw new ArchiveFencedError(where, segment.leaderEpoch, error);
      if (reasons[1] === 'ConditionalCheckFailed')
        throw new UploadExpiredError(where, segment.uploadId, error);
      if (reasons[2] === 'ConditionalCheckFailed' || reasons[3] === 'ConditionalCheckFailed')
        throw new ArchiveCommitConflictError(where, segment.endOffset, error);
      throw error;
    }
  }

  /**
   * Moves the partition's log start offset up to `offset` (never down, never past the archive's
   * end). Returns false when it already was at or past it. Idempotent.
   */
  async advanceLogStart(topicId: string, partition: number, offset: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: archivePartitionKey(topicId, partition), sk: HEAD },
          ConditionExpression: 'attribute_exists(pk) AND logStartOffset < :offset AND nextOffset >= :offset',
          UpdateExpression: 'SET logStartOffset = :offset',
          ExpressionAttributeValues: { ':offset': offset },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Deletes a segment's row, only if the log start offset has moved past its end (so no reader
   * can be directed to it any more). Returns false if the condition did not hold.
   */
  async deleteSegment(segment: Pick<RemoteSegment, 'topicId' | 'partition' | 'endOffset'>): Promise<boolean> {
    const pk = archivePartitionKey(segment.topicId, segment.partition);
    const head = await this.head(segment.topicId, segment.partition);
    if (!head || head.logStartOffset <= segment.endOffset) return false;
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: segmentSortKey(segment.endOffset) } }),
    );
    return true;
  }

  /** Deletes every item of a partition (its topic was deleted). */
  async deletePartition(topicId: string, partition: number): Promise<void> {
    const pk = archivePartitionKey(topicId, partition);
    for await (const page of paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'pk, sk',
      },
    ))
      for (const item of page.Items ?? [])
        await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: item.sk } }));
  }
}

function toHead(item: Record<string, unknown>): ArchiveHead {
  return {
    topic: item.topic as string,
    topicId: item.topicId as string,
    partition: item.partition as number,
    logStartOffset: item.logStartOffset as number,
    nextOffset: item.nextOffset as number,
  };
}

function stripKeys(item: RemoteSegment & { pk?: unknown; sk?: unknown }): RemoteSegment {
  const { pk: _pk, sk: _sk, ...segment } = item;
  return segment;
}
