import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../archive/archive-objects.js';
import { partitionPrefix } from '../../archive/layout.js';
import { createDynamoDocumentClient } from '../../broker/cluster/aws-config.js';
import { tableName } from '../../broker/cluster/tables.js';
import type { DevClusterState } from '../../broker/local/dev-cluster.js';

/** Direct access to a local cluster's archive (its DynamoDB table and S3 bucket), for assertions. */
export interface ClusterArchive {
  metadata: ArchiveMetadataStore;
  objects: ArchiveObjects;
  /** Closes the clients. */
  close(): void;
}

export function openClusterArchive(state: DevClusterState): ClusterArchive {
  const dynamo = createDynamoDocumentClient({
    region: 'us-east-1',
    dynamoDbEndpoint: state.dynamoDbEndpoint,
    tablePrefix: state.tablePrefix,
  });
  const objects = new ArchiveObjects(
    createS3Client({ region: 'us-east-1', endpoint: state.s3Endpoint }),
    state.archiveBucket,
  );
  return {
    metadata: new ArchiveMetadataStore(dynamo, tableName(state.tablePrefix, 'archive')),
    objects,
    close: () => {
      dynamo.destroy();
      objects.s3.destroy();
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), which it returns; throws after the timeout. */
export async function waitForValue<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The objects under a partition's prefix that belong neither to a committed segment nor to an
 * upload still in progress (its marker unexpired), once that holds or after the timeout. Objects
 * are listed before the rows and markers are read, so an upload that commits in between is not
 * mistaken for an orphan; the check is repeated, as an upload that just failed deletes its objects
 * a moment later.
 */
export async function orphanedObjects(
  archive: Pick<ClusterArchive, 'metadata' | 'objects'>,
  topicId: string,
  partition: number,
  timeoutMs = 30_000,
): Promise<string[]> {
  let orphans: string[] = [];
  await waitForValue(
    'no orphaned objects',
    async () => {
      const stored = (await archive.objects.list(partitionPrefix(topicId, partition))).map((o) => o.key);
      const committed = (await archive.metadata.segments(topicId, partition)).flatMap((s) =>
        Object.values(s.keys),
      );
      const now = Date.now();
      const inProgress = (await archive.metadata.uploads())
        .filter((m) => m.topicId === topicId && m.partition === partition && m.expiresAt > now)
        .flatMap((m) => Object.values(m.keys));
      const referenced = new Set([...committed, ...inProgress]);
      orphans = stored.filter((key) => !referenced.has(key));
      return orphans.length === 0 ? true : undefined;
    },
    timeoutMs,
  ).catch(() => undefined);
  return orphans;
}
