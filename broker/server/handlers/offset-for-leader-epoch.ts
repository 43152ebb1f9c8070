import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type OffsetForLeaderEpochRequest } from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { Logger } from '../../common/logger.js';
import { NotLeaderError } from '../../replication/errors.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { errorCodeFor, isUnexpected } from '../error-mapping.js';
import type { ApiHandler } from '../request-router.js';

/**
 * OffsetForLeaderEpoch (KIP-101, KIP-279): for each partition, the largest leader epoch <= the one
 * asked about and the offset where it ends in the leader's log (the log end offset for the
 * current epoch). Followers use it to find where their log diverges from the leader's; consumers
 * use it to detect truncation (KIP-320). Answered only by the leader, with current_leader_epoch
 * fenced like Fetch.
 */
export function offsetForLeaderEpochHandler(replicas: ReplicaManager, logger: Logger): ApiHandler {
  return {
    api: API_REGISTRY.get(23)!,
    minVersion: 2,
    maxVersion: 4,
    async handle(request: MessageValue<typeof OffsetForLeaderEpochRequest>) {
      const topics = request.topics.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((p) => {
          try {
            const replica = replicas.localReplica(topic.topic, p.partition);
            if (!replica?.isLeader()) throw new NotLeaderError(topic.topic, p.partition);
            replica.checkLeaderEpoch(p.currentLeaderEpoch);
            return {
              errorCode: ErrorCode.NONE,
              partition: p.partition,
              ...replica.endOffsetForEpoch(p.leaderEpoch),
            };
          } catch (error) {
            const errorCode = errorCodeFor(error);
            if (isUnexpected(errorCode))
              logger.error({ err: error, topic: topic.topic }, 'offset for leader epoch failed');
            return { errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          }
        }),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
