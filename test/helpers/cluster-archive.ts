import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../archive/archive-objects.js';
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
