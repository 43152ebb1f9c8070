import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type MetadataRequest } from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { MetadataCache } from '../../cluster/metadata-cache.js';
import type { TopicRecord } from '../../cluster/topic-store.js';
import type { BrokerIdentity } from '../broker-identity.js';
import type { ApiHandler } from '../request-router.js';

const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Metadata: brokers, and for each requested topic (all topics when the list is null) its
 * partitions with leader, replicas and ISR. Topics are never auto-created: producers must create
 * them first (as with auto.create.topics.enable=false, which managed Kafka services default to).
 */
export function metadataHandler(identity: BrokerIdentity, metadata: MetadataCache): ApiHandler {
  function describe(topic: TopicRecord) {
    return {
      errorCode: ErrorCode.NONE,
      name: topic.name,
      topicId: topic.topicId,
      isInternal: false,
      partitions: Array.from({ length: topic.partitionCount }, (_, partitionIndex) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex,
        leaderId: identity.nodeId,
        leaderEpoch: 0,
        replicaNodes: [identity.nodeId],
        isrNodes: [identity.nodeId],
        offlineReplicas: [],
      })),
    };
  }

  return {
    api: API_REGISTRY.get(3)!,
    minVersion: 0,
    maxVersion: 12,
    async handle(request: MessageValue<typeof MetadataRequest>) {
      const requested = request.topics;
      const missing = (wanted: { name: string | null; topicId: string }) =>
        wanted.name !== null ? !metadata.topic(wanted.name) : !metadata.topicById(wanted.topicId);
      // The cache refreshes every second; a topic another broker just created must not look absent.
      if (requested === null || requested.some(missing)) await metadata.refresh();
      const topics =
        requested === null
          ? metadata.topics().map(describe)
          : requested.map((wanted) => {
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
        brokers: [{ nodeId: identity.nodeId, host: identity.host, port: identity.port, rack: identity.rack }],
        clusterId: identity.clusterId,
        controllerId: identity.nodeId,
        topics,
      };
    },
  };
}
