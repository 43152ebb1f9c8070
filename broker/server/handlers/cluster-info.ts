import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type DescribeConfigsRequest } from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { MetadataCache } from '../../cluster/metadata-cache.js';
import { resolveTopicConfig } from '../../cluster/topic-config.js';
import type { BrokerIdentity } from '../broker-identity.js';
import type { ApiHandler } from '../request-router.js';
import { controllerIdFor, liveBrokerList } from './metadata.js';

/** Kafka's resource types and config sources, as numbers on the wire. */
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const SOURCE_TOPIC = 1;
const SOURCE_DEFAULT = 5;

/** DescribeConfigs for topics (effective values, marking which are set on the topic). */
export function describeConfigsHandler(metadata: MetadataCache): ApiHandler {
  return {
    api: API_REGISTRY.get(32)!,
    minVersion: 0,
    maxVersion: 4,
    async handle(request: MessageValue<typeof DescribeConfigsRequest>) {
      const results = request.resources.map((resource) => {
        const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
        if (resource.resourceType === RESOURCE_BROKER) {
          return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs: [] };
        }
        const topic =
          resource.resourceType === RESOURCE_TOPIC ? metadata.topic(resource.resourceName) : undefined;
        if (!topic) {
          const errorCode =
            resource.resourceType === RESOURCE_TOPIC
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.INVALID_REQUEST;
          return {
            ...base,
            errorCode,
            errorMessage: `cannot describe ${resource.resourceName}`,
            configs: [],
          };
        }
        const wanted = resource.configurationKeys;
        const configs = Object.entries(resolveTopicConfig(topic.config))
          .filter(([name]) => wanted === null || wanted.includes(name))
          .map(([name, value]) => {
            const explicit = name in topic.config;
            return {
              name,
              value: String(value),
              readOnly: false,
              isDefault: !explicit,
              configSource: explicit ? SOURCE_TOPIC : SOURCE_DEFAULT,
              isSensitive: false,
              synonyms: [],
            };
          });
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      });
      return { throttleTimeMs: 0, results };
    },
  };
}

export function describeClusterHandler(identity: BrokerIdentity, metadata: MetadataCache): ApiHandler {
  return {
    api: API_REGISTRY.get(60)!,
    minVersion: 0,
    maxVersion: 1,
    async handle() {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        clusterId: identity.clusterId,
        controllerId: controllerIdFor(identity, metadata),
        brokers: liveBrokerList(identity, metadata).map(({ nodeId, ...rest }) => ({
          brokerId: nodeId,
          ...rest,
        })),
      };
    },
  };
}
