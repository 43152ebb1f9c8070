import type { BrokerInfo, PartitionMetadata } from '../cluster/index.js';

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

/**
 * Where a config's effective value comes from (Kafka's DescribeConfigs config source): set on
 * the topic, one of the broker-level layers, or the built-in default.
 */
export type ConfigSource =
  | 'topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'unknown';

export interface ConfigEntry {
  name: string;
  value: string | null;
  isDefault: boolean;
  readOnly: boolean;
  sensitive: boolean;
  source: ConfigSource;
}

export interface AlterConfigsOptions {
  /** Have the broker validate the change (unknown keys, bad values) without applying it. */
  validateOnly?: boolean;
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
