import { describe, expect, it } from 'vitest';
import { segmentObjectKeys } from '../../../archive/layout.js';
import { sweepOrphans } from '../../../archive/orphan-sweep.js';
import type { RemoteSegment } from '../../../archive/remote-segment.js';
import {
  allKeys,
  commitSegments,
  createTopic,
  fenceOf,
  HOUR,
  keysOf,
  putObjects,
  startUpload,
  useArchiveEmulators,
} from './archive-fixtures.js';

/**
 * The orphan sweep against DynamoDB Local and s3rver: expired uploads lose their marker and then
 * their objects; unexpired uploads and committed segments keep theirs; unreferenced objects go
 * once past the grace period, and never anything outside the archive's layout.
 */

const emulators = useArchiveEmulators();

describe('expired upload markers', () => {
  it('deletes the marker, then its objects; unexpired uploads and committed segments are kept', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'uploads');
    const committed = await commitSegments(env, topic, 0, [now, now]);
    const expired = await startUpload(env, topic, 0, 20, { expiresAt: now - 1000 });
    const running = await startUpload(env, topic, 0, 20, { expiresAt: now + HOUR });

    const summary = await sweepOrphans({ metadata: env.metadata, objects: env.objects });
    expect(summary).toMatchObject({
      expiredUploads: 1,
      expiredUploadObjects: 5,
      orphansDeleted: 0,
      failures: 0,
    });
    expect((await env.metadata.uploads()).map((m) => m.uploadId)).toEqual([running.uploadId]);
    expect(await allKeys(env)).toEqual(keysOf([...committed, running]));
    expect(await env.objects.list(`${expired.topicId}/0/`)).not.toContainEqual(
      expect.objectContaining({ key: expired.keys.log }),
    );

    // The running upload still commits afterwards, and a second sweep finds nothing to do.
    const segment: RemoteSegment = {
      topic: topic.name,
      topicId: topic.topicId,
      partition: 0,
      baseOffset: 20,
      endOffset: 29,
      sizeBytes: 100,
      maxTimestamp: now,
      leaderEpoch: 1,
      epochs: [{ epoch: 1, startOffset: 20 }],
      uploadId: running.uploadId,
      keys: running.keys,
      committedAt: Date.now(),
    };
    await env.metadata.commitSegment(segment, fenceOf(env, topic, 0));
    const again = await sweepOrphans({ metadata: env.metadata, objects: env.objects });
    expect(again).toMatchObject({ expiredUploads: 0, orphansDeleted: 0, failures: 0 });
    expect(await allKeys(env)).toEqual(keysOf([...committed, running]));
  });

  it('leaves an expired-looking marker alone once its upload committed', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'late');
    const committed = await commitSegments(env, topic, 0, [now]);
    // A cleaner whose marker list is stale: the marker was consumed by the commit.
    const ended = await env.metadata.endUpload(
      { topicId: topic.topicId, partition: 0, uploadId: committed[0]!.uploadId },
      now + HOUR,
    );
    expect(ended).toBe(false);
    expect(await allKeys(env)).toEqual(keysOf(committed));
  });
});

describe('unreferenced objects', () => {
  it('deletes those older than the grace period and keeps younger ones and referenced ones', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'orphans', {}, 2);
    const committed = await commitSegments(env, topic, 0, [now, now]);
    const running = await startUpload(env, topic, 1, 0, { expiresAt: now + 10 * HOUR });
    // Left by a cleaner that crashed between deleting a marker and its objects (partition 0 has a
    // head), and by an uploader that crashed after its marker was taken (partition 1 has a marker).
    const stray = segmentObjectKeys(topic.topicId, 0, 20, 1, 'crashed-cleaner');
    await putObjects(env, stray, 50);
    const abandoned = segmentObjectKeys(topic.topicId, 1, 0, 1, 'crashed-uploader');
    await putObjects(env, abandoned, 50);
    // A deleted topic's stragglers: no head, no marker, no rows. Only a bucket that lists nested
    // common prefixes (S3, LocalStack) reveals such a partition; s3rver does not.
    const leftover = segmentObjectKeys('deletedTopicId', 3, 0, 1, 'leftover');
    await putObjects(env, leftover, 50);
    const discoverable = (await env.objects.listPrefixes('')).includes('deletedTopicId/');
    // Keys outside the archive's layout are never touched.
    await env.objects.put('notes/readme.txt', Buffer.from('not ours'));
    await env.objects.put('top-level.txt', Buffer.from('not ours'));

    // Within the grace period nothing unreferenced goes.
    const early = await sweepOrphans({ metadata: env.metadata, objects: env.objects });
    expect(early).toMatchObject({ orphansDeleted: 0, failures: 0, partitionsScanned: discoverable ? 3 : 2 });

    // Two hours on, with the default one-hour grace: only the unreferenced layout objects go.
    const later = await sweepOrphans({ metadata: env.metadata, objects: env.objects, now: now + 2 * HOUR });
    const orphans = discoverable ? 3 : 2;
    expect(later).toMatchObject({
      orphansDeleted: 5 * orphans,
      orphanBytesDeleted: orphans * (50 + 28),
      failures: 0,
    });
    expect(await allKeys(env)).toEqual(
      [
        ...keysOf([...committed, running, ...(discoverable ? [] : [{ keys: leftover }])]),
        'notes/readme.txt',
        'top-level.txt',
      ].sort(),
    );
  });

  it('splits by age at the grace period', async () => {
    const env = await emulators.fresh();
    const topic = await createTopic(env, 'ages');
    const committed = await commitSegments(env, topic, 0, [Date.now()]);
    const older = segmentObjectKeys(topic.topicId, 0, 0, 1, 'older');
    await putObjects(env, older, 10);
    // S3 timestamps may have one-second resolution; make the two groups clearly apart.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const younger = segmentObjectKeys(topic.topicId, 0, 0, 1, 'younger');
    await putObjects(env, younger, 10);
    const listed = await env.objects.list('');
    const newestOld = Math.max(...listed.filter((o) => o.key.includes('older')).map((o) => o.lastModified));
    const oldestYoung = Math.min(
      ...listed.filter((o) => o.key.includes('younger')).map((o) => o.lastModified),
    );
    expect(oldestYoung).toBeGreaterThan(newestOld);

    const graceMs = 10 * HOUR;
    const summary = await sweepOrphans({
      metadata: env.metadata,
      objects: env.objects,
      graceMs,
      now: Math.floor((newestOld + oldestYoung) / 2) + graceMs,
    });
    expect(summary).toMatchObject({ orphansDeleted: 5, failures: 0 });
    expect(await allKeys(env)).toEqual(keysOf([...committed, { keys: younger }]));
  });
});
