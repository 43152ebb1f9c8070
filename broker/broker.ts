import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BrokerConfig, type BrokerConfigInput, parseBrokerConfig } from './broker-config.js';
import { awsSettingsFromEnv, createDynamoDocumentClient } from './cluster/aws-config.js';
import { MetadataCache } from './cluster/metadata-cache.js';
import { ensureTables } from './cluster/tables.js';
import { TopicAdmin } from './cluster/topic-admin.js';
import { resolveTopicConfig } from './cluster/topic-config.js';
import { TopicStore } from './cluster/topic-store.js';
import { createLogger, type Logger } from './common/logger.js';
import { GroupCoordinator } from './groups/group-coordinator.js';
import { GroupStore } from './groups/group-store.js';
import { ReplicaManager } from './replication/replica-manager.js';
import type { BrokerIdentity } from './server/broker-identity.js';
import { apiVersionsHandler } from './server/handlers/api-versions.js';
import { describeClusterHandler, describeConfigsHandler } from './server/handlers/cluster-info.js';
import { fetchHandler } from './server/handlers/fetch.js';
import { groupHandlers } from './server/handlers/groups.js';
import { listOffsetsHandler } from './server/handlers/list-offsets.js';
import { metadataHandler } from './server/handlers/metadata.js';
import { produceHandler } from './server/handlers/produce.js';
import {
  createPartitionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
} from './server/handlers/topics.js';
import { KafkaServer } from './server/kafka-server.js';
import { BrokerMetrics } from './server/metrics.js';
import { type ApiHandler, RequestRouter } from './server/request-router.js';
import { LogManager } from './storage/log-manager.js';

/**
 * One Spool broker: storage, DynamoDB-backed metadata, the Kafka listener and the metrics
 * endpoint, wired together. `Broker.start` brings them up in dependency order and `stop` tears
 * them down in reverse, draining in-flight requests and closing logs cleanly.
 */
export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly identity: BrokerIdentity,
    readonly metricsPort: number | null,
    private readonly boundPort: number,
    private readonly logger: Logger,
    private readonly server: KafkaServer,
    private readonly metrics: BrokerMetrics,
    private readonly metadata: MetadataCache,
    private readonly groups: GroupCoordinator,
    private readonly logs: LogManager,
    private readonly dynamo: DynamoDBDocumentClient,
  ) {}

  /** The port the Kafka listener is bound to. */
  get port(): number {
    return this.boundPort;
  }

  static async start(input: BrokerConfigInput, logger?: Logger): Promise<Broker> {
    const config = parseBrokerConfig(input);
    const log = (logger ?? createLogger({ level: config.logLevel })).child({ broker: config.nodeId });
    const aws = awsSettingsFromEnv(config.aws);
    const dynamo = createDynamoDocumentClient(aws);
    await ensureTables(dynamo, aws.tablePrefix);
    const store = new TopicStore(dynamo, aws.tablePrefix);
    const metadata = new MetadataCache(store);
    await metadata.start();
    const groups = new GroupCoordinator(new GroupStore(dynamo, aws.tablePrefix), {
      partitionExists: (topic, partition) => {
        const record = metadata.topic(topic);
        return record !== undefined && partition >= 0 && partition < record.partitionCount;
      },
      logger: log.child({ component: 'groups' }),
      config: config.groups,
    });

    const logs = await LogManager.open(config.dataDir, {
      defaults: { flush: config.flush },
      maxOpenFiles: config.maxOpenFiles,
      logger: log,
      configFor: ({ topic }) => {
        const record = metadata.topic(topic);
        if (!record) return undefined;
        const topicConfig = resolveTopicConfig(record.config);
        return { segmentBytes: topicConfig['segment.bytes'], segmentMs: topicConfig['segment.ms'] };
      },
    });
    const replicas = new ReplicaManager(logs, metadata, log);
    const admin = new TopicAdmin(
      store,
      metadata,
      {
        numPartitions: config.defaultPartitions,
        replicationFactor: config.defaultReplicationFactor,
        liveBrokers: () => 1,
      },
      (topic) => replicas.deleteTopic(topic.name, topic.partitionCount),
    );

    const metrics = new BrokerMetrics();
    const handlers: ApiHandler[] = [];
    const router = new RequestRouter(handlers, log, metrics);
    // The listener must be bound before Metadata can advertise its port.
    const server = new KafkaServer(
      router,
      {
        maxRequestBytes: config.maxRequestBytes,
        maxInFlightRequests: config.maxInFlightRequestsPerConnection,
      },
      log,
    );
    const port = await server.listen(config.port, config.host);
    const identity: BrokerIdentity = {
      nodeId: config.nodeId,
      host: config.advertisedHost ?? config.host,
      port: config.advertisedPort ?? port,
      rack: config.rack,
      clusterId: config.clusterId,
    };
    handlers.push(
      apiVersionsHandler(() => router.supportedApis()),
      metadataHandler(identity, metadata),
      produceHandler(replicas, log),
      fetchHandler(replicas, metadata, log),
      listOffsetsHandler(replicas, log),
      createTopicsHandler(admin),
      deleteTopicsHandler(admin, metadata),
      createPartitionsHandler(admin),
      describeConfigsHandler(metadata),
      describeClusterHandler(identity),
      ...groupHandlers(groups, identity),
    );
    router.register(handlers);
    metrics.observe({ connections: () => server.connectionCount, groups: () => groups.groupCountsByState() });
    const metricsPort =
      config.metricsPort === null ? null : await metrics.listen(config.metricsPort, config.host);
    log.info({ host: identity.host, port, metricsPort, dataDir: config.dataDir }, 'broker started');
    return new Broker(
      config,
      identity,
      metricsPort,
      port,
      log,
      server,
      metrics,
      metadata,
      groups,
      logs,
      dynamo,
    );
  }

  /** Graceful shutdown: stop accepting, drain in-flight requests, close logs cleanly. */
  async stop(): Promise<void> {
    this.logger.info('broker stopping');
    // Pending joins and syncs can wait a whole rebalance timeout; answer them first so the
    // listener's drain completes promptly.
    await this.groups.close();
    await this.server.close();
    this.metadata.stop();
    await this.metrics.close();
    await this.logs.close();
    this.dynamo.destroy();
    this.logger.info('broker stopped');
  }
}
