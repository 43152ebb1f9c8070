import { ErrorCode } from '../../../protocol/error-codes.js';
import {
  API_REGISTRY,
  type DeleteGroupsRequest,
  type DescribeGroupsRequest,
  type FindCoordinatorRequest,
  type HeartbeatRequest,
  type JoinGroupRequest,
  type LeaveGroupRequest,
  type ListGroupsRequest,
  type OffsetCommitRequest,
  type OffsetFetchRequest,
  type SyncGroupRequest,
} from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { CoordinatorLocator } from '../../groups/coordinator-locator.js';
import type { GroupCoordinator } from '../../groups/group-coordinator.js';
import type { OffsetFetchResult } from '../../groups/offset-manager.js';
import type { ApiHandler, RequestContext } from '../request-router.js';

/**
 * Thin protocol adapters between the Kafka group APIs and the GroupCoordinator: they translate
 * versions (which fields exist, batched vs single forms) and nothing else.
 */

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;
/** Every group this coordinator runs is a classic group (ListGroups v5 group type). */
const CLASSIC_GROUP_TYPE = 'classic';

/**
 * All group handlers, for the broker to register. `locator` must be the one `coordinator` was
 * built with, so FindCoordinator sends clients where their groups are served.
 */
export function groupHandlers(coordinator: GroupCoordinator, locator: CoordinatorLocator): ApiHandler[] {
  return [
    findCoordinatorHandler(locator),
    joinGroupHandler(coordinator),
    syncGroupHandler(coordinator),
    heartbeatHandler(coordinator),
    leaveGroupHandler(coordinator),
    offsetCommitHandler(coordinator),
    offsetFetchHandler(coordinator),
    describeGroupsHandler(coordinator),
    listGroupsHandler(coordinator),
    deleteGroupsHandler(coordinator),
  ];
}

/**
 * FindCoordinator: a group's coordinator is whichever live broker the locator places it on
 * (COORDINATOR_NOT_AVAILABLE, which clients retry, while no broker is live). Transactional ids
 * have no coordinator yet.
 */
export function findCoordinatorHandler(locator: CoordinatorLocator): ApiHandler {
  const none = (errorCode: number) => ({ nodeId: -1, host: '', port: -1, errorCode });
  const lookup = (keyType: number, key: string) => {
    if (keyType === KEY_TYPE_GROUP) {
      const coordinator = locator.coordinatorFor(key);
      if (!coordinator) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      const { nodeId, host, port } = coordinator;
      return { nodeId, host, port, errorCode: ErrorCode.NONE };
    }
    return none(
      keyType === KEY_TYPE_TRANSACTION ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.INVALID_REQUEST,
    );
  };
  return {
    api: API_REGISTRY.get(10)!,
    minVersion: 0,
    maxVersion: 6,
    async handle(request: MessageValue<typeof FindCoordinatorRequest>, version: number) {
      if (version >= 4) {
        return {
          throttleTimeMs: 0,
          coordinators: request.coordinatorKeys.map((key) => ({
            key,
            ...lookup(request.keyType, key),
            errorMessage: null,
          })),
        };
      }
      return { throttleTimeMs: 0, errorMessage: null, ...lookup(request.keyType, request.key) };
    },
  };
}

export function joinGroupHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(11)!,
    minVersion: 0,
    maxVersion: 9,
    async handle(request: MessageValue<typeof JoinGroupRequest>, version: number, context: RequestContext) {
      const outcome = await coordinator.joinGroup({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        clientId: context.header.clientId ?? '',
        clientHost: clientHost(context),
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        requireKnownMemberId: version >= 4,
        supportSkippingAssignment: version >= 9,
      });
      return {
        throttleTimeMs: 0,
        errorCode: outcome.errorCode,
        generationId: outcome.generationId,
        protocolType: outcome.protocolType,
        // Nullable only from v7.
        protocolName: version >= 7 ? outcome.protocolName : (outcome.protocolName ?? ''),
        leader: outcome.leaderId,
        skipAssignment: outcome.skipAssignment,
        memberId: outcome.memberId,
        members: outcome.members,
      };
    },
  };
}

export function syncGroupHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(14)!,
    minVersion: 0,
    maxVersion: 5,
    async handle(request: MessageValue<typeof SyncGroupRequest>) {
      const outcome = await coordinator.syncGroup({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        protocolType: request.protocolType,
        protocolName: request.protocolName,
        assignments: request.assignments,
      });
      return {
        throttleTimeMs: 0,
        errorCode: outcome.errorCode,
        protocolType: outcome.protocolType,
        protocolName: outcome.protocolName,
        assignment: outcome.assignment,
      };
    },
  };
}

export function heartbeatHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(12)!,
    minVersion: 0,
    maxVersion: 4,
    async handle(request: MessageValue<typeof HeartbeatRequest>) {
      return { throttleTimeMs: 0, errorCode: await coordinator.heartbeat(request) };
    },
  };
}

export function leaveGroupHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(13)!,
    minVersion: 0,
    maxVersion: 5,
    async handle(request: MessageValue<typeof LeaveGroupRequest>, version: number) {
      const members =
        version >= 3
          ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
          : [{ memberId: request.memberId, groupInstanceId: null }];
      const outcome = await coordinator.leaveGroup(request.groupId, members);
      // Before v3 there is one member and its error is the response's error.
      const errorCode =
        version < 3 && outcome.errorCode === ErrorCode.NONE
          ? (outcome.members[0]?.errorCode ?? ErrorCode.NONE)
          : outcome.errorCode;
      return { throttleTimeMs: 0, errorCode, members: outcome.members };
    },
  };
}

export function offsetCommitHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(8)!,
    minVersion: 0,
    maxVersion: 9,
    async handle(request: MessageValue<typeof OffsetCommitRequest>) {
      const topics = await coordinator.commitOffsets({
        groupId: request.groupId,
        generationId: request.generationIdOrMemberEpoch,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        topics: request.topics,
      });
      return { throttleTimeMs: 0, topics };
    },
  };
}

export function offsetFetchHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(9)!,
    minVersion: 0,
    maxVersion: 9,
    async handle(request: MessageValue<typeof OffsetFetchRequest>, version: number) {
      if (version >= 8) {
        const groups = await Promise.all(
          request.groups.map(async (g) => ({
            groupId: g.groupId,
            ...(await coordinator.fetchOffsets(g.groupId, g.topics)),
          })),
        );
        return { throttleTimeMs: 0, groups };
      }
      // v0 and v1 cannot ask for all topics, and carry group errors in every partition.
      const topics = version < 2 ? (request.topics ?? []) : request.topics;
      const result = await coordinator.fetchOffsets(request.groupId, topics);
      if (version < 2) return { throttleTimeMs: 0, topics: withGroupError(result, topics ?? []) };
      return { throttleTimeMs: 0, errorCode: result.errorCode, topics: result.topics };
    },
  };
}

function withGroupError(
  result: OffsetFetchResult,
  requested: readonly { name: string; partitionIndexes: readonly number[] }[],
): OffsetFetchResult['topics'] {
  if (result.errorCode === ErrorCode.NONE) return result.topics;
  return requested.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode: result.errorCode,
    })),
  }));
}

export function describeGroupsHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(15)!,
    minVersion: 0,
    maxVersion: 5,
    async handle(request: MessageValue<typeof DescribeGroupsRequest>) {
      const groups = await Promise.all(
        request.groups.map(async (groupId) => {
          const g = await coordinator.describeGroup(groupId);
          return {
            errorCode: g.errorCode,
            groupId,
            groupState: g.state,
            protocolType: g.protocolType,
            protocolData: g.protocolData,
            members: g.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              memberMetadata: m.metadata,
              memberAssignment: m.assignment,
            })),
          };
        }),
      );
      return { throttleTimeMs: 0, groups };
    },
  };
}

export function listGroupsHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(16)!,
    minVersion: 0,
    maxVersion: 5,
    async handle(request: MessageValue<typeof ListGroupsRequest>, version: number) {
      const { errorCode, groups } = await coordinator.listGroups();
      // Filters match case-insensitively, as Kafka's do; an empty filter matches everything.
      const states = new Set((version >= 4 ? request.statesFilter : []).map((s) => s.toLowerCase()));
      const types = new Set((version >= 5 ? request.typesFilter : []).map((t) => t.toLowerCase()));
      return {
        throttleTimeMs: 0,
        errorCode,
        groups: groups
          .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
          .filter(() => types.size === 0 || types.has(CLASSIC_GROUP_TYPE))
          .map((g) => ({
            groupId: g.groupId,
            protocolType: g.protocolType,
            groupState: g.state,
            groupType: CLASSIC_GROUP_TYPE,
          })),
      };
    },
  };
}

export function deleteGroupsHandler(coordinator: GroupCoordinator): ApiHandler {
  return {
    api: API_REGISTRY.get(42)!,
    minVersion: 0,
    maxVersion: 2,
    async handle(request: MessageValue<typeof DeleteGroupsRequest>) {
      const results = await Promise.all(
        request.groupsNames.map(async (groupId) => ({
          groupId,
          errorCode: await coordinator.deleteGroup(groupId),
        })),
      );
      return { throttleTimeMs: 0, results };
    },
  };
}

/** Kafka reports a member's host as "/<address>"; the connection knows "<address>:<port>". */
function clientHost(context: RequestContext): string {
  const remote = context.connection.remoteAddress;
  const colon = remote.lastIndexOf(':');
  return `/${colon > 0 ? remote.slice(0, colon) : remote}`;
}
