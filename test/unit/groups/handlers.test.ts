import { describe, expect, it } from 'vitest';
import {
  type CoordinatorEndpoint,
  type CoordinatorLocator,
  singleBrokerLocator,
} from '../../../broker/groups/coordinator-locator.js';
import type { BrokerIdentity } from '../../../broker/server/broker-identity.js';
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  findCoordinatorHandler,
  groupHandlers,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  syncGroupHandler,
} from '../../../broker/server/handlers/groups.js';
import type { ApiHandler, RequestContext } from '../../../broker/server/request-router.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../../protocol/messages/index.js';
import { decodeMessage, encodeMessage } from '../../../protocol/wire/codec.js';
import type { MessageInput, MessageSchema, MessageValue } from '../../../protocol/wire/schema.js';
import { assignment, subscription, useGroupsFixture } from './fixture.js';

const fx = useGroupsFixture();

const identity: BrokerIdentity = { nodeId: 7, host: 'broker.local', port: 9092, rack: null, clusterId: 'c' };
const context = (clientId = 'app'): RequestContext => ({
  header: { apiKey: 0, apiVersion: 0, correlationId: 1, clientId },
  connection: { id: 1, remoteAddress: '10.0.0.5:51234', closedSignal: new AbortController().signal },
});

/**
 * Calls a handler the way the router does: the request goes through the codec at `version`, and
 * so does the response, which proves it is encodable at that version.
 */
async function call<Req extends MessageSchema, Res extends MessageSchema>(
  handler: ApiHandler,
  schemas: [Req, Res],
  version: number,
  request: MessageInput<Req>,
  clientId?: string,
): Promise<MessageValue<Res>> {
  const [requestSchema, responseSchema] = schemas;
  expect(handler.api.request).toBe(requestSchema);
  const decoded = decodeMessage(requestSchema, version, encodeMessage(requestSchema, version, request));
  const response = await handler.handle(decoded as never, version, context(clientId));
  expect(response).not.toBeNull();
  const bytes = encodeMessage(responseSchema, version, response as MessageInput<Res>);
  return decodeMessage(responseSchema, version, bytes);
}

const FIND: [typeof FindCoordinatorRequest, typeof FindCoordinatorResponse] = [
  FindCoordinatorRequest,
  FindCoordinatorResponse,
];
const JOIN: [typeof JoinGroupRequest, typeof JoinGroupResponse] = [JoinGroupRequest, JoinGroupResponse];
const SYNC: [typeof SyncGroupRequest, typeof SyncGroupResponse] = [SyncGroupRequest, SyncGroupResponse];
const HEARTBEAT: [typeof HeartbeatRequest, typeof HeartbeatResponse] = [HeartbeatRequest, HeartbeatResponse];
const LEAVE: [typeof LeaveGroupRequest, typeof LeaveGroupResponse] = [LeaveGroupRequest, LeaveGroupResponse];
const COMMIT: [typeof OffsetCommitRequest, typeof OffsetCommitResponse] = [
  OffsetCommitRequest,
  OffsetCommitResponse,
];
const FETCH: [typeof OffsetFetchRequest, typeof OffsetFetchResponse] = [
  OffsetFetchRequest,
  OffsetFetchResponse,
];
const DESCRIBE: [typeof DescribeGroupsRequest, typeof DescribeGroupsResponse] = [
  DescribeGroupsRequest,
  DescribeGroupsResponse,
];
const LIST: [typeof ListGroupsRequest, typeof ListGroupsResponse] = [ListGroupsRequest, ListGroupsResponse];
const DELETE: [typeof DeleteGroupsRequest, typeof DeleteGroupsResponse] = [
  DeleteGroupsRequest,
  DeleteGroupsResponse,
];

describe('group handlers', () => {
  it('registers every group API with the versions it serves', () => {
    const handlers = groupHandlers(fx.coordinator(), singleBrokerLocator(identity));
    expect(handlers.map((h) => [h.api.name, h.minVersion, h.maxVersion])).toEqual([
      ['FindCoordinator', 0, 6],
      ['JoinGroup', 0, 9],
      ['SyncGroup', 0, 5],
      ['Heartbeat', 0, 4],
      ['LeaveGroup', 0, 5],
      ['OffsetCommit', 0, 9],
      ['OffsetFetch', 0, 9],
      ['DescribeGroups', 0, 5],
      ['ListGroups', 0, 5],
      ['DeleteGroups', 0, 2],
    ]);
  });

  it('FindCoordinator names this broker for groups, singly (v0-3) or batched (v4+)', async () => {
    const handler = findCoordinatorHandler(singleBrokerLocator(identity));
    expect(await call(handler, FIND, 0, { key: 'g' })).toMatchObject({
      errorCode: 0,
      nodeId: 7,
      host: 'broker.local',
      port: 9092,
    });
    expect(await call(handler, FIND, 3, { key: 'g', keyType: 1 })).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      nodeId: -1,
    });
    const batched = await call(handler, FIND, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(batched.coordinators).toEqual([
      { key: 'a', nodeId: 7, host: 'broker.local', port: 9092, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 7, host: 'broker.local', port: 9092, errorCode: 0, errorMessage: null },
    ]);
    const transactional = await call(handler, FIND, 6, { keyType: 1, coordinatorKeys: ['txn'] });
    expect(transactional.coordinators[0]).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      nodeId: -1,
    });
  });

  it("FindCoordinator names each group's coordinator, or COORDINATOR_NOT_AVAILABLE while none is live", async () => {
    const brokers: Record<string, CoordinatorEndpoint | undefined> = {
      a: { nodeId: 1, host: 'b1.local', port: 9001 },
      b: { nodeId: 2, host: 'b2.local', port: 9002 },
    };
    const locator: CoordinatorLocator = {
      localNodeId: 1,
      coordinatorFor: (groupId) => brokers[groupId],
      onChange: () => () => {},
    };
    const handler = findCoordinatorHandler(locator);
    for (const version of [0, 1, 2, 3]) {
      expect(await call(handler, FIND, version, { key: 'b' })).toMatchObject({
        errorCode: 0,
        nodeId: 2,
        host: 'b2.local',
        port: 9002,
      });
      expect(await call(handler, FIND, version, { key: 'nobody' })).toMatchObject({
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        nodeId: -1,
        host: '',
        port: -1,
      });
    }
    for (const version of [4, 5, 6]) {
      const batched = await call(handler, FIND, version, {
        keyType: 0,
        coordinatorKeys: ['a', 'b', 'nobody'],
      });
      expect(batched.coordinators).toEqual([
        { key: 'a', nodeId: 1, host: 'b1.local', port: 9001, errorCode: 0, errorMessage: null },
        { key: 'b', nodeId: 2, host: 'b2.local', port: 9002, errorCode: 0, errorMessage: null },
        {
          key: 'nobody',
          nodeId: -1,
          host: '',
          port: -1,
          errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
          errorMessage: null,
        },
      ]);
    }
    // Transactional ids are not placed by the group locator.
    const transactional = await call(handler, FIND, 4, { keyType: 1, coordinatorKeys: ['a'] });
    expect(transactional.coordinators[0]).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      nodeId: -1,
    });
  });

  it('runs a modern consumer through join, sync, heartbeat, commit, fetch, describe, list, leave and delete', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const join = joinGroupHandler(coordinator);
    const joinRequest = {
      groupId,
      sessionTimeoutMs: 5000,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription('orders') }],
    };
    const required = await call(join, JOIN, 9, joinRequest);
    expect(required).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, generationId: -1 });
    expect(required.memberId).toMatch(/^app-/);
    const joined = await call(join, JOIN, 9, { ...joinRequest, memberId: required.memberId });
    expect(joined).toMatchObject({
      errorCode: 0,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: required.memberId,
      memberId: required.memberId,
      skipAssignment: false,
    });
    expect(joined.members).toEqual([
      { memberId: required.memberId, groupInstanceId: null, metadata: subscription('orders') },
    ]);
    const member = { groupId, generationId: 1, memberId: joined.memberId };

    const synced = await call(syncGroupHandler(coordinator), SYNC, 5, {
      ...member,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment: assignment('orders', 0) }],
    });
    expect(synced).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
    expect(synced.assignment).toEqual(assignment('orders', 0));
    expect(await call(heartbeatHandler(coordinator), HEARTBEAT, 4, member)).toMatchObject({ errorCode: 0 });

    const committed = await call(offsetCommitHandler(coordinator), COMMIT, 9, {
      groupId,
      generationIdOrMemberEpoch: 1,
      memberId: joined.memberId,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 15,
              committedLeaderEpoch: 2,
              commitTimestamp: -1,
              committedMetadata: 'x',
            },
          ],
        },
      ],
    });
    expect(committed.topics).toEqual([{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }]);
    const fetched = await call(offsetFetchHandler(coordinator), FETCH, 9, {
      groups: [
        { groupId, memberId: null, memberEpoch: -1, topics: null },
        {
          groupId: fx.groupId(),
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: 'orders', partitionIndexes: [0] }],
        },
      ],
    });
    expect(fetched.groups).toEqual([
      {
        groupId,
        errorCode: 0,
        topics: [
          {
            name: 'orders',
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 15,
                committedLeaderEpoch: 2,
                metadata: 'x',
                errorCode: 0,
              },
            ],
          },
        ],
      },
      {
        groupId: expect.any(String),
        errorCode: 0,
        topics: [
          {
            name: 'orders',
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: -1,
                committedLeaderEpoch: -1,
                metadata: '',
                errorCode: 0,
              },
            ],
          },
        ],
      },
    ]);

    const described = await call(describeGroupsHandler(coordinator), DESCRIBE, 5, { groups: [groupId] });
    expect(described.groups).toEqual([
      {
        errorCode: 0,
        groupId,
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [
          {
            memberId: joined.memberId,
            groupInstanceId: null,
            clientId: 'app',
            clientHost: '/10.0.0.5',
            memberMetadata: subscription('orders'),
            memberAssignment: assignment('orders', 0),
          },
        ],
        authorizedOperations: -2147483648,
      },
    ]);

    const list = listGroupsHandler(coordinator);
    const mine = (r: MessageValue<typeof ListGroupsResponse>) =>
      r.groups.filter((g) => g.groupId === groupId);
    expect(mine(await call(list, LIST, 5, { statesFilter: [], typesFilter: [] }))).toEqual([
      { groupId, protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
    ]);
    expect(mine(await call(list, LIST, 4, { statesFilter: ['stable'] }))).toHaveLength(1);
    expect(mine(await call(list, LIST, 4, { statesFilter: ['Empty'] }))).toHaveLength(0);
    expect(mine(await call(list, LIST, 5, { statesFilter: [], typesFilter: ['consumer'] }))).toHaveLength(0);
    expect(mine(await call(list, LIST, 5, { statesFilter: [], typesFilter: ['Classic'] }))).toHaveLength(1);

    const deleteGroups = deleteGroupsHandler(coordinator);
    expect((await call(deleteGroups, DELETE, 2, { groupsNames: [groupId] })).results).toEqual([
      { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP },
    ]);
    const left = await call(leaveGroupHandler(coordinator), LEAVE, 5, {
      groupId,
      members: [
        { memberId: joined.memberId, groupInstanceId: null, reason: 'shutdown' },
        { memberId: '', groupInstanceId: 'nobody', reason: null },
      ],
    });
    expect(left).toMatchObject({
      errorCode: 0,
      members: [
        { memberId: joined.memberId, groupInstanceId: null, errorCode: 0 },
        { memberId: '', groupInstanceId: 'nobody', errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
      ],
    });
    expect((await call(deleteGroups, DELETE, 2, { groupsNames: [groupId, fx.groupId()] })).results).toEqual([
      { groupId, errorCode: 0 },
      { groupId: expect.any(String), errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
  });

  it('serves the oldest versions', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    // JoinGroup v0: no MEMBER_ID_REQUIRED round trip; the rebalance timeout is the session timeout.
    const joined = await call(joinGroupHandler(coordinator), JOIN, 0, {
      groupId,
      sessionTimeoutMs: 5000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription('orders') }],
    });
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    const member = { groupId, generationId: 1, memberId: joined.memberId };
    const synced = await call(syncGroupHandler(coordinator), SYNC, 0, {
      ...member,
      assignments: [{ memberId: joined.memberId, assignment: assignment('orders', 0) }],
    });
    expect(synced).toMatchObject({ errorCode: 0, assignment: assignment('orders', 0) });
    expect(await call(heartbeatHandler(coordinator), HEARTBEAT, 0, member)).toMatchObject({ errorCode: 0 });
    expect(
      await call(heartbeatHandler(coordinator), HEARTBEAT, 0, { ...member, generationId: 5 }),
    ).toMatchObject({ errorCode: ErrorCode.ILLEGAL_GENERATION });

    const committed = await call(offsetCommitHandler(coordinator), COMMIT, 2, {
      groupId,
      generationIdOrMemberEpoch: 1,
      memberId: joined.memberId,
      retentionTimeMs: -1,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 3,
              committedLeaderEpoch: -1,
              commitTimestamp: -1,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    expect(committed.topics[0]!.partitions[0]!.errorCode).toBe(0);
    const v1 = await call(offsetFetchHandler(coordinator), FETCH, 1, {
      groupId,
      topics: [{ name: 'orders', partitionIndexes: [0] }],
    });
    expect(v1.topics[0]!.partitions[0]).toMatchObject({ committedOffset: 3, metadata: '', errorCode: 0 });
    // v0/v1 have no group-level error: it is reported in every partition.
    const invalid = await call(offsetFetchHandler(coordinator), FETCH, 1, {
      groupId: '',
      topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
    });
    expect(invalid.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.INVALID_GROUP_ID,
      ErrorCode.INVALID_GROUP_ID,
    ]);
    const v2 = await call(offsetFetchHandler(coordinator), FETCH, 2, { groupId, topics: null });
    expect(v2).toMatchObject({
      errorCode: 0,
      topics: [{ name: 'orders', partitions: [{ committedOffset: 3 }] }],
    });

    const listed = await call(listGroupsHandler(coordinator), LIST, 0, {});
    expect(
      listed.groups.filter((g) => g.groupId === groupId).map((g) => [g.groupId, g.protocolType]),
    ).toEqual([[groupId, 'consumer']]);
    const described = await call(describeGroupsHandler(coordinator), DESCRIBE, 0, {
      groups: [groupId, fx.groupId()],
    });
    expect(described.groups.map((g) => [g.groupState, g.members.length])).toEqual([
      ['Stable', 1],
      ['Dead', 0],
    ]);

    // LeaveGroup v0-2: one member, whose error is the response's error.
    const leave = leaveGroupHandler(coordinator);
    expect(await call(leave, LEAVE, 0, { groupId, memberId: 'nobody' })).toMatchObject({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
    });
    expect(await call(leave, LEAVE, 1, { groupId, memberId: joined.memberId })).toMatchObject({
      errorCode: 0,
    });
    expect((await coordinator.describeGroup(groupId)).state).toBe('Empty');
  });

  it('encodes JoinGroup errors at versions where the protocol name is not nullable', async () => {
    const coordinator = fx.coordinator();
    for (const version of [0, 6, 7]) {
      const response = await call(joinGroupHandler(coordinator), JOIN, version, {
        groupId: fx.groupId(),
        sessionTimeoutMs: 1,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      });
      expect(response).toMatchObject({ errorCode: ErrorCode.INVALID_SESSION_TIMEOUT, generationId: -1 });
      expect(response.protocolName).toBe(version >= 7 ? null : '');
    }
  });
});
