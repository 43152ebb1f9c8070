import { describe, expect, it } from 'vitest';
import { topicRetentionFromStore } from '../../../archive/archive-maintenance.js';
import { partitionPrefix } from '../../../archive/layout.js';
import { applyRetention, expiredPrefix, type RetentionOptions } from '../../../archive/retention.js';
import {
  type ArchiveEnv,
  allKeys,
  commitSegment,
  commitSegments,
  createTopic,
  DAY,
  HOUR,
  keysOf,
  startUpload,
  useArchiveEmulators,
} from './archive-fixtures.js';

/**
 * Archive retention against DynamoDB Local and s3rver: the expired prefix goes (start first, then
 * objects, then rows), nothing after the first unexpired segment does, deleted topics' archives
 * go entirely, and re-runs, crashed runs and concurrent runs all end in the same state.
 */

const emulators = useArchiveEmulators();

function retention(env: ArchiveEnv, extra: Partial<RetentionOptions> = {}): RetentionOptions {
  return {
    metadata: env.metadata,
    objects: env.objects,
    topicConfigs: topicRetentionFromStore(env.topics),
    ...extra,
  };
}

describe('time retention', () => {
  it('advances the log start past the expired prefix and deletes exactly its objects and rows', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'orders', { 'retention.ms': String(HOUR) });
    const old = now - 2 * HOUR;
    // Expired, expired, NOT expired, expired, not expired: only the first two may go.
    const segments = await commitSegments(env, topic, 0, [old, old, now - 1000, old, now]);
    const other = await createTopic(env, 'fresh', { 'retention.ms': String(HOUR) });
    const kept = await commitSegments(env, other, 0, [now, now]);

    const summary = await applyRetention({ ...retention(env), now });
    expect(summary).toMatchObject({
      partitionsChecked: 2,
      logStartsAdvanced: 1,
      segmentsDeleted: 2,
      bytesDeleted: 200,
      topicsGone: 0,
      failures: 0,
      incomplete: false,
    });
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 20, nextOffset: 50 });
    expect((await env.metadata.segments(topic.topicId, 0)).map((s) => s.baseOffset)).toEqual([20, 30, 40]);
    expect(await allKeys(env)).toEqual(keysOf([...segments.slice(2), ...kept]).sort());
    expect(await env.metadata.head(other.topicId, 0)).toMatchObject({ logStartOffset: 0 });
  });

  it('uses the 14-day default and leaves topics with retention.ms=-1 alone', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const byDefault = await createTopic(env, 'default');
    await commitSegments(env, byDefault, 0, [now - 15 * DAY, now - 13 * DAY]);
    const forever = await createTopic(env, 'forever', { 'retention.ms': '-1' });
    await commitSegments(env, forever, 0, [now - 400 * DAY]);

    const summary = await applyRetention({ ...retention(env), now });
    expect(summary).toMatchObject({ segmentsDeleted: 1, logStartsAdvanced: 1, failures: 0 });
    expect(await env.metadata.head(byDefault.topicId, 0)).toMatchObject({ logStartOffset: 10 });
    expect(await env.metadata.head(forever.topicId, 0)).toMatchObject({ logStartOffset: 0 });
  });
});

describe('size retention', () => {
  it('deletes the oldest segments until the remaining bytes are within retention.bytes', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'sized', { 'retention.ms': '-1', 'retention.bytes': '250' }, 2);
    const p0 = await commitSegments(env, topic, 0, [now, now, now, now, now], 100);
    const p1 = await commitSegments(env, topic, 1, [now, now], 100);

    const summary = await applyRetention({ ...retention(env), now });
    // 500 bytes in partition 0: three segments go, 200 remain; partition 1 is within the limit.
    expect(summary).toMatchObject({
      segmentsDeleted: 3,
      bytesDeleted: 300,
      logStartsAdvanced: 1,
      failures: 0,
    });
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 30 });
    expect(await env.metadata.head(topic.topicId, 1)).toMatchObject({ logStartOffset: 0 });
    expect(await allKeys(env)).toEqual(keysOf([...p0.slice(3), ...p1]));
  });

  it('combines with time retention, still as a prefix', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'both', { 'retention.ms': String(HOUR), 'retention.bytes': '1000' });
    // Only the first is too old, and the whole partition (400 bytes) is within retention.bytes.
    await commitSegments(env, topic, 0, [now - 2 * HOUR, now, now - 2 * HOUR, now]);
    await applyRetention({ ...retention(env), now });
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 10 });
  });
});

describe('re-runs and crashes', () => {
  it('is idempotent: a second run changes nothing', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'twice', { 'retention.ms': String(HOUR) });
    const segments = await commitSegments(env, topic, 0, [now - 2 * HOUR, now - 2 * HOUR, now]);
    await applyRetention({ ...retention(env), now });
    const keys = await allKeys(env);
    const rows = await env.metadata.segments(topic.topicId, 0);

    const again = await applyRetention({ ...retention(env), now });
    expect(again).toMatchObject({ segmentsDeleted: 0, logStartsAdvanced: 0, failures: 0 });
    expect(await allKeys(env)).toEqual(keys);
    expect(await env.metadata.segments(topic.topicId, 0)).toEqual(rows);
    expect(keys).toEqual(keysOf(segments.slice(2)));
  });

  it('finishes after a crash right after advancing the start (objects and rows remain)', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'crash1', { 'retention.ms': String(HOUR) });
    const segments = await commitSegments(env, topic, 0, [now - 2 * HOUR, now - 2 * HOUR, now]);
    // The crashed run got as far as step 1. The next run checks with a clock at which nothing is
    // expired any more (retention.ms raised meanwhile, say): the rows below the start still go.
    expect(await env.metadata.advanceLogStart(topic.topicId, 0, 20)).toBe(true);
    const summary = await applyRetention({ ...retention(env), now: now - 3 * HOUR });
    expect(summary).toMatchObject({ logStartsAdvanced: 0, segmentsDeleted: 2, bytesDeleted: 200 });
    expect(await allKeys(env)).toEqual(keysOf(segments.slice(2)));
    expect((await env.metadata.segments(topic.topicId, 0)).map((s) => s.baseOffset)).toEqual([20]);
  });

  it('finishes after a crash between deleting objects and rows', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'crash2', { 'retention.ms': String(HOUR) });
    const segments = await commitSegments(env, topic, 0, [
      now - 2 * HOUR,
      now - 2 * HOUR,
      now - 2 * HOUR,
      now,
    ]);
    expect(await env.metadata.advanceLogStart(topic.topicId, 0, 20)).toBe(true);
    // Some of the first segment's objects were deleted, the second's all were.
    await env.objects.delete([segments[0]!.keys.log, ...Object.values(segments[1]!.keys)]);
    const summary = await applyRetention({ ...retention(env), now });
    expect(summary).toMatchObject({ logStartsAdvanced: 1, segmentsDeleted: 3, failures: 0 });
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 30 });
    expect(await allKeys(env)).toEqual(keysOf(segments.slice(3)));
    expect((await env.metadata.segments(topic.topicId, 0)).map((s) => s.baseOffset)).toEqual([30]);
  });

  it('never deletes below a start it has not stored: a config error deletes nothing', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'broken', { 'retention.ms': 'soon' });
    const segments = await commitSegments(env, topic, 0, [0, 0]);
    const summary = await applyRetention({ ...retention(env), now });
    // The topic exists, its config is unreadable: a failure, not a deleted topic.
    expect(summary).toMatchObject({ failures: 1, topicsGone: 0, segmentsDeleted: 0 });
    expect(await allKeys(env)).toEqual(keysOf(segments));
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 0 });
  });
});

describe('deleted topics', () => {
  it('removes every object and item of a deleted topic, and only of it', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const gone = await createTopic(env, 'gone', {}, 2);
    await commitSegments(env, gone, 0, [now, now]);
    await commitSegments(env, gone, 1, [now]);
    // An upload in flight, too: its marker and objects go with the rest.
    await startUpload(env, gone, 1, 10);
    const stays = await createTopic(env, 'stays');
    const kept = await commitSegments(env, stays, 0, [now]);
    await env.topics.delete('gone');

    const summary = await applyRetention({ ...retention(env), now });
    expect(summary).toMatchObject({ topicsGone: 1, partitionsRemoved: 2, segmentsDeleted: 3, failures: 0 });
    for (const partition of [0, 1]) {
      expect(await env.metadata.head(gone.topicId, partition)).toBeNull();
      expect(await env.metadata.segments(gone.topicId, partition)).toEqual([]);
      expect(await env.objects.list(partitionPrefix(gone.topicId, partition))).toEqual([]);
    }
    expect((await env.metadata.uploads()).filter((m) => m.topicId === gone.topicId)).toEqual([]);
    expect(await allKeys(env)).toEqual(keysOf(kept));

    // Recreating the name gives a new topic id: the old archive stays gone, the new one is kept.
    const again = await createTopic(env, 'gone');
    const fresh = await commitSegments(env, again, 0, [now]);
    expect(await applyRetention({ ...retention(env), now })).toMatchObject({ topicsGone: 0, failures: 0 });
    expect(await allKeys(env)).toEqual(keysOf([...kept, ...fresh]).sort());
  });
});

describe('concurrency', () => {
  it('two runs at once reach the same end state with no errors', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const old = now - 2 * HOUR;
    const topic = await createTopic(env, 'busy', { 'retention.ms': String(HOUR) }, 3);
    const survivors = [];
    for (const partition of [0, 1, 2]) {
      const segments = await commitSegments(env, topic, partition, [old, old, old, now, old]);
      survivors.push(...segments.slice(3));
    }
    const gone = await createTopic(env, 'gone-busy');
    await commitSegments(env, gone, 0, [now, now]);
    await env.topics.delete('gone-busy');

    const [a, b] = await Promise.all([
      applyRetention({ ...retention(env), now }),
      applyRetention({ ...retention(env), now }),
    ]);
    expect(a.failures + b.failures).toBe(0);
    for (const partition of [0, 1, 2])
      expect(await env.metadata.head(topic.topicId, partition)).toMatchObject({ logStartOffset: 30 });
    expect(await env.metadata.head(gone.topicId, 0)).toBeNull();
    expect(await allKeys(env)).toEqual(keysOf(survivors));
    const rows = await Promise.all([0, 1, 2].map((p) => env.metadata.segments(topic.topicId, p)));
    expect(rows.flat().map((s) => s.baseOffset)).toEqual([30, 40, 30, 40, 30, 40]);
  });

  it('a commit during a run survives it', async () => {
    const env = await emulators.fresh();
    const now = Date.now();
    const topic = await createTopic(env, 'appending', { 'retention.ms': String(HOUR) });
    const old = await commitSegments(env, topic, 0, [now - 2 * HOUR, now - 2 * HOUR]);
    // Everything archived so far is expired; a new segment lands while retention runs.
    const [summary, added] = await Promise.all([
      applyRetention({ ...retention(env), now }),
      commitSegment(env, topic, 0, { baseOffset: 20, endOffset: 29, maxTimestamp: now }),
    ]);
    expect(summary.failures).toBe(0);
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 20, nextOffset: 30 });
    expect(await env.metadata.segments(topic.topicId, 0)).toEqual([added]);
    expect(await allKeys(env)).toEqual(keysOf([added]));
    expect(old).toHaveLength(2);
  });
});

describe('expiredPrefix', () => {
  const segment = (maxTimestamp: number, sizeBytes = 10, committedAt = 0) =>
    ({ maxTimestamp, sizeBytes, committedAt }) as Parameters<typeof expiredPrefix>[0][number];

  it('ages a segment without timestamps from its commit', () => {
    const now = 1_000_000;
    expect(
      expiredPrefix([segment(-1, 10, now - 5000)], { retentionMs: 1000, retentionBytes: -1 }, now),
    ).toHaveLength(1);
    expect(
      expiredPrefix([segment(-1, 10, now - 500)], { retentionMs: 1000, retentionBytes: -1 }, now),
    ).toHaveLength(0);
  });

  it('lets size retention take segments time retention keeps, and retention.bytes=0 takes all', () => {
    const now = 1_000_000;
    const live = [segment(now), segment(now), segment(now)];
    expect(expiredPrefix(live, { retentionMs: -1, retentionBytes: 15 }, now)).toHaveLength(2);
    expect(expiredPrefix(live, { retentionMs: -1, retentionBytes: 0 }, now)).toHaveLength(3);
    expect(expiredPrefix(live, { retentionMs: -1, retentionBytes: -1 }, now)).toHaveLength(0);
  });
});
