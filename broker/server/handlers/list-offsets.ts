import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type ListOffsetsRequest } from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { Logger } from '../../common/logger.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { errorCodeFor, isUnexpected } from '../error-mapping.js';
import type { ApiHandler } from '../request-router.js';

/** Kafka's special ListOffsets timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

/**
 * ListOffsets, answered by the partition leader: the earliest offset (-2), the latest (-1, the high
 * watermark: consumers never see further), or the first visible offset whose timestamp is at or
 * after the given one; -1/-1 when every visible record is older. current_leader_epoch is fenced.
 */
export function listOffsetsHandler(replicas: ReplicaManager, logger: Logger): ApiHandler {
  async function lookup(topic: string, partition: number, timestamp: number, currentLeaderEpoch: number) {
    const { logStartOffset, highWatermark, leaderEpoch } = await replicas.offsets(
      topic,
      partition,
      currentLeaderEpoch,
    );
    if (timestamp === EARLIEST_TIMESTAMP || timestamp === LATEST_TIMESTAMP) {
      const offset = timestamp === EARLIEST_TIMESTAMP ? logStartOffset : highWatermark;
      return { offset, timestamp: -1, leaderEpoch };
    }
    if (timestamp < 0) throw new RangeError(`unsupported special timestamp ${timestamp}`);
    const found = await replicas.offsetForTimestamp(topic, partition, timestamp);
    return found ? { ...found, leaderEpoch } : { offset: -1, timestamp: -1, leaderEpoch };
  }

  return {
    api: API_REGISTRY.get(2)!,
    minVersion: 1,
    maxVersion: 6,
    async handle(request: MessageValue<typeof ListOffsetsRequest>) {
      const topics = await Promise.all(
        request.topics.map(async (topic) => ({
          name: topic.name,
          partitions: await Promise.all(
            topic.partitions.map(async (p) => {
              try {
                const found = await lookup(topic.name, p.partitionIndex, p.timestamp, p.currentLeaderEpoch);
                return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, ...found };
              } catch (error) {
                const errorCode =
                  error instanceof RangeError ? ErrorCode.INVALID_REQUEST : errorCodeFor(error);
                if (isUnexpected(errorCode))
                  logger.error({ err: error, topic: topic.name }, 'list offsets failed');
                return { partitionIndex: p.partitionIndex, errorCode, offset: -1, timestamp: -1 };
              }
            }),
          ),
        })),
      );
      return { throttleTimeMs: 0, topics };
    },
  };
}
