import type { MessageSchema } from '../wire/schema.js';
import { AlterConfigsRequest, AlterConfigsResponse } from './alter-configs.js';
import { ApiVersionsRequest, ApiVersionsResponse } from './api-versions.js';
import { CreatePartitionsRequest, CreatePartitionsResponse } from './create-partitions.js';
import { CreateTopicsRequest, CreateTopicsResponse } from './create-topics.js';
import { DeleteGroupsRequest, DeleteGroupsResponse } from './delete-groups.js';
import { DeleteTopicsRequest, DeleteTopicsResponse } from './delete-topics.js';
import { DescribeClusterRequest, DescribeClusterResponse } from './describe-cluster.js';
import { DescribeConfigsRequest, DescribeConfigsResponse } from './describe-configs.js';
import { DescribeGroupsRequest, DescribeGroupsResponse } from './describe-groups.js';
import { FetchRequest, FetchResponse } from './fetch.js';
import { FindCoordinatorRequest, FindCoordinatorResponse } from './find-coordinator.js';
import { HeartbeatRequest, HeartbeatResponse } from './heartbeat.js';
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from './incremental-alter-configs.js';
import { InitProducerIdRequest, InitProducerIdResponse } from './init-producer-id.js';
import { JoinGroupRequest, JoinGroupResponse } from './join-group.js';
import { LeaveGroupRequest, LeaveGroupResponse } from './leave-group.js';
import { ListGroupsRequest, ListGroupsResponse } from './list-groups.js';
import { ListOffsetsRequest, ListOffsetsResponse } from './list-offsets.js';
import { MetadataRequest, MetadataResponse } from './metadata.js';
import { OffsetCommitRequest, OffsetCommitResponse } from './offset-commit.js';
import { OffsetFetchRequest, OffsetFetchResponse } from './offset-fetch.js';
import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './offset-for-leader-epoch.js';
import { ProduceRequest, ProduceResponse } from './produce.js';
import { SyncGroupRequest, SyncGroupResponse } from './sync-group.js';

export * from './alter-configs.js';
export * from './api-versions.js';
export * from './consumer-protocol.js';
export * from './create-partitions.js';
export * from './create-topics.js';
export * from './delete-groups.js';
export * from './delete-topics.js';
export * from './describe-cluster.js';
export * from './describe-configs.js';
export * from './describe-groups.js';
export * from './fetch.js';
export * from './find-coordinator.js';
export * from './heartbeat.js';
export * from './incremental-alter-configs.js';
export * from './init-producer-id.js';
export * from './join-group.js';
export * from './leave-group.js';
export * from './list-groups.js';
export * from './list-offsets.js';
export * from './metadata.js';
export * from './offset-commit.js';
export * from './offset-fetch.js';
export * from './offset-for-leader-epoch.js';
export * from './produce.js';
export * from './sync-group.js';

/** A request schema and the response schema that answers it. */
export interface ApiPair {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
}

function pair<Req extends MessageSchema, Res extends MessageSchema>(
  name: string,
  request: Req,
  response: Res,
): { readonly apiKey: number; readonly name: string; readonly request: Req; readonly response: Res } {
  if (request.apiKey !== response.apiKey) throw new Error(`${name}: request and response api keys differ`);
  return { apiKey: request.apiKey, name, request, response };
}

/** Every API Spool can encode and decode, by name, keeping each pair's precise message types. */
export const APIS = {
  Produce: pair('Produce', ProduceRequest, ProduceResponse),
  Fetch: pair('Fetch', FetchRequest, FetchResponse),
  ListOffsets: pair('ListOffsets', ListOffsetsRequest, ListOffsetsResponse),
  Metadata: pair('Metadata', MetadataRequest, MetadataResponse),
  OffsetCommit: pair('OffsetCommit', OffsetCommitRequest, OffsetCommitResponse),
  OffsetFetch: pair('OffsetFetch', OffsetFetchRequest, OffsetFetchResponse),
  FindCoordinator: pair('FindCoordinator', FindCoordinatorRequest, FindCoordinatorResponse),
  JoinGroup: pair('JoinGroup', JoinGroupRequest, JoinGroupResponse),
  Heartbeat: pair('Heartbeat', HeartbeatRequest, HeartbeatResponse),
  LeaveGroup: pair('LeaveGroup', LeaveGroupRequest, LeaveGroupResponse),
  SyncGroup: pair('SyncGroup', SyncGroupRequest, SyncGroupResponse),
  DescribeGroups: pair('DescribeGroups', DescribeGroupsRequest, DescribeGroupsResponse),
  ListGroups: pair('ListGroups', ListGroupsRequest, ListGroupsResponse),
  ApiVersions: pair('ApiVersions', ApiVersionsRequest, ApiVersionsResponse),
  CreateTopics: pair('CreateTopics', CreateTopicsRequest, CreateTopicsResponse),
  DeleteTopics: pair('DeleteTopics', DeleteTopicsRequest, DeleteTopicsResponse),
  InitProducerId: pair('InitProducerId', InitProducerIdRequest, InitProducerIdResponse),
  OffsetForLeaderEpoch: pair(
    'OffsetForLeaderEpoch',
    OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
  ),
  DescribeConfigs: pair('DescribeConfigs', DescribeConfigsRequest, DescribeConfigsResponse),
  AlterConfigs: pair('AlterConfigs', AlterConfigsRequest, AlterConfigsResponse),
  CreatePartitions: pair('CreatePartitions', CreatePartitionsRequest, CreatePartitionsResponse),
  DeleteGroups: pair('DeleteGroups', DeleteGroupsRequest, DeleteGroupsResponse),
  IncrementalAlterConfigs: pair(
    'IncrementalAlterConfigs',
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
  ),
  DescribeCluster: pair('DescribeCluster', DescribeClusterRequest, DescribeClusterResponse),
} as const;

/** Every API whose messages Spool can encode and decode, by api key. */
export const API_REGISTRY: ReadonlyMap<number, ApiPair> = new Map(
  Object.values(APIS).map((p): [number, ApiPair] => [p.apiKey, p]),
);
