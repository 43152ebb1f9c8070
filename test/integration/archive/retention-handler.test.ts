import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRetentionHandler } from '../../../lambdas/retention/handler.js';
import {
  type ArchiveEnv,
  allKeys,
  commitSegments,
  createTopic,
  HOUR,
  keysOf,
  startUpload,
  useArchiveEmulators,
} from './archive-fixtures.js';

/**
 * The retention Lambda handler, configured through its environment as in AWS, against DynamoDB
 * Local and s3rver: one scheduled event runs retention and the orphan sweep.
 */

const emulators = useArchiveEmulators();
const SCHEDULED_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

function configure(env: ArchiveEnv): void {
  vi.stubEnv('SPOOL_TABLE_PREFIX', env.prefix);
  vi.stubEnv('SPOOL_ARCHIVE_BUCKET', env.bucket);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', env.dynamoEndpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_S3', env.s3Endpoint);
  vi.stubEnv('SPOOL_LOG_LEVEL', 'silent');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('retention Lambda handler', () => {
  it('applies retention, removes deleted topics and sweeps expired uploads', async () => {
    const env = await emulators.fresh();
    configure(env);
    const now = Date.now();
    const topic = await createTopic(env, 'events', { 'retention.ms': String(HOUR) });
    const segments = await commitSegments(env, topic, 0, [now - 2 * HOUR, now]);
    await startUpload(env, topic, 0, 20, { expiresAt: now - 1 });
    const gone = await createTopic(env, 'gone');
    await commitSegments(env, gone, 0, [now]);
    await env.topics.delete('gone');

    const handler = createRetentionHandler();
    const summary = await handler(SCHEDULED_EVENT, { getRemainingTimeInMillis: () => 60_000 });
    expect(summary.retention).toMatchObject({
      partitionsChecked: 2,
      logStartsAdvanced: 1,
      segmentsDeleted: 2,
      topicsGone: 1,
      failures: 0,
      incomplete: false,
    });
    expect(summary.orphans).toMatchObject({ expiredUploads: 1, failures: 0, incomplete: false });
    expect(await env.metadata.head(topic.topicId, 0)).toMatchObject({ logStartOffset: 10 });
    expect(await allKeys(env)).toEqual(keysOf(segments.slice(1)));

    // The container's clients are reused by the next invocation, which finds nothing to do.
    const again = await handler(SCHEDULED_EVENT, { getRemainingTimeInMillis: () => 60_000 });
    expect(again.retention).toMatchObject({ segmentsDeleted: 0, logStartsAdvanced: 0, failures: 0 });
    expect(again.orphans).toMatchObject({ expiredUploads: 0, orphansDeleted: 0, failures: 0 });
  });

  it('stops starting partitions near the Lambda timeout and reports the run incomplete', async () => {
    const env = await emulators.fresh();
    configure(env);
    const topic = await createTopic(env, 'late', { 'retention.ms': '0' });
    const segments = await commitSegments(env, topic, 0, [0]);
    const summary = await createRetentionHandler()(SCHEDULED_EVENT, { getRemainingTimeInMillis: () => 0 });
    expect(summary.retention).toMatchObject({ incomplete: true, partitionsChecked: 0 });
    expect(summary.orphans).toMatchObject({ incomplete: true });
    expect(await allKeys(env)).toEqual(keysOf(segments));
  });
});
