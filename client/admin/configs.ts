import { APIS, ConfigOperation } from '../../protocol/messages/index.js';
import { type BrokerConnection, CLIENT_VERSIONS, type Cluster } from '../cluster/index.js';
import { throwIfError } from '../cluster/protocol-error.js';
import { ErrorCode, KafkaProtocolError } from '../errors.js';
import { EXISTING_TOPICS, RESOURCE_TOPIC, sleep } from './common.js';
import type { AlterConfigsOptions, ConfigEntry, ConfigSource } from './types.js';

/** Topic config operations behind Admin: DescribeConfigs and IncrementalAlterConfigs. */

/** DescribeConfigs v1+ config sources, by wire number. */
const CONFIG_SOURCES: ReadonlyMap<number, ConfigSource> = new Map([
  [1, 'topic'],
  [2, 'dynamic-broker'],
  [3, 'dynamic-default-broker'],
  [4, 'static-broker'],
  [5, 'default'],
]);

/** How long alterConfigs waits, at most, for every broker to serve the new values. */
const PROPAGATION_WAIT_MS = 5_000;

export interface DescribedConfigs {
  errorCode: number;
  errorMessage: string | null;
  configs: ConfigEntry[];
}

/** The effective configs of `topics` as `broker` sees them (its metadata cache), by topic. */
export async function describeConfigsAt(
  broker: BrokerConnection,
  topics: readonly string[],
  keys: string[] | null = null,
): Promise<Map<string, DescribedConfigs>> {
  const { response } = await broker.send(APIS.DescribeConfigs, CLIENT_VERSIONS.DescribeConfigs, {
    resources: topics.map((name) => ({
      resourceType: RESOURCE_TOPIC,
      resourceName: name,
      configurationKeys: keys,
    })),
  });
  const described = new Map<string, DescribedConfigs>();
  for (const result of response.results) {
    described.set(result.resourceName, {
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      configs: result.configs.map((c) => {
        // v0 has only isDefault; v1+ reports the source (configSource -1 means absent).
        const source: ConfigSource =
          c.configSource === -1
            ? c.isDefault
              ? 'default'
              : 'unknown'
            : (CONFIG_SOURCES.get(c.configSource) ?? 'unknown');
        return {
          name: c.name,
          value: c.value,
          isDefault: source === 'default',
          readOnly: c.readOnly,
          sensitive: c.isSensitive,
          source,
        };
      }),
    });
  }
  return described;
}

/**
 * IncrementalAlterConfigs for one topic: SET for values, DELETE for nulls. Retriable errors
 * (lost connections, a broker that gave up on concurrent writers) are retried; the operations are
 * idempotent. Unless validateOnly, then waits (best effort, a few seconds at most) until every
 * live broker serves what the broker that applied the change serves.
 */
export async function alterTopicConfigs(
  cluster: Cluster,
  topic: string,
  configs: Record<string, string | null>,
  options: AlterConfigsOptions,
): Promise<void> {
  const entries = Object.entries(configs);
  if (entries.length === 0) return;
  const validateOnly = options.validateOnly ?? false;
  const applied = await cluster.retry(async () => {
    const broker = await cluster.anyBroker();
    const { response } = await broker.send(
      APIS.IncrementalAlterConfigs,
      CLIENT_VERSIONS.IncrementalAlterConfigs,
      {
        resources: [
          {
            resourceType: RESOURCE_TOPIC,
            resourceName: topic,
            configs: entries.map(([name, value]) =>
              value === null
                ? { name, configOperation: ConfigOperation.DELETE, value: null }
                : { name, configOperation: ConfigOperation.SET, value },
            ),
          },
        ],
        validateOnly,
      },
    );
    const result = response.responses.find(
      (r) => r.resourceType === RESOURCE_TOPIC && r.resourceName === topic,
    );
    if (!result) {
      throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, {
        topic,
        serverMessage: 'IncrementalAlterConfigs returned no result for the topic',
      });
    }
    throwIfError(result.errorCode, { topic, serverMessage: result.errorMessage });
    return broker;
  }, EXISTING_TOPICS);
  if (!validateOnly)
    await waitForPropagation(
      cluster,
      applied,
      topic,
      entries.map(([name]) => name),
    );
}

/**
 * Brokers learn metadata changes by polling (within a few hundred ms); until they do, they still
 * apply the old values (e.g. max.message.bytes on produce). Waits until each live broker describes
 * `keys` as the broker that applied the change does. Best effort: the change is made either way,
 * so failures and a slow broker end the wait silently.
 */
async function waitForPropagation(
  cluster: Cluster,
  applied: BrokerConnection,
  topic: string,
  keys: string[],
): Promise<void> {
  const deadline = Date.now() + PROPAGATION_WAIT_MS;
  const signature = async (broker: BrokerConnection) => {
    const described = (await describeConfigsAt(broker, [topic], keys)).get(topic);
    return JSON.stringify(described?.configs.map((c) => [c.name, c.value, c.source]) ?? null);
  };
  try {
    const expected = await signature(applied);
    for (const { nodeId } of cluster.metadata.brokers) {
      const broker = await cluster.broker(nodeId);
      if (broker === applied) continue;
      while ((await signature(broker)) !== expected) {
        if (Date.now() > deadline) return;
        await sleep(50);
      }
    }
  } catch {
    // Best effort (see above).
  }
}
