import type { MessageSchema } from '../wire/schema.js';
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

function pair(name: string, request: MessageSchema, response: MessageSchema): ApiPair {
  if (request.apiKey !== response.apiKey) throw new Error(`${name}: request and response api keys differ`);
  return { apiKey: request.apiKey, name, request, response };
}

/** Every API whose messages Spool can encode and decode, by api key. */
export const API_REGISTRY: ReadonlyMap<number, ApiPair> = new Map(
  [
    pair('Produce', ProduceRequest, ProduceResponse),
    pair('Fetch', FetchRequest, FetchResponse),
    pair('ListOffsets', ListOffsetsRequest, ListOffsetsResponse),
    pair('Metadata', MetadataRequest, MetadataResponse),
    pair('OffsetCommit', OffsetCommitRequest, OffsetCommitResponse),
    pair('OffsetFetch', OffsetFetchRequest, OffsetFetchResponse),
    pair('FindCoordinator', FindCoordinatorRequest, FindCoordinatorResponse),
    pair('JoinGroup', JoinGroupRequest, JoinGroupResponse),
    pair('Heartbeat', HeartbeatRequest, HeartbeatResponse),
    pair('LeaveGroup', LeaveGroupRequest, LeaveGroupResponse),
    pair('SyncGroup', SyncGroupRequest, SyncGroupResponse),
    pair('DescribeGroups', DescribeGroupsRequest, DescribeGroupsResponse),
    pair('ListGroups', ListGroupsRequest, ListGroupsResponse),
    pair('ApiVersions', ApiVersionsRequest, ApiVersionsResponse),
    pair('CreateTopics', CreateTopicsRequest, CreateTopicsResponse),
    pair('DeleteTopics', DeleteTopicsRequest, DeleteTopicsResponse),
    pair('InitProducerId', InitProducerIdRequest, InitProducerIdResponse),
    pair('OffsetForLeaderEpoch', OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse),
    pair('DescribeConfigs', DescribeConfigsRequest, DescribeConfigsResponse),
    pair('CreatePartitions', CreatePartitionsRequest, CreatePartitionsResponse),
    pair('DeleteGroups', DeleteGroupsRequest, DeleteGroupsResponse),
    pair('DescribeCluster', DescribeClusterRequest, DescribeClusterResponse),
  ].map((p) => [p.apiKey, p]),
);
