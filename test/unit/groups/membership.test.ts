import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { decodeAssignment } from '../../../protocol/messages/consumer-protocol.js';
import {
  assignment,
  joinGroup,
  joinParams,
  settledWithin,
  sleep,
  stableGroup,
  subscription,
  useGroupsFixture,
} from './fixture.js';

const fx = useGroupsFixture();

const heartbeat = (
  coordinator: ReturnType<typeof fx.coordinator>,
  groupId: string,
  j: { memberId: string; generationId: number },
  groupInstanceId: string | null = null,
) => coordinator.heartbeat({ groupId, generationId: j.generationId, memberId: j.memberId, groupInstanceId });

describe('JoinGroup', () => {
  it('asks a new dynamic member to rejoin with a generated member id (KIP-394)', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const first = await coordinator.joinGroup(joinParams(groupId, { clientId: 'app' }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^app-[0-9a-f-]{36}$/);
    expect(first.generationId).toBe(-1);

    const joined = await coordinator.joinGroup(
      joinParams(groupId, { clientId: 'app', memberId: first.memberId }),
    );
    expect(joined).toMatchObject({
      errorCode: ErrorCode.NONE,
      memberId: first.memberId,
      leaderId: first.memberId,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
    });
    expect(joined.members).toEqual([
      { memberId: first.memberId, groupInstanceId: null, metadata: subscription('orders') },
    ]);
  });

  it('lets pre-v4 clients join without the member id round trip', async () => {
    const coordinator = fx.coordinator();
    const joined = await coordinator.joinGroup(joinParams(fx.groupId(), { requireKnownMemberId: false }));
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(joined.memberId).not.toBe('');
    expect(joined.generationId).toBe(1);
  });

  it('puts members that start together into one generation with one leader', async () => {
    const coordinator = fx.coordinator({ initialRebalanceDelayMs: 150 });
    const groupId = fx.groupId();
    const joins = [joinGroup(coordinator, groupId, { clientId: 'a' })];
    await sleep(60);
    joins.push(joinGroup(coordinator, groupId, { clientId: 'b' }));
    await sleep(60);
    joins.push(joinGroup(coordinator, groupId, { clientId: 'c' }));
    const joined = await Promise.all(joins);
    expect(joined.map((j) => j.errorCode)).toEqual([0, 0, 0]);
    expect(new Set(joined.map((j) => j.generationId))).toEqual(new Set([1]));
    expect(new Set(joined.map((j) => j.leaderId)).size).toBe(1);
    const leaders = joined.filter((j) => j.memberId === j.leaderId);
    expect(leaders).toHaveLength(1);
    expect(leaders[0]!.members.map((m) => m.memberId).sort()).toEqual(joined.map((j) => j.memberId).sort());
    for (const follower of joined.filter((j) => j !== leaders[0])) expect(follower.members).toEqual([]);
  });

  it('chooses the protocol all members support that most prefer, and rejects members with none in common', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const meta = subscription('orders');
    const joined = await Promise.all([
      joinGroup(coordinator, groupId, {
        protocols: [
          { name: 'range', metadata: meta },
          { name: 'roundrobin', metadata: meta },
        ],
      }),
      joinGroup(coordinator, groupId, {
        protocols: [
          { name: 'roundrobin', metadata: meta },
          { name: 'range', metadata: meta },
        ],
      }),
      joinGroup(coordinator, groupId, {
        protocols: [
          { name: 'sticky', metadata: meta },
          { name: 'roundrobin', metadata: meta },
          { name: 'range', metadata: meta },
        ],
      }),
    ]);
    expect(joined.map((j) => j.protocolName)).toEqual(['roundrobin', 'roundrobin', 'roundrobin']);

    const stranger = await joinGroup(coordinator, groupId, {
      protocols: [{ name: 'sticky', metadata: meta }],
    });
    expect(stranger.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const otherType = await joinGroup(coordinator, groupId, { protocolType: 'connect' });
    expect(otherType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const nothing = await joinGroup(coordinator, fx.groupId(), { protocols: [] });
    expect(nothing.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('validates session timeouts against the configured bounds', async () => {
    const coordinator = fx.coordinator({ minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 30_000 });
    const groupId = fx.groupId();
    expect((await coordinator.joinGroup(joinParams(groupId, { sessionTimeoutMs: 5999 }))).errorCode).toBe(
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    expect((await coordinator.joinGroup(joinParams(groupId, { sessionTimeoutMs: 30_001 }))).errorCode).toBe(
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    expect((await coordinator.joinGroup(joinParams(groupId, { sessionTimeoutMs: 6000 }))).errorCode).toBe(
      ErrorCode.MEMBER_ID_REQUIRED,
    );
  });

  it('rejects unknown member ids and empty group ids', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    expect((await coordinator.joinGroup(joinParams(groupId, { memberId: 'nobody' }))).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    await stableGroup(coordinator, groupId, 1);
    expect((await coordinator.joinGroup(joinParams(groupId, { memberId: 'nobody' }))).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect((await coordinator.joinGroup(joinParams(''))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('gives a follower rejoining a Stable group with unchanged metadata the current generation', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader, follower] = await stableGroup(coordinator, groupId, 2);
    const again = await coordinator.joinGroup(joinParams(groupId, { memberId: follower!.memberId }));
    expect(again).toMatchObject({
      errorCode: 0,
      generationId: leader!.generationId,
      leaderId: leader!.memberId,
      members: [],
    });
    expect(await heartbeat(coordinator, groupId, leader!)).toBe(ErrorCode.NONE);
  });
});

describe('SyncGroup', () => {
  it("hands every member the leader's assignment for it; followers that sync first wait", async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const joined = await Promise.all(
      [0, 1, 2].map((i) => joinGroup(coordinator, groupId, { clientId: `c${i}` })),
    );
    const leader = joined.find((j) => j.memberId === j.leaderId)!;
    const followers = joined.filter((j) => j !== leader);
    const sync = (j: (typeof joined)[number], assignments: { memberId: string; assignment: Buffer }[] = []) =>
      coordinator.syncGroup({
        groupId,
        generationId: j.generationId,
        memberId: j.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments,
      });
    const followerSyncs = followers.map((f) => sync(f));
    expect(await settledWithin(Promise.race(followerSyncs), 100)).toBeUndefined();
    expect((await coordinator.describeGroup(groupId)).state).toBe('CompletingRebalance');

    const leaderSync = await sync(leader, [
      { memberId: leader.memberId, assignment: assignment('orders', 0) },
      { memberId: followers[0]!.memberId, assignment: assignment('orders', 1, 2) },
      // followers[1] is left out and gets an empty assignment.
    ]);
    expect(leaderSync).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
    expect(decodeAssignment(leaderSync.assignment).value.assignedPartitions).toEqual([
      { topic: 'orders', partitions: [0] },
    ]);
    const [first, second] = await Promise.all(followerSyncs);
    expect(decodeAssignment(first!.assignment).value.assignedPartitions).toEqual([
      { topic: 'orders', partitions: [1, 2] },
    ]);
    expect(second!.assignment.length).toBe(0);
    expect((await coordinator.describeGroup(groupId)).state).toBe('Stable');

    // A late sync in the Stable group returns the stored assignment.
    expect((await sync(followers[0]!)).assignment).toEqual(assignment('orders', 1, 2));
  });

  it('rejects wrong generations, mismatched protocols and syncs while preparing a rebalance', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader, follower] = await stableGroup(coordinator, groupId, 2);
    const base = { groupId, memberId: follower!.memberId, groupInstanceId: null, assignments: [] };
    const sync = (overrides: object) =>
      coordinator.syncGroup({
        ...base,
        generationId: follower!.generationId,
        protocolType: null,
        protocolName: null,
        ...overrides,
      });
    expect((await sync({ generationId: 99 })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await sync({ protocolType: 'connect' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await sync({ protocolName: 'roundrobin' })).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await sync({ memberId: 'nobody' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    // The leader rejoining starts a rebalance; syncs for the old generation must rejoin.
    const rejoin = coordinator.joinGroup(joinParams(groupId, { memberId: leader!.memberId }));
    expect((await sync({})).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    await coordinator.joinGroup(joinParams(groupId, { memberId: follower!.memberId }));
    expect((await rejoin).generationId).toBe(leader!.generationId + 1);
  });
});

describe('Heartbeat and rebalances', () => {
  it('tells members to rejoin when a new member joins, and everyone lands in the next generation', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [a, b] = await stableGroup(coordinator, groupId, 2);
    expect(await heartbeat(coordinator, groupId, a!)).toBe(ErrorCode.NONE);

    const newcomer = joinGroup(coordinator, groupId, { clientId: 'late' });
    await sleep(20);
    expect(await heartbeat(coordinator, groupId, a!)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await heartbeat(coordinator, groupId, b!)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect((await coordinator.describeGroup(groupId)).state).toBe('PreparingRebalance');

    const rejoined = await Promise.all([
      coordinator.joinGroup(joinParams(groupId, { memberId: a!.memberId })),
      coordinator.joinGroup(joinParams(groupId, { memberId: b!.memberId })),
      newcomer,
    ]);
    expect(rejoined.map((j) => [j.errorCode, j.generationId])).toEqual([
      [0, 2],
      [0, 2],
      [0, 2],
    ]);
    expect(rejoined[0]!.leaderId).toBe(a!.memberId);
    expect(rejoined[0]!.members).toHaveLength(3);
    expect(await heartbeat(coordinator, groupId, a!)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await heartbeat(coordinator, groupId, rejoined[0]!)).toBe(ErrorCode.NONE);
    expect(await heartbeat(coordinator, groupId, { memberId: 'nobody', generationId: 2 })).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('expires a member that stops heartbeating and rebalances the others', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [a, b] = await stableGroup(coordinator, groupId, 2, [
      { sessionTimeoutMs: 400 },
      { sessionTimeoutMs: 400 },
    ]);
    // a keeps heartbeating; b goes silent.
    let code: number = ErrorCode.NONE;
    for (let i = 0; i < 20 && code === ErrorCode.NONE; i++) {
      await sleep(50);
      code = await heartbeat(coordinator, groupId, a!);
    }
    expect(code).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await heartbeat(coordinator, groupId, b!)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoined = await coordinator.joinGroup(
      joinParams(groupId, { memberId: a!.memberId, sessionTimeoutMs: 400 }),
    );
    expect(rejoined).toMatchObject({
      errorCode: 0,
      generationId: a!.generationId + 1,
      leaderId: a!.memberId,
    });
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a!.memberId]);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [a, b] = await stableGroup(coordinator, groupId, 2, [
      { rebalanceTimeoutMs: 200 },
      { rebalanceTimeoutMs: 200 },
    ]);
    const started = Date.now();
    // b changes its subscription, which forces a rebalance; a never rejoins.
    const rejoined = await coordinator.joinGroup(
      joinParams(groupId, {
        memberId: b!.memberId,
        rebalanceTimeoutMs: 200,
        protocols: [{ name: 'range', metadata: subscription('orders', 'payments') }],
      }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    // b becomes the leader because the old leader did not rejoin.
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 2, leaderId: b!.memberId });
    expect(rejoined.members.map((m) => m.memberId)).toEqual([b!.memberId]);
    expect(await heartbeat(coordinator, groupId, a!)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes members that never send SyncGroup and rebalances without them', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const joined = await Promise.all([
      joinGroup(coordinator, groupId, { rebalanceTimeoutMs: 200 }),
      joinGroup(coordinator, groupId, { rebalanceTimeoutMs: 200 }),
    ]);
    const leader = joined.find((j) => j.memberId === j.leaderId)!;
    const follower = joined.find((j) => j !== leader)!;
    // Only the follower syncs; the leader never does.
    const parked = coordinator.syncGroup({
      groupId,
      generationId: follower.generationId,
      memberId: follower.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect((await parked).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await heartbeat(coordinator, groupId, leader)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoined = await coordinator.joinGroup(joinParams(groupId, { memberId: follower.memberId }));
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 2, leaderId: follower.memberId });
  });
});

describe('LeaveGroup', () => {
  it('rebalances the remaining members, and empties the group when the last one leaves', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [a, b] = await stableGroup(coordinator, groupId, 2);
    const left = await coordinator.leaveGroup(groupId, [
      { memberId: b!.memberId, groupInstanceId: null },
      { memberId: 'nobody', groupInstanceId: null },
    ]);
    expect(left.errorCode).toBe(ErrorCode.NONE);
    expect(left.members.map((m) => m.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await heartbeat(coordinator, groupId, a!)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await coordinator.joinGroup(joinParams(groupId, { memberId: a!.memberId }));
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a!.memberId]);

    await coordinator.leaveGroup(groupId, [{ memberId: a!.memberId, groupInstanceId: null }]);
    const described = await coordinator.describeGroup(groupId);
    expect(described).toMatchObject({ state: 'Empty', members: [] });
    expect(await heartbeat(coordinator, groupId, rejoined)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('answers a parked JoinGroup of a member that leaves', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [a, b] = await stableGroup(coordinator, groupId, 2);
    const parked = coordinator.joinGroup(joinParams(groupId, { memberId: a!.memberId }));
    await sleep(20);
    await coordinator.leaveGroup(groupId, [{ memberId: a!.memberId, groupInstanceId: null }]);
    expect((await parked).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoined = await coordinator.joinGroup(joinParams(groupId, { memberId: b!.memberId }));
    expect(rejoined).toMatchObject({ errorCode: 0, leaderId: b!.memberId });
  });
});

describe('static membership (KIP-345)', () => {
  it('lets a restarted static member take over its assignment without a rebalance, fencing the old member id', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader, member] = await stableGroup(coordinator, groupId, 2, [
      { instanceId: 'i-0' },
      { instanceId: 'i-1' },
    ]);
    expect(leader!.errorCode).toBe(0);

    // Static members join with their instance id straight away: no MEMBER_ID_REQUIRED.
    const restarted = await coordinator.joinGroup(joinParams(groupId, { instanceId: 'i-1', clientId: 'c1' }));
    expect(restarted.errorCode).toBe(ErrorCode.NONE);
    expect(restarted.memberId).not.toBe(member!.memberId);
    expect(restarted).toMatchObject({
      generationId: member!.generationId,
      leaderId: leader!.memberId,
      members: [],
    });
    expect((await coordinator.describeGroup(groupId)).state).toBe('Stable');

    const synced = await coordinator.syncGroup({
      groupId,
      generationId: restarted.generationId,
      memberId: restarted.memberId,
      groupInstanceId: 'i-1',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect(synced).toMatchObject({ errorCode: 0, assignment: assignment('orders', 1) });
    expect(await heartbeat(coordinator, groupId, leader!, 'i-0')).toBe(ErrorCode.NONE);
    expect(await heartbeat(coordinator, groupId, restarted, 'i-1')).toBe(ErrorCode.NONE);
    expect(await heartbeat(coordinator, groupId, member!, 'i-1')).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(await heartbeat(coordinator, groupId, member!)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const staleJoin = await coordinator.joinGroup(
      joinParams(groupId, { memberId: member!.memberId, instanceId: 'i-1' }),
    );
    expect(staleJoin.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const leave = await coordinator.leaveGroup(groupId, [
      { memberId: member!.memberId, groupInstanceId: 'i-1' },
    ]);
    expect(leave.members[0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('rebalances when a returning static member changes the chosen protocol, and can be removed by instance id', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const meta = subscription('orders');
    const both = [
      { name: 'range', metadata: meta },
      { name: 'roundrobin', metadata: meta },
    ];
    const [a, b] = await stableGroup(coordinator, groupId, 2, [
      { instanceId: 'i-a', protocols: both },
      { instanceId: 'i-b', protocols: both },
    ]);
    expect(a!.protocolName).toBe('range');
    const parked = coordinator.joinGroup(
      joinParams(groupId, { instanceId: 'i-b', protocols: [{ name: 'roundrobin', metadata: meta }] }),
    );
    await sleep(20);
    expect(await heartbeat(coordinator, groupId, a!, 'i-a')).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const aAgain = await coordinator.joinGroup(
      joinParams(groupId, { memberId: a!.memberId, instanceId: 'i-a', protocols: both }),
    );
    const bAgain = await parked;
    expect([aAgain.protocolName, bAgain.protocolName]).toEqual(['roundrobin', 'roundrobin']);
    expect(bAgain.generationId).toBe(b!.generationId + 1);

    const removed = await coordinator.leaveGroup(groupId, [{ memberId: '', groupInstanceId: 'i-b' }]);
    expect(removed.members).toEqual([{ memberId: '', groupInstanceId: 'i-b', errorCode: 0 }]);
    expect(await heartbeat(coordinator, groupId, bAgain, 'i-b')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('close', () => {
  it('answers parked requests and refuses new ones with COORDINATOR_NOT_AVAILABLE', async () => {
    const coordinator = fx.coordinator({ initialRebalanceDelayMs: 10_000 });
    const groupId = fx.groupId();
    const parked = joinGroup(coordinator, groupId);
    await sleep(50);
    await coordinator.close();
    expect((await parked).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect((await coordinator.joinGroup(joinParams(groupId))).errorCode).toBe(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    expect(
      await coordinator.heartbeat({ groupId, generationId: 1, memberId: 'x', groupInstanceId: null }),
    ).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});
