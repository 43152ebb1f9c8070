import { APIS } from '../../protocol/messages/index.js';
import { CLIENT_VERSIONS, type Cluster } from '../cluster/index.js';
import { throwIfError } from '../cluster/protocol-error.js';
import { ErrorCode, KafkaProtocolError } from '../errors.js';
import { EXISTING_TOPICS, NULL_TOPIC_ID, OPERATION_TIMEOUT_MS } from './common.js';
import { describeConfigsAt } from './configs.js';
import type { NewTopic, TopicDescription } from './types.js';

/** Topic operations behind Admin (see its methods for the contracts). */

export async function createTopics(
  cluster: Cluster,
  topics: NewTopic[],
  options: { validateOnly?: boolean },
): Promise<void> {
  const response = await cluster.retry(async () => {
    const broker = await cluster.anyBroker();
    return broker.send(APIS.CreateTopics, CLIENT_VERSIONS.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.topic,
        numPartitions: t.partitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: OPERATION_TIMEOUT_MS,
      validateOnly: options.validateOnly ?? false,
    });
  });
  for (const t of response.response.topics)
    throwIfError(t.errorCode, { topic: t.name, serverMessage: t.errorMessage });
  if (!options.validateOnly)
    await waitForTopics(
      cluster,
      topics.map((t) => ({ name: t.topic })),
    );
}

export async function deleteTopics(cluster: Cluster, names: string[]): Promise<void> {
  const { response } = await cluster.retry(async () => {
    const broker = await cluster.anyBroker();
    // v6 names topics in `topics` (by name or id); earlier versions in `topicNames`.
    return broker.send(APIS.DeleteTopics, CLIENT_VERSIONS.DeleteTopics, {
      topics: names.map((name) => ({ name, topicId: NULL_TOPIC_ID })),
      topicNames: names,
      timeoutMs: OPERATION_TIMEOUT_MS,
    });
  });
  for (const t of response.responses) {
    throwIfError(t.errorCode, { topic: t.name ?? undefined, serverMessage: t.errorMessage });
  }
}

export async function listTopics(cluster: Cluster): Promise<string[]> {
  await cluster.retry(() => cluster.metadata.refresh());
  return cluster.metadata
    .topicNames()
    .filter((name) => !cluster.metadata.topic(name)?.isInternal)
    .sort();
}

export async function describeTopics(cluster: Cluster, names: string[]): Promise<TopicDescription[]> {
  return cluster.retry(async () => {
    await cluster.metadata.refresh(names);
    const configs = await describeConfigsAt(await cluster.anyBroker(), names);
    return names.map((name): TopicDescription => {
      const topic = cluster.metadata.topic(name);
      if (!topic) throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: name });
      const result = configs.get(name);
      if (result) throwIfError(result.errorCode, { topic: name, serverMessage: result.errorMessage });
      return { ...topic, configs: result?.configs ?? [] };
    });
  }, EXISTING_TOPICS);
}

export async function createPartitions(
  cluster: Cluster,
  topic: string,
  totalCount: number,
  options: { validateOnly?: boolean },
): Promise<void> {
  const { response } = await cluster.retry(async () => {
    const broker = await cluster.anyBroker();
    return broker.send(APIS.CreatePartitions, CLIENT_VERSIONS.CreatePartitions, {
      topics: [{ name: topic, count: totalCount, assignments: null }],
      timeoutMs: OPERATION_TIMEOUT_MS,
      validateOnly: options.validateOnly ?? false,
    });
  });
  for (const r of response.results)
    throwIfError(r.errorCode, { topic: r.name, serverMessage: r.errorMessage });
  if (!options.validateOnly) await waitForTopics(cluster, [{ name: topic, partitions: totalCount }]);
}

/**
 * Waits until metadata shows each topic with at least `partitions` partitions, all led. Brokers
 * learn new topics within a few hundred ms; LEADER_NOT_AVAILABLE is retriable, so retry covers it.
 */
async function waitForTopics(
  cluster: Cluster,
  topics: { name: string; partitions?: number }[],
): Promise<void> {
  await cluster.retry(async () => {
    await cluster.metadata.refresh(topics.map((t) => t.name));
    for (const { name, partitions } of topics) {
      const topic = cluster.metadata.topic(name);
      if (!topic) throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: name });
      const leaderless = topic.partitions.find((p) => p.leader < 0);
      if (leaderless || topic.partitions.length < (partitions ?? 1)) {
        throw new KafkaProtocolError(ErrorCode.LEADER_NOT_AVAILABLE, {
          topic: name,
          partition: leaderless?.partition,
        });
      }
    }
  });
}
