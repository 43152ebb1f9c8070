/**
 * Archive fixtures made the way a broker makes them, without a broker: batches are appended to a
 * real PartitionLog (which assigns offsets, writes the indexes and rolls segments), and each
 * sealed segment's files are uploaded and committed through the archive's real marker and
 * fenced-commit path. Used by the ArchiveReader tests, the replay CLI test and the replay bench.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import type { ArchiveObjects } from '../../archive/archive-objects.js';
import { segmentObjectKeys } from '../../archive/layout.js';
import type { RemoteSegment } from '../../archive/remote-segment.js';
import { partitionSortKey } from '../../broker/cluster/partition-state-store.js';
import { tableName } from '../../broker/cluster/tables.js';
import { newTopicId } from '../../broker/cluster/topic-store.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { decodeRecordBatches, type RecordHeader, TimestampType } from '../../protocol/record-batch/index.js';

export interface ArchiveTarget {
  dynamo: DynamoDBDocumentClient;
  objects: ArchiveObjects;
  tablePrefix: string;
}

/** A record as stored, with the offset and timestamp the log gave it. */
export interface StoredRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface FencedPartition {
  topic: string;
  topicId: string;
  partition: number;
  leaderEpoch: number;
}

/**
 * Writes what the controller keeps for a topic: a topics-table item (unless `inTopicsTable` is
 * false, as for a deleted topic) and one partition-state item per partition, whose leader epoch
 * fences archive commits. Returns the topic id.
 */
export async function registerTopic(
  target: ArchiveTarget,
  topic: string,
  partitions: number,
  options: { leaderEpoch?: number; inTopicsTable?: boolean; topicId?: string } = {},
): Promise<string> {
  const topicId = options.topicId ?? newTopicId();
  if (options.inTopicsTable ?? true)
    await target.dynamo.send(
      new PutCommand({
        TableName: tableName(target.tablePrefix, 'topics'),
        Item: {
          pk: topic,
          sk: 'topic',
          name: topic,
          topicId,
          partitionCount: partitions,
          replicationFactor: 1,
          config: {},
          version: 1,
          createdAt: Date.now(),
        },
      }),
    );
  for (let partition = 0; partition < partitions; partition++)
    await target.dynamo.send(
      new PutCommand({
        TableName: tableName(target.tablePrefix, 'partitions'),
        Item: {
          pk: topic,
          sk: partitionSortKey(partition),
          topic,
          topicId,
          partition,
          leaderEpoch: options.leaderEpoch ?? 1,
        },
      }),
    );
  return topicId;
}

/** The topic id and leader epoch a running cluster's partition-state item has (for its fence). */
export async function clusterPartition(
  target: ArchiveTarget,
  topic: string,
  partition: number,
): Promise<FencedPartition> {
  const { Item } = await target.dynamo.send(
    new GetCommand({
      TableName: tableName(target.tablePrefix, 'partitions'),
      Key: { pk: topic, sk: partitionSortKey(partition) },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new Error(`no partition state for ${topic}-${partition}`);
  return { topic, topicId: Item.topicId as string, partition, leaderEpoch: Item.leaderEpoch as number };
}

/**
 * Appends `batches` (encoded RecordBatch v2, offsets assigned by the log) to a fresh PartitionLog
 * in `dir` that rolls at `segmentBytes`, then archives every segment: upload marker, the .log,
 * .index and .timeindex files as they are on disk (plus .epochs and an empty .snapshot), and the
 * fenced commit. Returns the committed segments and every stored record, in offset order.
 */
export async function archivePartition(
  target: ArchiveTarget,
  fenced: FencedPartition,
  batches: readonly Buffer[],
  options: { dir: string; segmentBytes: number; indexIntervalBytes?: number; logAppendTime?: boolean },
): Promise<{ segments: RemoteSegment[]; records: StoredRecord[] }> {
  const log = await PartitionLog.open(join(options.dir, `${fenced.topic}-${fenced.partition}`), {
    config: { segmentBytes: options.segmentBytes, indexIntervalBytes: options.indexIntervalBytes ?? 4096 },
  });
  const metadata = new ArchiveMetadataStore(target.dynamo, tableName(target.tablePrefix, 'archive'));
  const segments: RemoteSegment[] = [];
  const records: StoredRecord[] = [];
  try {
    for (const batch of batches)
      await log.appendAsLeader(Buffer.from(batch), {
        leaderEpoch: fenced.leaderEpoch,
        logAppendTime: options.logAppendTime ?? false,
      });
    await log.roll();
    for (const sealed of await log.sealedSegments()) {
      const bytes = await readFile(sealed.logPath);
      records.push(...storedRecords(bytes));
      const uploadId = randomUUID();
      const keys = segmentObjectKeys(
        fenced.topicId,
        fenced.partition,
        sealed.baseOffset,
        fenced.leaderEpoch,
        uploadId,
      );
      const now = Date.now();
      await metadata.beginUpload({
        topicId: fenced.topicId,
        partition: fenced.partition,
        uploadId,
        keys,
        brokerId: 0,
        startedAt: now,
        expiresAt: now + 10 * 60_000,
      });
      const epochs = [{ epoch: fenced.leaderEpoch, startOffset: sealed.baseOffset }];
      await Promise.all([
        target.objects.put(keys.log, bytes),
        target.objects.put(keys.index, await readFile(sealed.offsetIndexPath)),
        target.objects.put(keys.timeindex, await readFile(sealed.timeIndexPath)),
        target.objects.put(keys.epochs, Buffer.from(JSON.stringify(epochs))),
        target.objects.put(keys.snapshot, Buffer.alloc(0)),
      ]);
      const remote: RemoteSegment = {
        topic: fenced.topic,
        topicId: fenced.topicId,
        partition: fenced.partition,
        baseOffset: sealed.baseOffset,
        endOffset: sealed.endOffset,
        sizeBytes: sealed.sizeInBytes,
        maxTimestamp: sealed.maxTimestamp,
        leaderEpoch: fenced.leaderEpoch,
        epochs,
        uploadId,
        keys,
        committedAt: Date.now(),
      };
      await metadata.commitSegment(remote, {
        tableName: tableName(target.tablePrefix, 'partitions'),
        key: { pk: fenced.topic, sk: partitionSortKey(fenced.partition) },
        leaderEpoch: fenced.leaderEpoch,
      });
      segments.push(remote);
    }
  } finally {
    await log.close();
  }
  return { segments, records };
}

/** Every record of a segment file's bytes, as a reader should see it. */
export function storedRecords(bytes: Buffer): StoredRecord[] {
  return decodeRecordBatches(bytes).flatMap((batch) =>
    batch.isControl
      ? []
      : batch.records.map((r) => ({
          offset: batch.baseOffset + r.offsetDelta,
          timestamp:
            batch.timestampType === TimestampType.LogAppendTime
              ? batch.maxTimestamp
              : batch.baseTimestamp + r.timestampDelta,
          key: r.key,
          value: r.value,
          headers: r.headers,
        })),
  );
}
