import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BrokerConfig, type BrokerConfigInput, parseBrokerConfig } from './broker-config.js';
import { awsSettingsFromEnv, createDynamoDocumentClient } from './cluster/aws-config.js';
import { type ClusterMembership, startClusterMembership } from './cluster/cluster-membership.js';
import type { Controller } from './cluster/controller.js';
import type { MetadataCache } from './cluster/metadata-cache.js';
import { ensureTables } from './cluster/tables.js';
import { TopicAdmin } from './cluster/topic-admin.js';
import { resolveTopicConfig } from './cluster/topic-config.js';
import { createLogger, type Logger } from './common/logger.js';
import { DelayedDelivery } from './delay/delayed-delivery.js';
import { KafkaPromotionTarget } from './delay/kafka-promotion-target.js';
import { Promoter } from './delay/promoter.js';
import { ScheduleStore } from './delay/schedule-store.js';
import { type LiveBrokerLocator, locatorFromLiveBrokers } from './groups/coordinator-locator.js';
import { GroupCoordinator } from './groups/group-coordinator.js';
import { GroupStore } from './groups/group-store.js';
import { CloudWatchPublisher } from './monitoring/cloudwatch-publisher.js';
import { ReplicaFetcherManager } from './replication/replica-fetcher-manager.js';
import { ReplicaManager } from './replication/replica-manager.js';
import type { BrokerIdentity } from './server/broker-identity.js';
import { alterConfigsHandlers } from './server/handlers/alter-configs.js';
import { apiVersionsHandler } from './server/handlers/api-versions.js';
import { describeClusterHandler, describeConfigsHandler } from './server/handlers/cluster-info.js';
import { fetchHandler } from './server/handlers/fetch.js';
import { groupHandlers } from './server/handlers/groups.js';
import { initProducerIdHandler } from './server/handlers/init-producer-id.js';
import { listOffsetsHandler } from './server/handlers/list-offsets.js';
import { metadataHandler } from './server/handlers/metadata.js';
import { offsetForLeaderEpochHandler } from './server/handlers/offset-for-leader-epoch.js';
import { produceHandler } from './server/handlers/produce.js';
import {
  createPartitionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
} from './server/handlers/topics.js';
import { KafkaServer } from './server/kafka-server.js';
import { BrokerMetrics } from './server/metrics.js';
import { assessReadiness } from './server/readiness.js';
import { type ApiHandler, RequestRouter } from './server/request-router.js';
import { LogManager } from './storage/log-manager.js';
import { StorageMarker } from './storage/storage-marker.js';
import type { RemoteLogManager } from './tiering/remote-log-manager.js';
import { startTiering } from './tiering/start-tiering.js';

interface BrokerParts {
  config: BrokerConfig;
  identity: BrokerIdentity;
  metricsPort: number | null;
  port: number;
  logger: Logger;
  server: KafkaServer;
  metrics: BrokerMetrics;
  membership: ClusterMembership;
  metadata: MetadataCache;
  controller: Controller;
  locator: LiveBrokerLocator;
  groups: GroupCoordinator;
  replicas: ReplicaManager;
  fetchers: ReplicaFetcherManager;
  logs: LogManager;
  dynamo: DynamoDBDocumentClient;
  tiering: RemoteLogManager | undefined;
  delayed: DelayedDelivery;
  promotionTarget: KafkaPromotionTarget;
  cloudWatch: CloudWatchPublisher | undefined;
  timers: NodeJS.Timeout[];
}

/**
 * One Spool broker: its registration lease, the controller candidate, the metadata cache, the
 * partition replicas with their fetchers, the group coordinator, the Kafka listener and the
 * metrics endpoint. `Broker.start` brings them up in dependency order and `stop` tears them down
 * in reverse: stop accepting, drain, release the lease (so the controller moves leadership at
 * once), then close logs cleanly.
 */
export class Broker {
  private constructor(private readonly parts: BrokerParts) {}

  get config(): BrokerConfig {
    return this.parts.config;
  }

  get identity(): BrokerIdentity {
    return this.parts.identity;
  }

  get metricsPort(): number | null {
    return this.parts.metricsPort;
  }

  /** The port the Kafka listener is bound to. */
  get port(): number {
    return this.parts.port;
  }

  static async start(input: BrokerConfigInput, logger?: Logger): Promise<Broker> {
    const config = parseBrokerConfig(input);
    const log = (logger ?? createLogger({ level: config.logLevel })).child({ broker: config.nodeId });
    const aws = awsSettingsFromEnv(config.aws);
    const dynamo = createDynamoDocumentClient(aws);
    if (config.ensureTables) await ensureTables(dynamo, aws.tablePrefix);

    const metrics = new BrokerMetrics();
    const handlers: ApiHandler[] = [];
    const router = new RequestRouter(handlers, log, metrics);
    router.hold();
    // The listener is bound first: the lease advertises its port. Requests wait until the broker
    // is fully started (router.open below).
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

    const membership = await startClusterMembership({
      config,
      identity,
      dynamo,
      storage: await StorageMarker.open(config.dataDir),
      tablePrefix: aws.tablePrefix,
      logger: log,
    });
    const { metadata, controller, stores } = membership;
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
    const replicas = new ReplicaManager(logs, metadata, {
      localBrokerId: config.nodeId,
      brokerEpoch: () => membership.brokerEpoch(),
      leaseValid: () => membership.leaseValid(),
      writeIsr: (next, expected, applyLocally) => membership.writeIsr(next, expected, applyLocally),
      replicaLagTimeMaxMs: config.replicaLagTimeMaxMs,
      mayJoinIsr: (replicaId) => metadata.broker(replicaId)?.rejoining !== true,
      logger: log.child({ component: 'replicas' }),
    });
    const fetchers = new ReplicaFetcherManager({
      localBrokerId: config.nodeId,
      endpointOf: (id) => metadata.broker(id)?.endpoint,
      logger: log,
    });
    replicas.start(fetchers);
    const tiering = config.tiering.enabled
      ? startTiering({
          config,
          aws,
          dynamo,
          metadata,
          replicas,
          logger: log.child({ component: 'tiering' }),
          registry: metrics.registry,
        })
      : undefined;
    const hwCheckpoints = setInterval(() => void replicas.checkpoint(), 5000);

    // A broker whose lease lapsed coordinates nothing: it leaves itself out of the live set.
    // Delayed delivery: schedules in DynamoDB, promoted through this broker's own Kafka endpoint.
    const promotionTarget = new KafkaPromotionTarget({
      bootstrap: [`${identity.host}:${identity.port}`],
      clientId: `spool-broker-${config.nodeId}-delay`,
    });
    const scheduleStore = new ScheduleStore(dynamo, aws.tablePrefix);
    const delayed = new DelayedDelivery({
      store: scheduleStore,
      promoter: new Promoter(scheduleStore, promotionTarget, {
        owner: `broker-${config.nodeId}-${randomUUID()}`,
        logger: log.child({ component: 'delay' }),
      }),
      nodeId: config.nodeId,
      liveBrokerIds: () => metadata.liveBrokers().map((b) => b.brokerId),
      logger: log.child({ component: 'delay' }),
    });
    const locator = locatorFromLiveBrokers(
      config.nodeId,
      () =>
        metadata
          .liveBrokers()
          .filter((b) => b.brokerId !== config.nodeId || membership.leaseValid())
          .map((b) => ({ nodeId: b.brokerId, host: b.endpoint.host, port: b.endpoint.port })),
      (listener) => metadata.onChange(listener),
    );
    // The lease can lapse without any metadata change: re-check our own liveness often.
    const locatorRefresh = setInterval(() => locator.refresh(), config.lease.renewIntervalMs);
    const groups = new GroupCoordinator(new GroupStore(dynamo, aws.tablePrefix), {
      partitionExists: (topic, partition) => {
        const record = metadata.topic(topic);
        return record !== undefined && partition >= 0 && partition < record.partitionCount;
      },
      logger: log.child({ component: 'groups' }),
      config: config.groups,
      locator,
    });
    const admin = new TopicAdmin(stores.topics, metadata, {
      numPartitions: config.defaultPartitions,
      replicationFactor: config.defaultReplicationFactor,
      liveBrokers: () => metadata.liveBrokers().length,
      announce: async () => {
        await stores.version.bump();
      },
    });

    handlers.push(
      apiVersionsHandler(() => router.supportedApis()),
      metadataHandler(identity, metadata, (topic, partition) => {
        const local = replicas.localReplica(topic, partition);
        return local?.isLeader() ? local.state : undefined;
      }),
      produceHandler(replicas, log, delayed),
      fetchHandler(replicas, metadata, log, metrics),
      listOffsetsHandler(replicas, log),
      offsetForLeaderEpochHandler(replicas, log),
      initProducerIdHandler(membership.producerIds, log),
      createTopicsHandler(admin),
      deleteTopicsHandler(admin, metadata),
      createPartitionsHandler(admin),
      describeConfigsHandler(metadata),
      ...alterConfigsHandlers(admin, log),
      describeClusterHandler(identity, metadata),
      ...groupHandlers(groups, locator),
    );
    router.register(handlers);
    router.open();
    delayed.start();
    metrics.observe({
      connections: () => server.connectionCount,
      groups: () => groups.groupCountsByState(),
      replicas: () => ({ ...replicas.leadershipCounts(), isController: controller.isActive }),
      readiness: () =>
        assessReadiness({
          nodeId: config.nodeId,
          registered: membership.leaseValid(),
          rejoining: membership.rejoining(),
          partitions: metadata.allPartitions(),
          liveBrokerIds: new Set(metadata.liveBrokers().map((b) => b.brokerId)),
        }),
    });
    let cloudWatch: CloudWatchPublisher | undefined;
    if (config.cloudWatch) {
      cloudWatch = new CloudWatchPublisher({
        ...config.cloudWatch,
        clusterId: config.clusterId,
        brokerId: config.nodeId,
        ...(aws.region ? { region: aws.region } : {}),
        logger: log.child({ component: 'cloudwatch' }),
        sample: () => {
          const counts = replicas.leadershipCounts();
          const offline = metadata.allPartitions().filter((p) => p.leader < 0).length;
          return { ...counts, offline };
        },
      });
      cloudWatch.start();
    }
    const metricsPort =
      config.metricsPort === null ? null : await metrics.listen(config.metricsPort, config.host);
    log.info({ host: identity.host, port, metricsPort, dataDir: config.dataDir }, 'broker started');
    return new Broker({
      config,
      identity,
      metricsPort,
      port,
      logger: log,
      server,
      metrics,
      membership,
      metadata,
      controller,
      locator,
      groups,
      replicas,
      fetchers,
      logs,
      dynamo,
      tiering,
      delayed,
      promotionTarget,
      cloudWatch,
      timers: [hwCheckpoints, locatorRefresh],
    });
  }

  /** Graceful shutdown: stop accepting, drain in-flight requests, hand over leadership, close logs. */
  async stop(): Promise<void> {
    const p = this.parts;
    p.logger.info('broker stopping');
    for (const timer of p.timers) clearInterval(timer);
    await p.cloudWatch?.stop();
    await p.controller.stop();
    await p.delayed.stop();
    await p.promotionTarget.close();
    // Pending joins and syncs can wait a whole rebalance timeout; answer them first so the
    // listener's drain completes promptly.
    await p.groups.close();
    p.locator.close();
    await p.server.close();
    await p.fetchers.close();
    await p.tiering?.stop();
    await p.replicas.close();
    await p.membership.stop();
    await p.metrics.close();
    await p.logs.close();
    p.dynamo.destroy();
    p.logger.info('broker stopped');
  }
}
