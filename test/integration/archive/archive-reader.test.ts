import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveMetadataStore } from '../../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../../archive/archive-objects.js';
import type { RemoteSegment } from '../../../archive/remote-segment.js';
import { createDynamoDocumentClient } from '../../../broker/cluster/aws-config.js';
import { ensureTables, tableName } from '../../../broker/cluster/tables.js';
import { type RunningEmulator, startDynamoDbLocal, startS3rver } from '../../../broker/local/emulators.js';
import {
  AmbiguousArchiveTopicError,
  ArchiveChecksumError,
  ArchiveReader,
  type ArchiveReaderOptions,
  ArchiveSegmentMissingError,
  ArchiveTopicNotFoundError,
  type ConsumerRecord,
  type ReplayProgress,
  type ReplayRequest,
  string,
} from '../../../client/index.js';
import {
  CompressionType,
  createRecordBatch,
  encodeRecordBatch,
  scanRecordBatches,
} from '../../../protocol/record-batch/index.js';
import {
  type ArchiveTarget,
  archivePartition,
  registerTopic,
  type StoredRecord,
} from '../../helpers/archive-replay-fixtures.js';

/**
 * ArchiveReader against DynamoDB Local and s3rver, with segments written by a real PartitionLog
 * and committed through the archive's fenced commit (no broker). Segments are small (16 KiB) and
 * parts smaller still, so batches straddle parts and replays span many segments.
 */

const BUCKET = 'spool-archive';
const PREFIX = `ar${Date.now().toString(36)}`;
const T0 = Date.UTC(2026, 0, 1);
const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

let dynamoEmulator: RunningEmulator;
let s3Emulator: RunningEmulator;
let dynamo: DynamoDBDocumentClient;
let s3: S3Client;
let dir: string;
let target: ArchiveTarget;
let metadata: ArchiveMetadataStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-archive-reader-'));
  [dynamoEmulator, s3Emulator] = await Promise.all([
    startDynamoDbLocal(),
    startS3rver({ directory: join(dir, 's3'), buckets: [BUCKET] }),
  ]);
  dynamo = createDynamoDocumentClient({
    region: 'us-east-1',
    dynamoDbEndpoint: dynamoEmulator.endpoint,
    tablePrefix: '',
  });
  s3 = createS3Client({ region: 'us-east-1', endpoint: s3Emulator.endpoint });
  await ensureTables(dynamo, PREFIX);
  target = { dynamo, objects: new ArchiveObjects(s3, BUCKET), tablePrefix: PREFIX };
  metadata = new ArchiveMetadataStore(dynamo, tableName(PREFIX, 'archive'));
}, 60_000);

afterAll(async () => {
  dynamo?.destroy();
  s3?.destroy();
  await Promise.all([dynamoEmulator?.stop(), s3Emulator?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function reader<K = Buffer, V = Buffer>(
  options: Partial<ArchiveReaderOptions<K, V>> = {},
): ArchiveReader<K, V> {
  return new ArchiveReader<K, V>({
    tablePrefix: PREFIX,
    bucket: BUCKET,
    s3Endpoint: s3Emulator.endpoint,
    dynamoDbEndpoint: dynamoEmulator.endpoint,
    concurrency: 4,
    partBytes: 5000,
    ...options,
  });
}

/** `count` records in batches of 1-40 with rotating codecs; random values; timestamps T0 + 10 ms × i. */
function batchesOf(count: number, label: string, first = 0): Buffer[] {
  const batches: Buffer[] = [];
  for (let i = first, n = 0; i < first + count; n++) {
    const size = Math.min(first + count - i, 1 + ((n * 7) % 40));
    batches.push(
      encodeRecordBatch(
        createRecordBatch({
          compression: CODECS[n % CODECS.length],
          records: Array.from({ length: size }, (_, j) => ({
            key: j % 5 === 0 ? null : Buffer.from(`${label}-${i + j}`),
            value: (i + j) % 97 === 0 ? null : randomBytes(20 + ((i + j) % 180)),
            headers: (i + j) % 3 === 0 ? [{ key: 'h', value: Buffer.from(`v${i + j}`) }] : [],
            timestamp: T0 + 10 * (i + j),
          })),
        }),
      ),
    );
    i += size;
  }
  return batches;
}

interface Fixture {
  topic: string;
  topicId: string;
  segments: RemoteSegment[][];
  records: StoredRecord[][];
}

async function fixture(
  topic: string,
  partitions: number,
  recordsPerPartition: number,
  options: { inTopicsTable?: boolean; logAppendTime?: boolean } = {},
): Promise<Fixture> {
  const topicId = await registerTopic(target, topic, partitions, options);
  const results = await Promise.all(
    Array.from({ length: partitions }, (_, partition) =>
      archivePartition(
        target,
        { topic, topicId, partition, leaderEpoch: 1 },
        batchesOf(recordsPerPartition, `${topic}-${partition}`),
        { dir: join(dir, topicId), segmentBytes: 16 * 1024, indexIntervalBytes: 1024, ...options },
      ),
    ),
  );
  return { topic, topicId, segments: results.map((r) => r.segments), records: results.map((r) => r.records) };
}

async function replayAll<K, V>(
  r: ArchiveReader<K, V>,
  request: ReplayRequest,
): Promise<{ byPartition: Map<number, ConsumerRecord<K, V>[]>; progress: ReplayProgress; order: number[] }> {
  const replay = r.replay(request);
  const byPartition = new Map<number, ConsumerRecord<K, V>[]>();
  const order: number[] = [];
  for await (const batch of replay) {
    order.push(batch.partition);
    const list = byPartition.get(batch.partition) ?? [];
    for (const record of batch.records) {
      expect(record.partition).toBe(batch.partition);
      list.push(record);
    }
    byPartition.set(batch.partition, list);
  }
  return { byPartition, progress: replay.progress(), order };
}

/** The fields a replayed record must carry, byte for byte. */
function shape(records: readonly (StoredRecord | ConsumerRecord<Buffer, Buffer>)[]) {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key?.toString('hex') ?? null,
    value: r.value?.toString('hex') ?? null,
    headers: r.headers.map((h) => `${h.key}=${h.value?.toString('hex') ?? 'null'}`),
  }));
}

describe('ArchiveReader', () => {
  it('replays a whole partition: every record, byte-identical, in offset order, with progress', async () => {
    const f = await fixture('whole', 1, 3000);
    expect(f.segments[0]!.length).toBeGreaterThan(5);
    const r = reader();
    try {
      const progressSeen: ReplayProgress[] = [];
      const { byPartition, progress } = await replayAll(r, {
        topic: 'whole',
        onProgress: (p) => progressSeen.push(p),
      });
      expect(shape(byPartition.get(0)!)).toEqual(shape(f.records[0]!));
      const bytes = f.segments[0]!.reduce((sum, s) => sum + s.sizeBytes, 0);
      expect(progress).toMatchObject({
        planned: true,
        partitions: 1,
        partitionsDone: 1,
        segments: f.segments[0]!.length,
        segmentsDone: f.segments[0]!.length,
        totalBytes: bytes,
        bytesDone: bytes,
        records: 3000,
      });
      const done = progressSeen.map((p) => p.bytesDone);
      expect(done).toEqual([...done].sort((a, b) => a - b));
    } finally {
      r.close();
    }
  });

  it('replays several partitions in parallel, each in offset order; a partition subset and range', async () => {
    const f = await fixture('multi', 4, 1200);
    const r = reader({ concurrency: 8 });
    try {
      const { byPartition, order } = await replayAll(r, { topic: 'multi', from: { offset: 0 } });
      expect([...byPartition.keys()].sort()).toEqual([0, 1, 2, 3]);
      for (let p = 0; p < 4; p++) expect(shape(byPartition.get(p)!)).toEqual(shape(f.records[p]!));
      // Partitions interleave: the first four batches handed out are not all of one partition.
      expect(new Set(order.slice(0, 8)).size).toBeGreaterThan(1);

      const subset = await replayAll(r, { topic: 'multi', partitions: [1, 3] });
      expect([...subset.byPartition.keys()].sort()).toEqual([1, 3]);
      const range = await replayAll(r, { topic: 'multi', partitions: { first: 2, last: 3 } });
      expect([...range.byPartition.keys()].sort()).toEqual([2, 3]);
      expect(shape(range.byPartition.get(2)!)).toEqual(shape(f.records[2]!));
    } finally {
      r.close();
    }
  });

  it('replays an offset range [from, to), reading only the segments and bytes that hold it', async () => {
    const f = await fixture('offsets', 1, 3000);
    const r = reader();
    try {
      const { byPartition, progress } = await replayAll(r, {
        topic: 'offsets',
        from: { offset: 1234 },
        to: { offset: 2345 },
      });
      const want = f.records[0]!.filter((rec) => rec.offset >= 1234 && rec.offset < 2345);
      expect(shape(byPartition.get(0)!)).toEqual(shape(want));
      const spanning = f.segments[0]!.filter((s) => s.endOffset >= 1234 && s.baseOffset < 2345);
      expect(progress.segments).toBe(spanning.length);
      // The indexes cut the first and last segment short.
      expect(progress.totalBytes).toBeLessThan(spanning.reduce((sum, s) => sum + s.sizeBytes, 0));
      expect(progress.bytesDone).toBe(progress.totalBytes);
    } finally {
      r.close();
    }
  });

  it('replays a time range [from, to) exactly, also mixed with offsets and deserialized', async () => {
    const f = await fixture('times', 2, 2000);
    const r = reader({ keyDeserializer: string, valueDeserializer: { deserialize: (b) => b.length } });
    try {
      const from = T0 + 10 * 555 + 3;
      const to = T0 + 10 * 1500;
      const { byPartition, progress } = await replayAll(r, {
        topic: 'times',
        from: { timestamp: from },
        to: { timestamp: to },
      });
      for (let p = 0; p < 2; p++) {
        const want = f.records[p]!.filter((rec) => rec.timestamp >= from && rec.timestamp < to);
        expect(byPartition.get(p)!.map((rec) => rec.offset)).toEqual(want.map((rec) => rec.offset));
        expect(byPartition.get(p)!.map((rec) => [rec.key, rec.value])).toEqual(
          want.map((rec) => [rec.key?.toString() ?? null, rec.value?.length ?? null]),
        );
      }
      const total = f.segments.flat().reduce((sum, s) => sum + s.sizeBytes, 0);
      expect(progress.totalBytes).toBeLessThan(total / 2);

      const mixed = await replayAll(r, {
        topic: 'times',
        partitions: [1],
        from: { offset: 100 },
        to: { timestamp: to },
      });
      expect(mixed.byPartition.get(1)!.map((rec) => rec.offset)).toEqual(
        f.records[1]!.filter((rec) => rec.offset >= 100 && rec.timestamp < to).map((rec) => rec.offset),
      );
    } finally {
      r.close();
    }
  });

  it('uses the log-append time of topics that have it', async () => {
    const f = await fixture('append-time', 1, 300, { logAppendTime: true });
    const r = reader();
    try {
      const { byPartition } = await replayAll(r, { topic: 'append-time' });
      expect(shape(byPartition.get(0)!)).toEqual(shape(f.records[0]!));
      // Append times, not the create times T0 + 10 ms × i the batches carried.
      const first = byPartition.get(0)![0]!.timestamp;
      expect(first).toBeGreaterThan(Date.now() - 60_000);
      expect(first).toBeLessThanOrEqual(Date.now());
    } finally {
      r.close();
    }
  });

  it('starts at the log start offset that retention moved', async () => {
    const f = await fixture('log-start', 1, 2000);
    expect(await metadata.advanceLogStart(f.topicId, 0, 777)).toBe(true);
    const r = reader();
    try {
      const { byPartition } = await replayAll(r, { topic: 'log-start', from: { offset: 0 } });
      expect(byPartition.get(0)![0]!.offset).toBe(777);
      expect(shape(byPartition.get(0)!)).toEqual(shape(f.records[0]!.filter((rec) => rec.offset >= 777)));
    } finally {
      r.close();
    }
  });

  it('throws ArchiveChecksumError naming the segment and byte position of a corrupted batch', async () => {
    const f = await fixture('corrupt', 1, 1500);
    const segment = f.segments[0]![2]!;
    const bytes = await target.objects.get(segment.keys.log);
    const spans = scanRecordBatches(bytes);
    expect(spans.length).toBeGreaterThan(2);
    const victim = spans[1]!;
    bytes[victim.position + victim.sizeInBytes - 5]! ^= 0x01;
    await target.objects.put(segment.keys.log, bytes);
    const r = reader();
    try {
      const error = await replayAll(r, { topic: 'corrupt' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArchiveChecksumError);
      expect(error).toMatchObject({
        name: 'ArchiveChecksumError',
        topic: 'corrupt',
        partition: 0,
        segmentBaseOffset: segment.baseOffset,
        bytePosition: victim.position,
        objectKey: segment.keys.log,
        retriable: false,
      });
      expect((error as ArchiveChecksumError).cause).toBeDefined();
      // A range that ends before the damaged segment is unaffected.
      const before = await replayAll(r, { topic: 'corrupt', to: { offset: segment.baseOffset } });
      expect(before.byPartition.get(0)!.length).toBe(segment.baseOffset);
    } finally {
      r.close();
    }
  });

  it('throws ArchiveSegmentMissingError when a committed object is gone', async () => {
    const f = await fixture('missing', 1, 800);
    await target.objects.delete([f.segments[0]![1]!.keys.log]);
    const r = reader();
    try {
      await expect(replayAll(r, { topic: 'missing' })).rejects.toBeInstanceOf(ArchiveSegmentMissingError);
    } finally {
      r.close();
    }
  });

  it('resolves the current incarnation of a re-created topic, or the one asked for', async () => {
    const old = await fixture('reborn', 1, 200);
    const current = await fixture('reborn', 1, 300); // overwrites the topics-table item
    const r = reader<string>({ keyDeserializer: string });
    try {
      const latest = await replayAll(r, { topic: 'reborn' });
      expect(latest.byPartition.get(0)!.length).toBe(300);
      const older = await replayAll(r, { topic: 'reborn', topicId: old.topicId });
      expect(older.byPartition.get(0)!.length).toBe(200);
      expect(current.topicId).not.toBe(old.topicId);

      // Two incarnations and none in the topics table: ambiguous; a name never archived: not found.
      await fixture('orphaned', 1, 10, { inTopicsTable: false });
      await fixture('orphaned', 1, 10, { inTopicsTable: false });
      await expect(replayAll(r, { topic: 'orphaned' })).rejects.toBeInstanceOf(AmbiguousArchiveTopicError);
      await expect(replayAll(r, { topic: 'never' })).rejects.toBeInstanceOf(ArchiveTopicNotFoundError);
      const single = await fixture('deleted', 1, 50, { inTopicsTable: false });
      const plain = reader();
      const found = await replayAll(plain, { topic: 'deleted' }).finally(() => plain.close());
      expect(shape(found.byPartition.get(0)!)).toEqual(shape(single.records[0]!));
    } finally {
      r.close();
    }
  });

  it('stops cleanly when the consumer breaks out of the loop', async () => {
    await fixture('early-exit', 2, 1500);
    const r = reader({ concurrency: 2 });
    try {
      const replay = r.replay({ topic: 'early-exit' });
      let batches = 0;
      for await (const _ of replay) if (++batches === 2) break;
      expect(replay.progress().bytesDone).toBeLessThan(replay.progress().totalBytes);
    } finally {
      r.close();
    }
  });
});
