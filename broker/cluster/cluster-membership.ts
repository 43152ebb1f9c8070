import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BrokerConfig } from '../broker-config.js';
import type { Logger } from '../common/logger.js';
import type { BrokerIdentity } from '../server/broker-identity.js';
import type { StorageMarker } from '../storage/storage-marker.js';
import { BrokerLease, listLiveBrokers } from './broker-lease.js';
import { Controller } from './controller.js';
import { ControllerLease } from './controller-lease.js';
import { MetadataCache } from './metadata-cache.js';
import { MetadataVersion } from './metadata-version.js';
import { type PartitionState, PartitionStateStore } from './partition-state-store.js';
import { ProducerIdAllocator } from './producer-id-store.js';
import { completeStorageRejoin } from './storage-rejoin.js';
import { TopicStore } from './topic-store.js';

export interface ClusterStores {
  topics: TopicStore;
  partitions: PartitionStateStore;
  version: MetadataVersion;
}

export interface ClusterMembership {
  stores: ClusterStores;
  metadata: MetadataCache;
  controller: Controller;
  producerIds: ProducerIdAllocator;
  /** The epoch of this broker's current registration (one per incarnation). */
  brokerEpoch(): number;
  /** False from the moment this broker's lease may have lapsed until it has re-registered. */
  leaseValid(): boolean;
  /** Registered as rejoining with a new data directory, and not finished yet (storage-rejoin.ts). */
  rejoining(): boolean;
  /**
   * Writes a leader's ISR change, fenced by this broker's lease, applies it to the local partition,
   * and only then announces it in this broker's metadata.
   */
  writeIsr(next: PartitionState, expectedVersion: number, applyLocally: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Joins the cluster: registers this broker (waiting out a previous incarnation's lease after a
 * crash), starts the metadata cache and the controller candidate. If the registration is ever
 * lost (paused past the lease, DynamoDB unreachable), the broker stops leading at once (partitions
 * check `leaseValid`) and registers again as a new incarnation; the controller then sees a new
 * broker epoch and re-elects the partitions it led.
 */
export async function startClusterMembership(options: {
  config: BrokerConfig;
  identity: BrokerIdentity;
  dynamo: DynamoDBDocumentClient;
  tablePrefix: string;
  /** The data directory's marker: without it, this broker registers as rejoining (storage-rejoin.ts). */
  storage: StorageMarker;
  logger: Logger;
}): Promise<ClusterMembership> {
  const { config, identity, dynamo, tablePrefix, storage, logger } = options;
  const stores: ClusterStores = {
    topics: new TopicStore(dynamo, tablePrefix),
    partitions: new PartitionStateStore(dynamo, tablePrefix),
    version: new MetadataVersion(dynamo, tablePrefix),
  };
  const endpoint = { host: identity.host, port: identity.port };
  const log = logger.child({ component: 'membership' });
  let stopped = false;
  let lease: BrokerLease;

  let fenced: { incarnation: string; epoch: number } | undefined;
  const register = async (): Promise<void> => {
    const next = new BrokerLease(dynamo, tablePrefix, {
      ...config.lease,
      ...(fenced ? { succeeds: fenced } : {}),
      brokerId: config.nodeId,
      endpoint,
      rack: config.rack,
      rejoining: !storage.present,
      logger: log,
      onFenced: (error) => {
        // Only our own fenced incarnation may be succeeded at once; one taken over by another
        // process is not ours to replace.
        fenced =
          error.reason === 'expired' ? { incarnation: error.incarnation, epoch: error.epoch } : undefined;
        log.error({ reason: error.reason }, 'broker lease lost: stopped leading; registering again');
        void reRegister();
      },
    });
    // A previous incarnation (crashed, or paused) may still hold the lease: wait it out.
    await next.acquire({ waitMs: 2 * (config.lease.leaseMs + config.lease.clockSkewMarginMs) + 5000 });
    next.start();
    lease = next;
    await stores.version.bump();
  };
  const reRegister = async (): Promise<void> => {
    while (!stopped) {
      try {
        await register();
        return;
      } catch (error) {
        log.warn({ err: error }, 'broker registration failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, config.lease.renewIntervalMs));
      }
    }
  };
  await register();
  let rejoined = storage.present;
  const rejoin = storage.present
    ? Promise.resolve()
    : completeStorageRejoin({
        nodeId: config.nodeId,
        marker: storage,
        listPartitions: () => stores.partitions.list(),
        // The registration current at the time: a re-registration after a lost lease is flagged
        // again (the marker is still absent) and cleared by the same loop.
        markRejoined: () => lease.markRejoined(),
        stopped: () => stopped,
        logger: log,
      }).then((done) => {
        rejoined = done;
      });

  const metadata = new MetadataCache(
    {
      readVersion: () => stores.version.read(),
      listTopics: () => stores.topics.list(),
      listPartitions: () => stores.partitions.list(),
      listLiveBrokers: () => listLiveBrokers(dynamo, tablePrefix),
      currentController: () => ControllerLease.current(dynamo, tablePrefix),
    },
    { watchMs: config.metadataWatchMs, logger: log },
  );
  await metadata.start();
  const controller = new Controller(
    { client: dynamo, tablePrefix, ...stores },
    {
      brokerId: config.nodeId,
      endpoint,
      lease: config.lease,
      reconcileMs: config.controllerIntervalMs,
      logger,
    },
  );
  controller.start();

  return {
    stores,
    metadata,
    controller,
    producerIds: new ProducerIdAllocator(dynamo, tablePrefix),
    brokerEpoch: () => lease.epoch,
    leaseValid: () => lease.isValid(),
    rejoining: () => !rejoined,
    async writeIsr(next, expectedVersion, applyLocally) {
      await stores.partitions.update(next, expectedVersion, {
        key: lease.key,
        incarnation: lease.incarnation,
        epoch: lease.epoch,
      });
      await applyLocally();
      metadata.putPartition(next);
      await stores.version.bump();
    },
    async stop() {
      stopped = true;
      await rejoin;
      metadata.stop();
      await lease.release().catch((error: unknown) => log.warn({ err: error }, 'releasing lease failed'));
    },
  };
}
