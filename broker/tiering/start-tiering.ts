import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Registry } from 'prom-client';
import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../archive/archive-objects.js';
import type { BrokerConfig } from '../broker-config.js';
import type { AwsSettings } from '../cluster/aws-config.js';
import type { MetadataCache } from '../cluster/metadata-cache.js';
import { tableName } from '../cluster/tables.js';
import type { Logger } from '../common/logger.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { RemoteLogManager } from './remote-log-manager.js';

/** Builds the broker's tiering from its configuration, plugs it into the read path and starts it. */
export function startTiering(parts: {
  config: BrokerConfig;
  aws: AwsSettings;
  dynamo: DynamoDBDocumentClient;
  metadata: MetadataCache;
  replicas: ReplicaManager;
  logger: Logger;
  registry: Registry;
}): RemoteLogManager {
  const { config, aws, replicas } = parts;
  const s3 = createS3Client({ region: aws.region, ...(aws.s3Endpoint ? { endpoint: aws.s3Endpoint } : {}) });
  const manager = new RemoteLogManager(
    {
      metadata: new ArchiveMetadataStore(parts.dynamo, tableName(aws.tablePrefix, 'archive')),
      objects: new ArchiveObjects(s3, config.tiering.bucket),
      topics: parts.metadata,
      partitions: () => replicas.localPartitions(),
      brokerId: config.nodeId,
      tablePrefix: aws.tablePrefix,
      cacheDir: join(config.dataDir, 'remote-index-cache'),
      logger: parts.logger,
      registry: parts.registry,
    },
    config.tiering,
  );
  replicas.setTieredLog(manager);
  manager.start();
  return manager;
}
