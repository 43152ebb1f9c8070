import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type MetadataRequest } from '../../../protocol/messages/index.js';
import { SCHEDULE_TOPIC, SCHEDULE_TOPIC_PARTITIONS } from '../../../protocol/schedules.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { MetadataCache } from '../../cluster/metadata-cache.js';
import type { PartitionState } from '../../cluster/partition-state-store.js';
import type { TopicRecord } from '../../cluster/topic-store.js';
import type { BrokerIdentity } from '../broker-identity.js';
import type { ApiHandler } from '../request-router.js';

const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** A fixed id for the virtual schedule topic ("spool-schedules!"). */
const SCHEDULE_TOPIC_ID = 'c3Bvb2wtc2NoZWR1bGVzIQ';

/**
 * Metadata: the live brokers, the controller, and for each requested topic (all topics when the
 * list is null) its partitions with leader, leader epoch, replicas, ISR and offline replicas, all
 * from this broker's metadata cache. For a partition this broker leads in the cached epoch the ISR
 * is the partition's own (`ledState`): the one produce requests are checked against, which can
 * trail the cache by a moment while a metadata refresh is being applied. A partition without a live leader (offline, or not placed
 * yet) reports LEADER_NOT_AVAILABLE, which clients retry. Topics are never auto-created: producers
 * must create them first (as with auto.create.topics.enable=false, which managed Kafka services
 * default to).
 */
export function metadataHandler(
  identity: BrokerIdentity,
  metadata: MetadataCache,
  /** The state of a partition this broker currently leads, if it does. */
  ledState: (topic: string, partition: number) => PartitionState | undefined = () => undefined,
): ApiHandler {
  function describe(topic: TopicRecord) {
    const liveEpochs = new Map(metadata.liveBrokers().map((b) => [b.brokerId, b.epoch]));
    return {
      errorCode: ErrorCode.NONE,
      name: topic.name,
      topicId: topic.topicId,
      isInternal: false,
      partitions: Array.from({ length: topic.partitionCount }, (_, partitionIndex) => {
        const state = metadata.partition(topic.name, partitionIndex);
        if (!state) {
          return {
            errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
            partitionIndex,
            leaderId: -1,
            leaderEpoch: -1,
            replicaNodes: [],
            isrNodes: [],
            offlineReplicas: [],
          };
        }
        // A leader elected for an earlier incarnation of its broker (it restarted, or re-registered
        // after a lapse) is not leading until the controller re-elects it.
        const leaderLive = state.leader >= 0 && liveEpochs.get(state.leader) === state.leaderBrokerEpoch;
        const led = ledState(topic.name, partitionIndex);
        const isr = led?.leaderEpoch === state.leaderEpoch ? led.isr : state.isr;
        return {
          errorCode: leaderLive ? ErrorCode.NONE : ErrorCode.LEADER_NOT_AVAILABLE,
          partitionIndex,
          leaderId: leaderLive ? state.leader : -1,
          leaderEpoch: state.leaderEpoch,
          replicaNodes: state.replicas,
          isrNodes: isr,
          offlineReplicas: state.replicas.filter((id) => !liveEpochs.has(id)),
        };
      }),
    };
  }

  /**
   * The schedule topic (delay/schedule.ts) exists when asked for by name: any broker takes its
   * produces, so each partition is "led" by a live broker in turn, just to spread the requests.
   */
  function describeScheduleTopic() {
    const brokers = liveBrokerList(identity, metadata).map((b) => b.nodeId);
    return {
      errorCode: ErrorCode.NONE,
      name: SCHEDULE_TOPIC,
      topicId: SCHEDULE_TOPIC_ID,
      isInternal: true,
      partitions: Array.from({ length: SCHEDULE_TOPIC_PARTITIONS }, (_, partitionIndex) => {
        const leader = brokers[partitionIndex % brokers.length]!;
        return {
          errorCode: ErrorCode.NONE,
          partitionIndex,
          leaderId: leader,
          leaderEpoch: 0,
          replicaNodes: [leader],
          isrNodes: [leader],
          offlineReplicas: [],
        };
      }),
    };
  }

  return {
    api: API_REGISTRY.get(3)!,
    minVersion: 0,
    maxVersion: 12,
    async handle(request: MessageValue<typeof MetadataRequest>) {
      const requested = request.topics;
      // A topic another broker just created (or whose partitions the controller just placed) must
      // not look absent or leaderless here before this broker's next poll.
      const behind = (wanted: { name: string | null; topicId: string }) => {
        const topic = wanted.name !== null ? metadata.topic(wanted.name) : metadata.topicById(wanted.topicId);
        if (!topic) return true;
        for (let p = 0; p < topic.partitionCount; p++) if (!metadata.partition(topic.name, p)) return true;
        return false;
      };
      if (requested?.some((wanted) => wanted.name !== SCHEDULE_TOPIC && behind(wanted)))
        await metadata.refreshIfOlderThan(100);
      const topics =
        requested === null
          ? metadata.topics().map(describe)
          : requested.map((wanted) => {
              if (wanted.name === SCHEDULE_TOPIC) return describeScheduleTopic();
              const topic =
                wanted.name !== null ? metadata.topic(wanted.name) : metadata.topicById(wanted.topicId);
              if (topic) return describe(topic);
              return {
                errorCode:
                  wanted.name !== null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID,
                name: wanted.name,
                topicId: wanted.topicId ?? NO_TOPIC_ID,
                isInternal: false,
                partitions: [],
              };
            });
      return {
        throttleTimeMs: 0,
        brokers: liveBrokerList(identity, metadata),
        clusterId: identity.clusterId,
        controllerId: controllerIdFor(identity, metadata),
        topics,
      };
    },
  };
}

/** Live brokers as advertised in their leases; this broker is always included (it is answering). */
export function liveBrokerList(identity: BrokerIdentity, metadata: MetadataCache) {
  const brokers = metadata.liveBrokers().map((b) => ({
    nodeId: b.brokerId,
    host: b.endpoint.host,
    port: b.endpoint.port,
    rack: b.rack,
  }));
  if (!brokers.some((b) => b.nodeId === identity.nodeId)) {
    brokers.push({ nodeId: identity.nodeId, host: identity.host, port: identity.port, rack: identity.rack });
  }
  return brokers.sort((a, b) => a.nodeId - b.nodeId);
}

/**
 * The controller to advertise. Any broker serves admin requests (topics are written straight to
 * DynamoDB), so while no controller is known this broker names itself rather than -1, which
 * clients such as kafkajs cannot route.
 */
export function controllerIdFor(identity: BrokerIdentity, metadata: MetadataCache): number {
  return metadata.controller()?.controllerId ?? identity.nodeId;
}
