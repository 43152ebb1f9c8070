import { decodeAssignment } from '../protocol/messages/consumer-protocol.js';
import { APIS } from '../protocol/messages/index.js';
import {
  type BrokerInfo,
  CLIENT_VERSIONS,
  Cluster,
  listOffsets,
  OffsetSpec,
  type PartitionMetadata,
  UnsupportedByBrokerError,
} from './cluster/index.js';
import { isRetriable, throwIfError } from './cluster/protocol-error.js';
import { ErrorCode, KafkaProtocolError, SpoolError } from './errors.js';

export interface AdminOptions {
  bootstrap: string[];
  clientId?: string;
  requestTimeoutMs?: number;
  /** How long each operation retries retriable errors. Default 30 s. */
  retryTimeoutMs?: number;
}

export interface NewTopic {
  topic: string;
  /** Default: the broker's default partition count. */
  partitions?: number;
  /** Default: the broker's default (min(3, live brokers) in Spool). */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  isDefault: boolean;
  readOnly: boolean;
  sensitive: boolean;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: readonly PartitionMetadata[];
  configs: ConfigEntry[];
}

export interface ClusterDescription {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  /** Empty when the broker predates ListGroups v4. */
  state: string;
  coordinator: number;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded for consumer groups; empty when the assignment is not the consumer protocol. */
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  /** The chosen assignor, e.g. `cooperative-sticky`; only set while the group is Stable. */
  protocol: string;
  coordinator: number;
  members: GroupMemberDescription[];
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when nothing is committed. */
  offset: number;
  metadata: string | null;
}

export type ResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: number };

export interface OffsetResetPlan {
  topic: string;
  partition: number;
  /** The committed offset before the reset, or null if none. */
  current: number | null;
  target: number;
}

const RESOURCE_TOPIC = 2;
const OPERATION_TIMEOUT_MS = 30_000;
/** Api keys of the config-altering APIs, which Spool brokers do not serve yet. */
const ALTER_CONFIGS_KEY = 33;
const INCREMENTAL_ALTER_CONFIGS_KEY = 44;

/**
 * Administration of topics, groups and the cluster. Every method routes to the right broker
 * (any broker, a partition leader or a group coordinator), retries retriable errors after a
 * metadata refresh within `retryTimeoutMs`, and throws SpoolErrors: KafkaProtocolError carries
 * the wire error name and `retriable`.
 */
export class Admin {
  private readonly cluster: Cluster;

  constructor(options: AdminOptions) {
    this.cluster = new Cluster({ ...options, clientId: options.clientId ?? 'spool-admin' });
  }

  connect(): Promise<void> {
    return this.cluster.connect();
  }

  close(): void {
    this.cluster.close();
  }

  // ---- topics ----

  /**
   * Creates topics; unless validateOnly, resolves once every new partition has a leader in the
   * client's metadata, so the topics are usable right away. Throws the first per-topic error
   * (e.g. TOPIC_ALREADY_EXISTS) after all topics were attempted.
   */
  async createTopics(topics: NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    const response = await this.cluster.retry(async () => {
      const broker = await this.cluster.anyBroker();
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
    if (!options.validateOnly) await this.waitForTopics(topics.map((t) => ({ name: t.topic })));
  }

  async deleteTopics(names: string[]): Promise<void> {
    const { response } = await this.cluster.retry(async () => {
      const broker = await this.cluster.anyBroker();
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

  /** Names of all non-internal topics, sorted. */
  async listTopics(): Promise<string[]> {
    await this.cluster.retry(() => this.cluster.metadata.refresh());
    return this.cluster.metadata
      .topicNames()
      .filter((name) => !this.cluster.metadata.topic(name)?.isInternal)
      .sort();
  }

  /** Partitions (leader, epoch, replicas, ISR) and effective configs of each topic. */
  async describeTopics(names: string[]): Promise<TopicDescription[]> {
    return this.cluster.retry(async () => {
      await this.cluster.metadata.refresh(names);
      const broker = await this.cluster.anyBroker();
      const { response } = await broker.send(APIS.DescribeConfigs, CLIENT_VERSIONS.DescribeConfigs, {
        resources: names.map((name) => ({
          resourceType: RESOURCE_TOPIC,
          resourceName: name,
          configurationKeys: null,
        })),
      });
      return names.map((name): TopicDescription => {
        const topic = this.cluster.metadata.topic(name);
        if (!topic) throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: name });
        const result = response.results.find((r) => r.resourceName === name);
        if (result) throwIfError(result.errorCode, { topic: name, serverMessage: result.errorMessage });
        const configs = (result?.configs ?? []).map((c) => ({
          name: c.name,
          value: c.value,
          // v0 has isDefault; v1+ reports the source (5 = default config).
          isDefault: c.configSource === -1 ? c.isDefault : c.configSource === 5,
          readOnly: c.readOnly,
          sensitive: c.isSensitive,
        }));
        return { ...topic, configs };
      });
    }, EXISTING_TOPICS);
  }

  /** Raises `topic` to `totalCount` partitions and waits until the new ones have leaders. */
  async createPartitions(topic: string, totalCount: number): Promise<void> {
    const { response } = await this.cluster.retry(async () => {
      const broker = await this.cluster.anyBroker();
      return broker.send(APIS.CreatePartitions, CLIENT_VERSIONS.CreatePartitions, {
        topics: [{ name: topic, count: totalCount, assignments: null }],
        timeoutMs: OPERATION_TIMEOUT_MS,
        validateOnly: false,
      });
    });
    for (const r of response.results)
      throwIfError(r.errorCode, { topic: r.name, serverMessage: r.errorMessage });
    await this.waitForTopics([{ name: topic, partitions: totalCount }]);
  }

  /**
   * Not available yet: Spool brokers serve neither AlterConfigs nor IncrementalAlterConfigs.
   * Detected from ApiVersions, so this starts working once a broker advertises them and the
   * client learns to send them.
   */
  async alterConfigs(topic: string, configs: Record<string, string | null>): Promise<never> {
    const broker = await this.cluster.retry(() => this.cluster.anyBroker());
    const names = Object.keys(configs).join(', ');
    if (!broker.versions.has(INCREMENTAL_ALTER_CONFIGS_KEY) && !broker.versions.has(ALTER_CONFIGS_KEY)) {
      throw new UnsupportedByBrokerError(
        'IncrementalAlterConfigs',
        `the broker advertises neither AlterConfigs nor IncrementalAlterConfigs (altering ${names} on ${topic})`,
      );
    }
    throw new SpoolError(`altering configs (${names} on ${topic}) is not implemented by this client yet`);
  }

  // ---- cluster ----

  async describeCluster(): Promise<ClusterDescription> {
    const { response } = await this.cluster.retry(async () => {
      const broker = await this.cluster.anyBroker();
      return broker.send(APIS.DescribeCluster, CLIENT_VERSIONS.DescribeCluster, {
        includeClusterAuthorizedOperations: false,
      });
    });
    throwIfError(response.errorCode, { serverMessage: response.errorMessage });
    return {
      clusterId: response.clusterId,
      controllerId: response.controllerId,
      brokers: response.brokers
        .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
        .sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  // ---- groups ----

  /** Every group in the cluster: each broker lists only the groups it coordinates, so ask all. */
  async listGroups(): Promise<GroupListing[]> {
    return this.cluster.retry(async () => {
      await this.cluster.metadata.refresh();
      const perBroker = await Promise.all(
        this.cluster.metadata.brokers.map(async ({ nodeId }) => {
          const broker = await this.cluster.broker(nodeId);
          const { response } = await broker.send(APIS.ListGroups, CLIENT_VERSIONS.ListGroups, {
            statesFilter: [],
            typesFilter: [],
          });
          throwIfError(response.errorCode);
          return response.groups.map((g) => ({
            groupId: g.groupId,
            protocolType: g.protocolType,
            state: g.groupState,
            coordinator: nodeId,
          }));
        }),
      );
      // A group moving between coordinators may show up twice; keep one.
      const merged = new Map(perBroker.flat().map((g) => [g.groupId, g]));
      return [...merged.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
    });
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return Promise.all(
      groupIds.map((groupId) =>
        this.atCoordinator(groupId, async (broker, coordinator) => {
          const { response } = await broker.send(APIS.DescribeGroups, CLIENT_VERSIONS.DescribeGroups, {
            groups: [groupId],
            includeAuthorizedOperations: false,
          });
          const group = response.groups.find((g) => g.groupId === groupId);
          if (!group)
            throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { serverMessage: groupId });
          throwIfError(group.errorCode, { serverMessage: `group ${groupId}` });
          return {
            groupId,
            state: group.groupState,
            protocolType: group.protocolType,
            protocol: group.protocolData,
            coordinator,
            members: group.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              assignment: group.protocolType === 'consumer' ? decodeTopicPartitions(m.memberAssignment) : [],
            })),
          };
        }),
      ),
    );
  }

  /** Deletes empty groups and their offsets; a group with members fails with NON_EMPTY_GROUP. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    await Promise.all(
      groupIds.map((groupId) =>
        this.atCoordinator(groupId, async (broker) => {
          const { response } = await broker.send(APIS.DeleteGroups, CLIENT_VERSIONS.DeleteGroups, {
            groupsNames: [groupId],
          });
          for (const r of response.results)
            throwIfError(r.errorCode, { serverMessage: `group ${r.groupId}` });
        }),
      ),
    );
  }

  /** Committed offsets of `groupId`, for `topics` (all partitions of each) or every committed topic. */
  async fetchOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    if (topics) await this.cluster.retry(() => this.cluster.metadata.ensure(topics));
    const wanted =
      topics?.map((name) => ({
        name,
        partitionIndexes: (this.cluster.metadata.topic(name)?.partitions ?? []).map((p) => p.partition),
      })) ?? null;
    return this.atCoordinator(groupId, async (broker) => {
      const { version, response } = await broker.send(APIS.OffsetFetch, CLIENT_VERSIONS.OffsetFetch, {
        groupId,
        topics: wanted,
        groups: [{ groupId, memberId: null, memberEpoch: -1, topics: wanted }],
        requireStable: false,
      });
      // v8+ batches groups; earlier versions answer for the one group at the top level.
      const answer = version >= 8 ? response.groups.find((g) => g.groupId === groupId) : response;
      if (!answer) throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { serverMessage: groupId });
      throwIfError(answer.errorCode, { serverMessage: `group ${groupId}` });
      return answer.topics.flatMap((t) =>
        t.partitions.map((p) => {
          throwIfError(p.errorCode, { topic: t.name, partition: p.partitionIndex });
          return {
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.metadata,
          };
        }),
      );
    });
  }

  /**
   * Moves `groupId`'s committed offsets on every partition of `topic`. Targets come from
   * ListOffsets at each partition's leader and are clamped to [earliest, latest] (a timestamp
   * past the last record means latest). Unless dryRun, commits them as an admin (generation -1,
   * no member id), which the coordinator only accepts while the group has no members: otherwise
   * its error (UNKNOWN_MEMBER_ID) is thrown. Returns the plan either way.
   */
  async resetOffsets(
    groupId: string,
    topic: string,
    to: ResetTarget,
    options: { dryRun?: boolean } = {},
  ): Promise<OffsetResetPlan[]> {
    const plan = await this.cluster.retry(async () => {
      await this.cluster.metadata.refresh([topic]);
      const partitions = this.cluster.metadata.topic(topic)?.partitions.map((p) => p.partition);
      if (!partitions) throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic });
      const spec = (timestamp: number) => partitions.map((partition) => ({ topic, partition, timestamp }));
      const [earliest, latest, atTime] = await Promise.all([
        listOffsets(this.cluster, spec(OffsetSpec.EARLIEST)),
        listOffsets(this.cluster, spec(OffsetSpec.LATEST)),
        typeof to === 'object' && 'timestamp' in to ? listOffsets(this.cluster, spec(to.timestamp)) : [],
      ]);
      return partitions.map((partition) => {
        const low = offsetOf(earliest, partition);
        const high = offsetOf(latest, partition);
        let target: number;
        if (to === 'earliest') target = low;
        else if (to === 'latest') target = high;
        else if ('offset' in to) target = to.offset;
        else target = atTime.find((o) => o.partition === partition && o.offset >= 0)?.offset ?? high;
        return {
          topic,
          partition,
          current: null as number | null,
          target: Math.min(high, Math.max(low, target)),
        };
      });
    }, EXISTING_TOPICS);
    const committed = await this.fetchOffsets(groupId, [topic]);
    for (const entry of plan) {
      const found = committed.find((c) => c.partition === entry.partition && c.offset >= 0);
      entry.current = found ? found.offset : null;
    }
    if (!options.dryRun) await this.commitAsAdmin(groupId, topic, plan);
    return plan;
  }

  private commitAsAdmin(groupId: string, topic: string, plan: OffsetResetPlan[]): Promise<void> {
    return this.atCoordinator(groupId, async (broker) => {
      const { response } = await broker.send(APIS.OffsetCommit, CLIENT_VERSIONS.OffsetCommit, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: topic,
            partitions: plan.map((p) => ({
              partitionIndex: p.partition,
              committedOffset: p.target,
              committedLeaderEpoch: -1,
              commitTimestamp: -1,
              committedMetadata: null,
            })),
          },
        ],
      });
      for (const t of response.topics) {
        for (const p of t.partitions)
          throwIfError(p.errorCode, { topic: t.name, partition: p.partitionIndex });
      }
    });
  }

  /** Runs `operation` at `groupId`'s coordinator, finding it again after NOT_COORDINATOR & co. */
  private atCoordinator<T>(
    groupId: string,
    operation: (broker: Awaited<ReturnType<Cluster['broker']>>, coordinator: number) => Promise<T>,
  ): Promise<T> {
    return this.cluster.retry(async () => {
      const coordinator = await this.cluster.findCoordinator(groupId);
      return operation(await this.cluster.broker(coordinator), coordinator);
    });
  }

  /**
   * Waits until metadata shows each topic with at least `partitions` partitions, all led. Brokers
   * learn new topics within a few hundred ms; LEADER_NOT_AVAILABLE is retriable, so retry covers it.
   */
  private async waitForTopics(topics: { name: string; partitions?: number }[]): Promise<void> {
    await this.cluster.retry(async () => {
      await this.cluster.metadata.refresh(topics.map((t) => t.name));
      for (const { name, partitions } of topics) {
        const topic = this.cluster.metadata.topic(name);
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
}

const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * For operations on topics that should already exist: UNKNOWN_TOPIC_OR_PARTITION is retriable on
 * the wire (a topic may be being created), but once a fresh Metadata says the topic is unknown,
 * waiting out the whole retry time would only delay the answer.
 */
const EXISTING_TOPICS = {
  shouldRetry: (error: unknown) =>
    isRetriable(error) &&
    !(error instanceof KafkaProtocolError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
};

function offsetOf(offsets: { partition: number; offset: number }[], partition: number): number {
  const found = offsets.find((o) => o.partition === partition);
  if (!found)
    throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, {
      partition,
      serverMessage: 'missing offset',
    });
  return found.offset;
}

/** A member's consumer-protocol assignment as topic → partitions; empty if undecodable or absent. */
function decodeTopicPartitions(assignment: Buffer): { topic: string; partitions: number[] }[] {
  if (assignment.length === 0) return [];
  try {
    return decodeAssignment(assignment).value.assignedPartitions.map((a) => ({
      topic: a.topic,
      partitions: [...a.partitions],
    }));
  } catch {
    return [];
  }
}
