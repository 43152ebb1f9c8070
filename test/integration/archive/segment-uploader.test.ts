import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveMetadataStore, type LeaderEpochFence } from '../../../archive/archive-metadata-store.js';
import { MULTIPART_PART_BYTES } from '../../../archive/archive-objects.js';
import { ArchiveFencedError } from '../../../archive/errors.js';
import type { RemoteSegment } from '../../../archive/remote-segment.js';
import { silentLogger } from '../../../broker/common/logger.js';
import type { SealedSegment } from '../../../broker/storage/partition-log.js';
import {
  type UploaderDeps,
  type UploadTarget,
  uploadSegment,
} from '../../../broker/tiering/segment-uploader.js';
import {
  type ArchiveEnv,
  allKeys,
  createTopic,
  fenceOf,
  keysOf,
  useArchiveEmulators,
} from './archive-fixtures.js';

/**
 * The segment uploader against DynamoDB Local and s3rver: a large log goes up as a multipart
 * upload byte for byte; a refused commit removes what it wrote; a commit whose outcome is unknown
 * leaves every object in place, because it may have landed.
 */

const emulators = useArchiveEmulators();
let dir: string;
let segment: SealedSegment;
let logBytes: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-uploader-test-'));
  // Larger than one part, so the log is uploaded in several parts.
  logBytes = randomBytes(MULTIPART_PART_BYTES + 1024 * 1024);
  segment = {
    baseOffset: 0,
    endOffset: 99,
    sizeInBytes: logBytes.length,
    maxTimestamp: 1_700_000_000_000,
    logPath: join(dir, '00000000000000000000.log'),
    offsetIndexPath: join(dir, '00000000000000000000.index'),
    timeIndexPath: join(dir, '00000000000000000000.timeindex'),
  };
  await writeFile(segment.logPath, logBytes);
  await writeFile(segment.offsetIndexPath, Buffer.alloc(64, 1));
  await writeFile(segment.timeIndexPath, Buffer.alloc(96, 2));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function targetOf(topic: { name: string; topicId: string }, leaderEpoch = 1): UploadTarget {
  return {
    topic: topic.name,
    topicId: topic.topicId,
    partition: 0,
    dir,
    leaderEpoch,
    epochs: [{ epoch: leaderEpoch, startOffset: 0 }],
  };
}

function uploaderDeps(metadata: ArchiveMetadataStore, env: ArchiveEnv): UploaderDeps {
  return { metadata, objects: env.objects, brokerId: 0, uploadTimeoutMs: 60_000, logger: silentLogger() };
}

/** A metadata store whose commit lands in DynamoDB but whose reply is lost, like a dropped connection. */
class LostReplyMetadataStore extends ArchiveMetadataStore {
  override async commitSegment(s: RemoteSegment, fence: LeaderEpochFence, now?: number): Promise<void> {
    await super.commitSegment(s, fence, now);
    throw new Error('socket hang up');
  }
}

describe('uploadSegment', () => {
  it('uploads a log larger than one part as a multipart upload and commits it', async () => {
    const env = await emulators.fresh();
    const topic = await createTopic(env, 'multipart');
    const deps = uploaderDeps(env.metadata, env);

    const remote = await uploadSegment(targetOf(topic), segment, deps, fenceOf(env, topic, 0));

    expect((await env.objects.get(remote.keys.log)).equals(logBytes)).toBe(true);
    expect(await env.metadata.segments(topic.topicId, 0)).toEqual([
      expect.objectContaining({ uploadId: remote.uploadId, endOffset: 99 }),
    ]);
    expect(await env.metadata.uploads()).toEqual([]);
  }, 60_000);

  it('deletes its marker and objects when the leader epoch fence refuses the commit', async () => {
    const env = await emulators.fresh();
    const topic = await createTopic(env, 'fenced');
    const deps = uploaderDeps(env.metadata, env);
    // A deposed leader: its epoch (0) is older than the partition's (1).
    const stale = { ...fenceOf(env, topic, 0), leaderEpoch: 0 };

    await expect(uploadSegment(targetOf(topic, 0), segment, deps, stale)).rejects.toBeInstanceOf(
      ArchiveFencedError,
    );

    expect(await allKeys(env)).toEqual([]);
    expect(await env.metadata.uploads()).toEqual([]);
    expect(await env.metadata.segments(topic.topicId, 0)).toEqual([]);
  }, 60_000);

  it('keeps every object when the commit may have landed, so a committed segment is never emptied', async () => {
    const env = await emulators.fresh();
    const topic = await createTopic(env, 'lost-reply');
    const metadata = new LostReplyMetadataStore(env.dynamo, env.metadata.tableName);
    const deps = uploaderDeps(metadata, env);

    await expect(uploadSegment(targetOf(topic), segment, deps, fenceOf(env, topic, 0))).rejects.toThrow(
      'socket hang up',
    );

    const committed = await env.metadata.segments(topic.topicId, 0);
    expect(committed).toHaveLength(1);
    expect(await allKeys(env)).toEqual(keysOf(committed));
    expect((await env.objects.get(committed[0]!.keys.log)).equals(logBytes)).toBe(true);
  }, 60_000);
});
