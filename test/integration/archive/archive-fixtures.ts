import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { ArchiveMetadataStore, type LeaderEpochFence } from '../../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../../archive/archive-objects.js';
import { type SegmentObjectKeys, segmentObjectKeys } from '../../../archive/layout.js';
import type { RemoteSegment, UploadMarker } from '../../../archive/remote-segment.js';
import { createDynamoDocumentClient } from '../../../broker/cluster/aws-config.js';
import { partitionSortKey } from '../../../broker/cluster/partition-state-store.js';
import { ensureTables, tableName } from '../../../broker/cluster/tables.js';
import { type TopicRecord, TopicStore } from '../../../broker/cluster/topic-store.js';
import { type RunningEmulator, startDynamoDbLocal, startS3rver } from '../../../broker/local/emulators.js';

/**
 * Archive fixtures on real emulators (DynamoDB Local in memory, s3rver in a temp directory),
 * started once per test file. Each test takes a fresh `ArchiveEnv` (its own table prefix and
 * bucket), so whole-archive runs (retention, the sweep) see only that test's data.
 */

export interface ArchiveEnv {
  prefix: string;
  bucket: string;
  dynamo: DynamoDBDocumentClient;
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  topics: TopicStore;
  dynamoEndpoint: string;
  s3Endpoint: string;
}

export function useArchiveEmulators(): { fresh: () => Promise<ArchiveEnv> } {
  let dynamoEmulator: RunningEmulator | undefined;
  let s3Emulator: RunningEmulator | undefined;
  let dynamo: DynamoDBDocumentClient | undefined;
  let s3: S3Client | undefined;
  let dir: string | undefined;
  let count = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-archive-test-'));
    [dynamoEmulator, s3Emulator] = await Promise.all([
      startDynamoDbLocal(),
      startS3rver({ directory: dir, buckets: ['spool-archive'] }),
    ]);
    dynamo = createDynamoDocumentClient({
      region: 'us-east-1',
      dynamoDbEndpoint: dynamoEmulator.endpoint,
      tablePrefix: '',
    });
    s3 = createS3Client({ region: 'us-east-1', endpoint: s3Emulator.endpoint });
  }, 60_000);
  afterAll(async () => {
    dynamo?.destroy();
    s3?.destroy();
    await Promise.all([dynamoEmulator?.stop(), s3Emulator?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    fresh: async () => {
      if (!dynamo || !s3 || !dynamoEmulator || !s3Emulator) throw new Error('emulators not started');
      count++;
      const prefix = `r${count}${Date.now().toString(36)}`;
      const bucket = `archive-${prefix}`;
      await ensureTables(dynamo, prefix);
      const objects = new ArchiveObjects(s3, bucket);
      await objects.ensureBucket();
      return {
        prefix,
        bucket,
        dynamo,
        metadata: new ArchiveMetadataStore(dynamo, tableName(prefix, 'archive')),
        objects,
        topics: new TopicStore(dynamo, prefix),
        dynamoEndpoint: dynamoEmulator.endpoint,
        s3Endpoint: s3Emulator.endpoint,
      };
    },
  };
}

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

/** A topic with `partitions` partitions, each with a partition-state item at leader epoch 1. */
export async function createTopic(
  env: ArchiveEnv,
  name: string,
  config: Record<string, string> = {},
  partitions = 1,
): Promise<TopicRecord> {
  const topic = await env.topics.create({ name, partitionCount: partitions, replicationFactor: 1, config });
  for (let partition = 0; partition < partitions; partition++)
    await env.dynamo.send(
      new PutCommand({
        TableName: tableName(env.prefix, 'partitions'),
        Item: {
          pk: name,
          sk: partitionSortKey(partition),
          topic: name,
          topicId: topic.topicId,
          partition,
          leaderEpoch: 1,
        },
      }),
    );
  return topic;
}

export function fenceOf(env: ArchiveEnv, topic: TopicRecord, partition: number): LeaderEpochFence {
  return {
    tableName: tableName(env.prefix, 'partitions'),
    key: { pk: topic.name, sk: partitionSortKey(partition) },
    leaderEpoch: 1,
  };
}

/** Writes an upload marker, then the segment's objects (the log `sizeBytes` long), as an uploader does. */
export async function startUpload(
  env: ArchiveEnv,
  topic: TopicRecord,
  partition: number,
  baseOffset: number,
  options: { sizeBytes?: number; expiresAt?: number } = {},
): Promise<UploadMarker> {
  const uploadId = randomUUID();
  const keys = segmentObjectKeys(topic.topicId, partition, baseOffset, 1, uploadId);
  const now = Date.now();
  const marker: UploadMarker = {
    topicId: topic.topicId,
    partition,
    uploadId,
    keys,
    brokerId: 0,
    startedAt: now,
    expiresAt: options.expiresAt ?? now + 10 * 60 * 1000,
  };
  await env.metadata.beginUpload(marker);
  await putObjects(env, keys, options.sizeBytes ?? 100);
  return marker;
}

export async function putObjects(env: ArchiveEnv, keys: SegmentObjectKeys, logBytes: number): Promise<void> {
  await Promise.all(
    Object.entries(keys).map(([kind, key]) =>
      env.objects.put(key, kind === 'log' ? Buffer.alloc(logBytes, 7) : Buffer.from(kind)),
    ),
  );
}

/** Uploads and commits a segment [baseOffset, endOffset] through the real marker and commit path. */
export async function commitSegment(
  env: ArchiveEnv,
  topic: TopicRecord,
  partition: number,
  segment: { baseOffset: number; endOffset: number; maxTimestamp: number; sizeBytes?: number },
): Promise<RemoteSegment> {
  const sizeBytes = segment.sizeBytes ?? 100;
  const marker = await startUpload(env, topic, partition, segment.baseOffset, { sizeBytes });
  const remote: RemoteSegment = {
    topic: topic.name,
    topicId: topic.topicId,
    partition,
    baseOffset: segment.baseOffset,
    endOffset: segment.endOffset,
    sizeBytes,
    maxTimestamp: segment.maxTimestamp,
    leaderEpoch: 1,
    epochs: [{ epoch: 1, startOffset: segment.baseOffset }],
    uploadId: marker.uploadId,
    keys: marker.keys,
    committedAt: Date.now(),
  };
  await env.metadata.commitSegment(remote, fenceOf(env, topic, partition));
  return remote;
}

/** Commits consecutive 10-offset segments from offset 0 with the given newest-record timestamps. */
export async function commitSegments(
  env: ArchiveEnv,
  topic: TopicRecord,
  partition: number,
  timestamps: number[],
  sizeBytes = 100,
): Promise<RemoteSegment[]> {
  const segments: RemoteSegment[] = [];
  for (const [i, maxTimestamp] of timestamps.entries())
    segments.push(
      await commitSegment(env, topic, partition, {
        baseOffset: i * 10,
        endOffset: i * 10 + 9,
        maxTimestamp,
        sizeBytes,
      }),
    );
  return segments;
}

/** Every object key under the archive's bucket, sorted. */
export async function allKeys(env: ArchiveEnv): Promise<string[]> {
  return (await env.objects.list('')).map((o) => o.key).sort();
}

export function keysOf(segments: readonly { keys: SegmentObjectKeys }[]): string[] {
  return segments.flatMap((s) => Object.values(s.keys)).sort();
}
