import {
  API_REGISTRY,
  type CreatePartitionsRequest,
  type CreateTopicsRequest,
  type DeleteTopicsRequest,
} from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { MetadataCache } from '../../cluster/metadata-cache.js';
import type { TopicAdmin } from '../../cluster/topic-admin.js';
import { resolveTopicConfig } from '../../cluster/topic-config.js';
import type { ApiHandler } from '../request-router.js';

const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka's DescribeConfigs/CreateTopics config source codes. */
const CONFIG_SOURCE = { topic: 1, default: 5 } as const;

export function createTopicsHandler(admin: TopicAdmin): ApiHandler {
  return {
    api: API_REGISTRY.get(19)!,
    minVersion: 0,
    maxVersion: 7,
    async handle(request: MessageValue<typeof CreateTopicsRequest>) {
      const topics = [];
      for (const topic of request.topics) {
        const configs = Object.fromEntries(topic.configs.map((c) => [c.name, c.value ?? '']));
        const outcome = await admin.create({
          name: topic.name,
          numPartitions: topic.assignments.length > 0 ? topic.assignments.length : topic.numPartitions,
          replicationFactor:
            topic.assignments.length > 0
              ? (topic.assignments[0]?.brokerIds.length ?? 1)
              : topic.replicationFactor,
          configs,
          validateOnly: request.validateOnly,
        });
        const effective = outcome.topic ? resolveTopicConfig(outcome.topic.config) : undefined;
        topics.push({
          name: topic.name,
          topicId: outcome.topic?.topicId ?? NO_TOPIC_ID,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
          numPartitions: outcome.topic?.partitionCount ?? -1,
          replicationFactor: outcome.topic?.replicationFactor ?? -1,
          configs: effective
            ? Object.entries(effective).map(([name, value]) => ({
                name,
                value: String(value),
                readOnly: false,
                configSource: name in configs ? CONFIG_SOURCE.topic : CONFIG_SOURCE.default,
                isSensitive: false,
              }))
            : null,
        });
      }
      return { throttleTimeMs: 0, topics };
    },
  };
}

export function deleteTopicsHandler(admin: TopicAdmin, metadata: MetadataCache): ApiHandler {
  return {
    api: API_REGISTRY.get(20)!,
    minVersion: 0,
    maxVersion: 6,
    async handle(request: MessageValue<typeof DeleteTopicsRequest>, version: number) {
      const names =
        version >= 6
          ? request.topics.map((t) => t.name ?? metadata.topicById(t.topicId)?.name ?? null)
          : request.topicNames;
      const responses = [];
      for (const [i, name] of names.entries()) {
        const topicId = version >= 6 ? request.topics[i]!.topicId : NO_TOPIC_ID;
        if (name === null) {
          responses.push({ name: null, topicId, errorCode: 100, errorMessage: 'unknown topic id' });
          continue;
        }
        const outcome = await admin.delete(name);
        responses.push({
          name,
          topicId: outcome.topic?.topicId ?? topicId,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
        });
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}

export function createPartitionsHandler(admin: TopicAdmin): ApiHandler {
  return {
    api: API_REGISTRY.get(37)!,
    minVersion: 0,
    maxVersion: 3,
    async handle(request: MessageValue<typeof CreatePartitionsRequest>) {
      const results = [];
      for (const topic of request.topics) {
        const outcome = await admin.addPartitions(topic.name, topic.count, request.validateOnly);
        results.push({ name: topic.name, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage });
      }
      return { throttleTimeMs: 0, results };
    },
  };
}
