import { Cluster } from '../cluster/index.js';
import { describeCluster } from './cluster.js';
import { alterTopicConfigs } from './configs.js';
import { deleteGroups, describeGroups, fetchOffsets, listGroups, resetOffsets } from './groups.js';
import { createPartitions, createTopics, deleteTopics, describeTopics, listTopics } from './topics.js';
import type {
  AdminOptions,
  AlterConfigsOptions,
  ClusterDescription,
  CommittedOffset,
  GroupDescription,
  GroupListing,
  NewTopic,
  OffsetResetPlan,
  ResetTarget,
  TopicDescription,
} from './types.js';

export type * from './types.js';

/**
 * Administration of topics, groups and the cluster. Every method routes to the right broker
 * (any broker, a partition leader or a group coordinator), retries retriable errors after a
 * metadata refresh within `retryTimeoutMs`, and throws SpoolErrors: KafkaProtocolError carries
 * the wire error name and `retriable`.
 *
 * The operations live in topics.ts, configs.ts, groups.ts and cluster.ts; this class holds the
 * connection state and is the public surface.
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
  createTopics(topics: NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    return createTopics(this.cluster, topics, options);
  }

  deleteTopics(names: string[]): Promise<void> {
    return deleteTopics(this.cluster, names);
  }

  /** Names of all non-internal topics, sorted. */
  listTopics(): Promise<string[]> {
    return listTopics(this.cluster);
  }

  /** Partitions (leader, epoch, replicas, ISR) and effective configs (with their source) of each topic. */
  describeTopics(names: string[]): Promise<TopicDescription[]> {
    return describeTopics(this.cluster, names);
  }

  /**
   * Raises `topic` to `totalCount` partitions and waits until the new ones have leaders. With
   * validateOnly the broker only checks the request (e.g. INVALID_PARTITIONS for a shrink).
   */
  createPartitions(
    topic: string,
    totalCount: number,
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    return createPartitions(this.cluster, topic, totalCount, options);
  }

  /**
   * Changes a topic's configs, leaving the others as they are (IncrementalAlterConfigs): a string
   * sets the key, null deletes it so the default applies again. Invalid keys or values fail with
   * KafkaProtocolError INVALID_CONFIG and change nothing; validateOnly only checks. Resolves once
   * every live broker applies the new values (waiting a few seconds at most).
   */
  alterConfigs(
    topic: string,
    configs: Record<string, string | null>,
    options: AlterConfigsOptions = {},
  ): Promise<void> {
    return alterTopicConfigs(this.cluster, topic, configs, options);
  }

  // ---- cluster ----

  describeCluster(): Promise<ClusterDescription> {
    return describeCluster(this.cluster);
  }

  // ---- groups ----

  /** Every group in the cluster: each broker lists only the groups it coordinates, so ask all. */
  listGroups(): Promise<GroupListing[]> {
    return listGroups(this.cluster);
  }

  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return describeGroups(this.cluster, groupIds);
  }

  /** Deletes empty groups and their offsets; a group with members fails with NON_EMPTY_GROUP. */
  deleteGroups(groupIds: string[]): Promise<void> {
    return deleteGroups(this.cluster, groupIds);
  }

  /** Committed offsets of `groupId`, for `topics` (all partitions of each) or every committed topic. */
  fetchOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    return fetchOffsets(this.cluster, groupId, topics);
  }

  /**
   * Moves `groupId`'s committed offsets on every partition of `topic`. Targets come from
   * ListOffsets at each partition's leader and are clamped to [earliest, latest] (a timestamp
   * past the last record means latest). Unless dryRun, commits them as an admin (generation -1,
   * no member id), which the coordinator only accepts while the group has no members: otherwise
   * its error (UNKNOWN_MEMBER_ID) is thrown. Returns the plan either way.
   */
  resetOffsets(
    groupId: string,
    topic: string,
    to: ResetTarget,
    options: { dryRun?: boolean } = {},
  ): Promise<OffsetResetPlan[]> {
    return resetOffsets(this.cluster, groupId, topic, to, options);
  }
}
