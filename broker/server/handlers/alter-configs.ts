import { ErrorCode } from '../../../protocol/error-codes.js';
import {
  type AlterConfigsRequest,
  API_REGISTRY,
  ConfigOperation,
  type IncrementalAlterConfigsRequest,
} from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { ConfigAlteration, ConfigChange, TopicAdmin } from '../../cluster/topic-admin.js';
import type { Logger } from '../../common/logger.js';
import { errorCodeFor, isUnexpected } from '../error-mapping.js';
import type { ApiHandler } from '../request-router.js';

/** Kafka's config resource types, as numbers on the wire. */
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;

interface ResourceResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

interface Resource<C> {
  resourceType: number;
  resourceName: string;
  configs: readonly C[];
}

/**
 * AlterConfigs (33) and IncrementalAlterConfigs (44), for topics. Each resource gets its own
 * error code, as in Kafka: request mistakes (duplicate resources or keys, null values, unknown
 * operations, resource types other than TOPIC) are INVALID_REQUEST, values that do not validate
 * are INVALID_CONFIG, a missing topic is UNKNOWN_TOPIC_OR_PARTITION. Spool has no dynamically
 * alterable broker configs, so BROKER resources are refused rather than silently ignored.
 */
export function alterConfigsHandlers(admin: TopicAdmin, logger: Logger): ApiHandler[] {
  const alterConfigs: ApiHandler = {
    api: API_REGISTRY.get(33)!,
    minVersion: 0,
    maxVersion: 2,
    async handle(request: MessageValue<typeof AlterConfigsRequest>) {
      const responses = await alterEach(request.resources, logger, (resource) => {
        const nulls = resource.configs.filter((c) => c.value === null).map((c) => c.name);
        if (nulls.length > 0) return `null values are not supported for topic configs: ${nulls.join(', ')}`;
        const configs = Object.fromEntries(resource.configs.map((c) => [c.name, c.value ?? '']));
        return (topic) => admin.alterConfig(topic, { kind: 'replace', configs }, request.validateOnly);
      });
      return { throttleTimeMs: 0, responses };
    },
  };

  const incrementalAlterConfigs: ApiHandler = {
    api: API_REGISTRY.get(44)!,
    minVersion: 0,
    maxVersion: 1,
    async handle(request: MessageValue<typeof IncrementalAlterConfigsRequest>) {
      const responses = await alterEach(request.resources, logger, (resource) => {
        const changes: ConfigChange[] = [];
        for (const { name, configOperation, value } of resource.configs) {
          if (configOperation === ConfigOperation.DELETE) {
            changes.push({ op: 'delete', name });
            continue;
          }
          const op = OPERATIONS.get(configOperation);
          if (op === undefined) return `unknown config operation ${configOperation} for ${name}`;
          if (value === null) return `null value not supported for ${name} (use DELETE to reset it)`;
          changes.push({ op, name, value });
        }
        const alteration: ConfigAlteration = { kind: 'incremental', changes };
        return (topic) => admin.alterConfig(topic, alteration, request.validateOnly);
      });
      return { throttleTimeMs: 0, responses };
    },
  };

  return [alterConfigs, incrementalAlterConfigs];
}

const OPERATIONS = new Map<number, 'set' | 'append' | 'subtract'>([
  [ConfigOperation.SET, 'set'],
  [ConfigOperation.APPEND, 'append'],
  [ConfigOperation.SUBTRACT, 'subtract'],
]);

/**
 * Runs the checks both APIs share and then each topic's alteration, one resource after another.
 * `prepare` either returns an INVALID_REQUEST message or the alteration to run for the topic.
 */
async function alterEach<C extends { name: string }>(
  resources: readonly Resource<C>[],
  logger: Logger,
  prepare: (
    resource: Resource<C>,
  ) => string | ((topic: string) => Promise<{ errorCode: number; errorMessage: string | null }>),
): Promise<ResourceResult[]> {
  const seen = new Map<string, number>();
  for (const r of resources) {
    const key = `${r.resourceType}:${r.resourceName}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const results: ResourceResult[] = [];
  for (const resource of resources) {
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    const invalid = (errorMessage: string) =>
      results.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage });
    if (resource.resourceType === RESOURCE_BROKER) {
      invalid(
        `Spool brokers have no dynamically alterable configs (broker ${resource.resourceName}); only topic configs can be altered`,
      );
      continue;
    }
    if (resource.resourceType !== RESOURCE_TOPIC) {
      invalid(
        `resource type ${resource.resourceType} is not supported; only topic (2) configs can be altered`,
      );
      continue;
    }
    if ((seen.get(`${resource.resourceType}:${resource.resourceName}`) ?? 0) > 1) {
      invalid(`topic ${resource.resourceName} appears more than once in the request`);
      continue;
    }
    const names = resource.configs.map((c) => c.name);
    const duplicates = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
    if (duplicates.length > 0) {
      invalid(`duplicate config keys for topic ${resource.resourceName}: ${duplicates.join(', ')}`);
      continue;
    }
    const alteration = prepare(resource);
    if (typeof alteration === 'string') {
      invalid(alteration);
      continue;
    }
    try {
      const outcome = await alteration(resource.resourceName);
      results.push({ ...base, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage });
    } catch (error) {
      const errorCode = errorCodeFor(error);
      if (isUnexpected(errorCode))
        logger.error({ err: error, topic: resource.resourceName }, 'alter configs failed');
      results.push({
        ...base,
        errorCode,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}
