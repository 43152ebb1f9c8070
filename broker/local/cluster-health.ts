import { KafkaConnection } from '../../client/kafka-connection.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { APIS } from '../../protocol/messages/index.js';

const METADATA = APIS.Metadata;

export interface HealthTarget {
  nodeId: number;
  host: string;
  port: number;
}

/** Why the cluster is not healthy yet, or null when it is. */
async function unhealthyReason(brokers: readonly HealthTarget[]): Promise<string | null> {
  const expected = brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  let topicsSeen: string | undefined;
  for (const broker of brokers) {
    const connection = await KafkaConnection.connect(broker.host, broker.port, {
      clientId: 'spool-health',
      requestTimeoutMs: 5000,
    });
    try {
      const response = await connection.request(METADATA, 12, {
        topics: null,
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      // Every broker must know the same topics (one that has not caught up lists fewer).
      const topics = response.topics
        .map((t) => t.name ?? '')
        .sort()
        .join(',');
      if (topicsSeen !== undefined && topics !== topicsSeen) return `brokers disagree on topics`;
      topicsSeen = topics;
      const seen = response.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
      if (expected.some((id) => !seen.includes(id))) return `broker ${broker.nodeId} sees brokers ${seen}`;
      for (const topic of response.topics) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== ErrorCode.NONE || partition.leaderId < 0) {
            return `broker ${broker.nodeId}: ${topic.name}-${partition.partitionIndex} has no leader`;
          }
          if (partition.isrNodes.length < partition.replicaNodes.length) {
            return `broker ${broker.nodeId}: ${topic.name}-${partition.partitionIndex} is under-replicated`;
          }
        }
      }
    } finally {
      connection.close();
    }
  }
  return null;
}

/**
 * Waits until every given broker reports all of them live, and every partition with a leader and
 * a full ISR: what a client needs to use the cluster right after a (re)start. Throws with the last
 * reason after `timeoutMs`.
 */
export async function waitForClusterHealth(
  brokers: readonly HealthTarget[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason: string | null = 'not checked';
  while (Date.now() < deadline) {
    reason = await unhealthyReason(brokers).catch((error: unknown) => String(error));
    if (reason === null) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`cluster not healthy after ${timeoutMs} ms: ${reason}`);
}
