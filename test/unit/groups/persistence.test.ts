import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../../broker/groups/group-coordinator.js';
import type { OffsetCommitParams } from '../../../broker/groups/offset-manager.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { assignment, joinGroup, joinParams, sleep, stableGroup, useGroupsFixture } from './fixture.js';

const fx = useGroupsFixture();

function commit(
  coordinator: GroupCoordinator,
  groupId: string,
  member: { memberId: string; generationId: number } | null,
  partitions: { topic?: string; partition: number; offset: number; metadata?: string | null }[],
  groupInstanceId: string | null = null,
) {
  const byTopic = new Map<string, OffsetCommitParams['topics'][number]>();
  for (const p of partitions) {
    const name = p.topic ?? 'orders';
    if (!byTopic.has(name)) byTopic.set(name, { name, partitions: [] });
    byTopic.get(name)!.partitions.push({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: 3,
      committedMetadata: p.metadata ?? null,
    });
  }
  return coordinator.commitOffsets({
    groupId,
    generationId: member?.generationId ?? -1,
    memberId: member?.memberId ?? '',
    groupInstanceId,
    topics: [...byTopic.values()],
  });
}

const errorsOf = (result: Awaited<ReturnType<typeof commit>>) =>
  result.flatMap((t) => t.partitions.map((p) => p.errorCode));

async function storedItems(groupId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await fx.client().send(
    new QueryCommand({
      TableName: `${fx.prefix}-groups`,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': groupId },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('OffsetCommit and OffsetFetch', () => {
  it('stores offsets committed by members of the current generation', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader] = await stableGroup(coordinator, groupId, 2);
    const result = await commit(coordinator, groupId, leader!, [
      { partition: 0, offset: 42, metadata: 'checkpoint' },
      { partition: 1, offset: 7 },
      { topic: 'missing', partition: 0, offset: 1 },
      { topic: 'orders', partition: 5000, offset: 1 },
    ]);
    expect(result).toEqual([
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, errorCode: 0 },
          { partitionIndex: 1, errorCode: 0 },
          { partitionIndex: 5000, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      {
        name: 'missing',
        partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
      },
    ]);

    const fetched = await coordinator.fetchOffsets(groupId, [
      { name: 'orders', partitionIndexes: [0, 1, 2] },
    ]);
    expect(fetched).toEqual({
      errorCode: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 42,
              committedLeaderEpoch: 3,
              metadata: 'checkpoint',
              errorCode: 0,
            },
            { partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: 3, metadata: '', errorCode: 0 },
            { partitionIndex: 2, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
    });
    const all = await coordinator.fetchOffsets(groupId, null);
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)])).toEqual([
      ['orders', [42, 7]],
    ]);

    const item = (await storedItems(groupId)).find((i) => i.sk === 'offset#orders#0');
    expect(item).toMatchObject({
      offset: 42,
      leaderEpoch: 3,
      metadata: 'checkpoint',
      topic: 'orders',
      partition: 0,
    });
    expect(Math.abs((item!.commitTimestamp as number) - Date.now())).toBeLessThan(10_000);
  });

  it('fences commits by generation and membership, as Kafka does', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader, follower] = await stableGroup(coordinator, groupId, 2);
    const at = { partition: 0, offset: 1 };
    expect(errorsOf(await commit(coordinator, groupId, { ...leader!, generationId: 0 }, [at]))).toEqual([
      ErrorCode.ILLEGAL_GENERATION,
    ]);
    expect(errorsOf(await commit(coordinator, groupId, { ...leader!, memberId: 'nobody' }, [at]))).toEqual([
      ErrorCode.UNKNOWN_MEMBER_ID,
    ]);
    // Generation -1 (assign()-style) commits are only for groups without members.
    expect(errorsOf(await commit(coordinator, groupId, null, [at]))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(errorsOf(await commit(coordinator, groupId, leader!, [at], 'not-an-instance'))).toEqual([
      ErrorCode.UNKNOWN_MEMBER_ID,
    ]);

    // While preparing a rebalance, members of the current generation may still commit.
    const rejoin = coordinator.joinGroup(joinParams(groupId, { memberId: leader!.memberId }));
    await sleep(20);
    expect(errorsOf(await commit(coordinator, groupId, follower!, [{ partition: 0, offset: 10 }]))).toEqual([
      0,
    ]);
    const rejoinFollower = await coordinator.joinGroup(joinParams(groupId, { memberId: follower!.memberId }));
    await rejoin;
    // Between JoinGroup and SyncGroup the new generation cannot commit yet.
    expect(
      errorsOf(await commit(coordinator, groupId, rejoinFollower, [{ partition: 0, offset: 11 }])),
    ).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    expect(errorsOf(await commit(coordinator, groupId, follower!, [{ partition: 0, offset: 12 }]))).toEqual([
      ErrorCode.ILLEGAL_GENERATION,
    ]);
    const fetched = await coordinator.fetchOffsets(groupId, [{ name: 'orders', partitionIndexes: [0] }]);
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(10);
  });

  it('accepts generation -1 commits for unknown and empty groups only', async () => {
    const coordinator = fx.coordinator();
    const simple = fx.groupId();
    expect(errorsOf(await commit(coordinator, simple, null, [{ partition: 3, offset: 99 }]))).toEqual([0]);
    expect(
      (await coordinator.fetchOffsets(simple, [{ name: 'orders', partitionIndexes: [3] }])).topics[0]!
        .partitions[0]!.committedOffset,
    ).toBe(99);
    expect((await coordinator.describeGroup(simple)).state).toBe('Empty');
    // A generation for a group that does not exist is from an old incarnation of it.
    expect(
      errorsOf(
        await commit(coordinator, fx.groupId(), { memberId: 'm', generationId: 4 }, [
          { partition: 0, offset: 1 },
        ]),
      ),
    ).toEqual([ErrorCode.ILLEGAL_GENERATION]);

    const groupId = fx.groupId();
    const [only] = await stableGroup(coordinator, groupId, 1);
    expect(errorsOf(await commit(coordinator, groupId, null, [{ partition: 0, offset: 5 }]))).toEqual([
      ErrorCode.UNKNOWN_MEMBER_ID,
    ]);
    await coordinator.leaveGroup(groupId, [{ memberId: only!.memberId, groupInstanceId: null }]);
    expect(errorsOf(await commit(coordinator, groupId, null, [{ partition: 0, offset: 5 }]))).toEqual([0]);
  });

  it('commits more partitions than one DynamoDB transaction holds', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader] = await stableGroup(coordinator, groupId, 1);
    const partitions = Array.from({ length: 250 }, (_, i) => ({ partition: i, offset: i * 10 }));
    expect(new Set(errorsOf(await commit(coordinator, groupId, leader!, partitions)))).toEqual(new Set([0]));
    const restarted = fx.coordinator();
    const all = await restarted.fetchOffsets(groupId, null);
    expect(all.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual(partitions.map((p) => p.offset));
  });

  it('rejects oversized metadata per partition', async () => {
    const coordinator = fx.coordinator({ maxOffsetMetadataBytes: 8 });
    const groupId = fx.groupId();
    const result = await commit(coordinator, groupId, null, [
      { partition: 0, offset: 1, metadata: 'short' },
      { partition: 1, offset: 1, metadata: 'far too long' },
    ]);
    expect(errorsOf(result)).toEqual([0, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  });
});

describe('persistence in DynamoDB', () => {
  it('lets a restarted coordinator resume a Stable group: generation, members, assignments and offsets', async () => {
    const before = fx.coordinator();
    const groupId = fx.groupId();
    // The static member skips MEMBER_ID_REQUIRED, so it joins first and leads.
    const [follower, leader] = await stableGroup(before, groupId, 2, [{}, { instanceId: 'i-1' }]);
    expect(leader!.leaderId).toBe(leader!.memberId);
    await commit(before, groupId, leader!, [{ partition: 0, offset: 100, metadata: 'm' }], 'i-1');
    await before.close();

    const after = fx.coordinator();
    expect(await after.heartbeat({ ...leader!, groupId, groupInstanceId: 'i-1' })).toBe(ErrorCode.NONE);
    expect(await after.heartbeat({ ...follower!, groupId, groupInstanceId: null })).toBe(ErrorCode.NONE);
    const described = await after.describeGroup(groupId);
    expect(described).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.members.map((m) => [m.memberId, m.groupInstanceId, m.clientId, m.assignment])).toEqual([
      [leader!.memberId, 'i-1', 'c1', assignment('orders', 1)],
      [follower!.memberId, null, 'c0', assignment('orders', 0)],
    ]);
    const synced = await after.syncGroup({
      groupId,
      generationId: leader!.generationId,
      memberId: leader!.memberId,
      groupInstanceId: 'i-1',
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    expect(synced).toMatchObject({ errorCode: 0, assignment: assignment('orders', 1) });
    const fetched = await after.fetchOffsets(groupId, [{ name: 'orders', partitionIndexes: [0] }]);
    expect(fetched.topics[0]!.partitions[0]).toMatchObject({
      committedOffset: 100,
      metadata: 'm',
      committedLeaderEpoch: 3,
    });
    expect(errorsOf(await commit(after, groupId, follower!, [{ partition: 1, offset: 5 }]))).toEqual([0]);

    // A static member replaced after the restart is fenced in storage too; with v9 the returning
    // leader is told it leads but may skip the assignment (KIP-814).
    const replaced = await after.joinGroup(
      joinParams(groupId, { instanceId: 'i-1', clientId: 'c1', supportSkippingAssignment: true }),
    );
    expect(replaced).toMatchObject({
      errorCode: 0,
      generationId: leader!.generationId,
      skipAssignment: true,
    });
    expect(replaced.leaderId).toBe(replaced.memberId);
    expect(replaced.members).toHaveLength(2);
    const third = fx.coordinator();
    expect(await third.heartbeat({ ...leader!, groupId, groupInstanceId: 'i-1' })).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expect(await third.heartbeat({ ...replaced, groupId, groupInstanceId: 'i-1' })).toBe(ErrorCode.NONE);
    expect(await third.heartbeat({ ...follower!, groupId, groupInstanceId: null })).toBe(ErrorCode.NONE);
  });

  it('restarts session timers on load, so members that never come back are expired', async () => {
    const before = fx.coordinator();
    const groupId = fx.groupId();
    const [a, b] = await stableGroup(before, groupId, 2, [
      { sessionTimeoutMs: 300 },
      { sessionTimeoutMs: 300 },
    ]);
    await before.close();
    await sleep(400);

    const after = fx.coordinator();
    // Loading counts sessions from now: a is still a member...
    expect(await after.heartbeat({ ...a!, groupId, groupInstanceId: null })).toBe(ErrorCode.NONE);
    let code: number = ErrorCode.NONE;
    for (let i = 0; i < 20 && code === ErrorCode.NONE; i++) {
      await sleep(50);
      code = await after.heartbeat({ ...a!, groupId, groupInstanceId: null });
    }
    // ...while b, silent, expires and a is asked to rejoin.
    expect(code).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await after.heartbeat({ ...b!, groupId, groupInstanceId: null })).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('resumes a group whose sync phase was interrupted', async () => {
    const before = fx.coordinator();
    const groupId = fx.groupId();
    const joined = await Promise.all([joinGroup(before, groupId), joinGroup(before, groupId)]);
    await before.close();
    const leader = joined.find((j) => j.memberId === j.leaderId)!;
    const follower = joined.find((j) => j !== leader)!;

    const after = fx.coordinator();
    expect((await after.describeGroup(groupId)).state).toBe('CompletingRebalance');
    // Members rejoining with unchanged metadata get the same generation back, then sync.
    const again = await after.joinGroup(joinParams(groupId, { memberId: leader.memberId }));
    expect(again).toMatchObject({
      errorCode: 0,
      generationId: leader.generationId,
      leaderId: leader.memberId,
    });
    expect(again.members).toHaveLength(2);
    const sync = (j: typeof leader, assignments: { memberId: string; assignment: Buffer }[]) =>
      after.syncGroup({
        groupId,
        generationId: j.generationId,
        memberId: j.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments,
      });
    const [followerSync] = await Promise.all([
      sync(follower, []),
      sync(leader, [{ memberId: follower.memberId, assignment: assignment('orders', 9) }]),
    ]);
    expect(followerSync).toMatchObject({ errorCode: 0, assignment: assignment('orders', 9) });
  });

  it('fences a coordinator whose view of the group is stale', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [leader] = await stableGroup(coordinator, groupId, 1);
    // Another coordinator moved the group to a newer generation behind this one's back.
    await fx.client().send(
      new UpdateCommand({
        TableName: `${fx.prefix}-groups`,
        Key: { pk: groupId, sk: 'group' },
        UpdateExpression: 'SET generationId = :g, version = version + :one',
        ExpressionAttributeValues: { ':g': leader!.generationId + 5, ':one': 1 },
      }),
    );
    expect(errorsOf(await commit(coordinator, groupId, leader!, [{ partition: 0, offset: 1 }]))).toEqual([
      ErrorCode.NOT_COORDINATOR,
    ]);
    // The group was unloaded and is re-read from storage: the old generation is now stale.
    expect(await coordinator.heartbeat({ ...leader!, groupId, groupInstanceId: null })).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    const offsets = (await storedItems(groupId)).filter((i) => String(i.sk).startsWith('offset#'));
    expect(offsets).toEqual([]);
  });

  it('fences group writes on the stored version', async () => {
    const a = fx.coordinator();
    const b = fx.coordinator();
    const groupId = fx.groupId();
    const [leader] = await stableGroup(a, groupId, 1);
    // b loads the group too, then a moves it on (the leader rejoins: generation 2).
    expect(await b.heartbeat({ ...leader!, groupId, groupInstanceId: null })).toBe(ErrorCode.NONE);
    const rejoined = await a.joinGroup(joinParams(groupId, { memberId: leader!.memberId }));
    expect(rejoined.generationId).toBe(2);
    // b's stale view cannot overwrite generation 2 when its own rebalance completes.
    const stale = await b.joinGroup(joinParams(groupId, { memberId: leader!.memberId }));
    expect(stale.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    const [item] = (await storedItems(groupId)).filter((i) => i.sk === 'group');
    expect(item).toMatchObject({ generationId: 2, groupState: 'CompletingRebalance' });
  });
});

describe('admin APIs', () => {
  it('lists and describes groups', async () => {
    const coordinator = fx.coordinator();
    const stable = fx.groupId();
    const simple = fx.groupId();
    await stableGroup(coordinator, stable, 2);
    await commit(coordinator, simple, null, [{ partition: 0, offset: 1 }]);

    const listed = await coordinator.listGroups();
    expect(listed.errorCode).toBe(0);
    expect(listed.groups.filter((g) => g.groupId === stable || g.groupId === simple)).toEqual(
      [
        { groupId: stable, protocolType: 'consumer', state: 'Stable' },
        { groupId: simple, protocolType: '', state: 'Empty' },
      ].sort((x, y) => x.groupId.localeCompare(y.groupId)),
    );
    // A fresh coordinator lists from storage without loading anything.
    const fresh = fx.coordinator();
    const fromStorage = (await fresh.listGroups()).groups.find((g) => g.groupId === stable);
    expect(fromStorage).toEqual({ groupId: stable, protocolType: 'consumer', state: 'Stable' });

    const described = await coordinator.describeGroup(stable);
    expect(described).toMatchObject({
      errorCode: 0,
      state: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
    });
    expect(described.members.map((m) => [m.clientId, m.clientHost, m.assignment.length > 0])).toEqual([
      ['c0', '/127.0.0.1', true],
      ['c1', '/127.0.0.1', true],
    ]);
    expect(await coordinator.describeGroup(fx.groupId())).toMatchObject({
      errorCode: 0,
      state: 'Dead',
      members: [],
    });
  });

  it('deletes only empty groups, with their offsets', async () => {
    const coordinator = fx.coordinator();
    const groupId = fx.groupId();
    const [only] = await stableGroup(coordinator, groupId, 1);
    await commit(coordinator, groupId, only!, [{ partition: 0, offset: 8 }]);
    expect(await coordinator.deleteGroup(groupId)).toBe(ErrorCode.NON_EMPTY_GROUP);
    expect(await coordinator.deleteGroup(fx.groupId())).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    await coordinator.leaveGroup(groupId, [{ memberId: only!.memberId, groupInstanceId: null }]);
    expect(await coordinator.deleteGroup(groupId)).toBe(ErrorCode.NONE);
    expect(await storedItems(groupId)).toEqual([]);
    expect(await coordinator.deleteGroup(groupId)).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect((await coordinator.describeGroup(groupId)).state).toBe('Dead');
    expect((await coordinator.listGroups()).groups.some((g) => g.groupId === groupId)).toBe(false);
    const fetched = await coordinator.fetchOffsets(groupId, [{ name: 'orders', partitionIndexes: [0] }]);
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(-1);

    // Offsets-only groups (simple consumers) can be deleted too, and the id can be reused.
    const simple = fx.groupId();
    await commit(coordinator, simple, null, [{ partition: 0, offset: 1 }]);
    expect(await coordinator.deleteGroup(simple)).toBe(ErrorCode.NONE);
    expect(await storedItems(simple)).toEqual([]);
    const reborn = await joinGroup(coordinator, groupId);
    expect(reborn).toMatchObject({ errorCode: 0, generationId: 1 });
  });
});
