import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { CoordinatorEndpoint, CoordinatorLocator } from '../../../broker/groups/coordinator-locator.js';
import type { GroupCoordinator } from '../../../broker/groups/group-coordinator.js';
import type { JoinOutcome } from '../../../broker/groups/group-member.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { joinGroup, joinParams, settledWithin, sleep, stableGroup, useGroupsFixture } from './fixture.js';

const fx = useGroupsFixture();

/**
 * One broker's view of where groups live: every group on this broker unless moved. `move`
 * changes the view and notifies, as a real locator does when the live brokers change; views of
 * different brokers are independent, so tests can also make them disagree.
 */
class FakeLocator implements CoordinatorLocator {
  private readonly owners = new Map<string, number | undefined>();
  private readonly listeners = new Set<() => void>();

  constructor(readonly localNodeId: number) {}

  coordinatorFor(groupId: string): CoordinatorEndpoint | undefined {
    const nodeId = this.owners.has(groupId) ? this.owners.get(groupId) : this.localNodeId;
    return nodeId === undefined ? undefined : { nodeId, host: `b${nodeId}.local`, port: 9000 + nodeId };
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Places `groupId` on `nodeId` (undefined: no live broker) and notifies. */
  move(groupId: string, nodeId: number | undefined): void {
    this.owners.set(groupId, nodeId);
    for (const listener of this.listeners) listener();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** Two brokers whose views agree: `move` changes both. */
function twoBrokers() {
  const views = [new FakeLocator(1), new FakeLocator(2)] as const;
  const [a, b] = views.map((view) => fx.coordinator({}, view)) as [GroupCoordinator, GroupCoordinator];
  return {
    a,
    b,
    move(groupId: string, nodeId: number) {
      for (const view of views) view.move(groupId, nodeId);
    },
  };
}

const member = (groupId: string, j: JoinOutcome) => ({
  groupId,
  generationId: j.generationId,
  memberId: j.memberId,
  groupInstanceId: null,
});

const commitOne = (coordinator: GroupCoordinator, groupId: string, j: JoinOutcome | null, offset: number) =>
  coordinator.commitOffsets({
    groupId,
    generationId: j?.generationId ?? -1,
    memberId: j?.memberId ?? '',
    groupInstanceId: null,
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: 1, committedMetadata: null },
        ],
      },
    ],
  });

const commitErrors = (result: Awaited<ReturnType<typeof commitOne>>) =>
  result.flatMap((t) => t.partitions.map((p) => p.errorCode));

async function fetchedOffset(coordinator: GroupCoordinator, groupId: string) {
  const fetched = await coordinator.fetchOffsets(groupId, [{ name: 'orders', partitionIndexes: [0] }]);
  return { errorCode: fetched.errorCode, offset: fetched.topics[0]?.partitions[0]?.committedOffset };
}

async function storedItemCount(groupId: string): Promise<number> {
  const { Items } = await fx.client().send(
    new QueryCommand({
      TableName: `${fx.prefix}-groups`,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': groupId },
      ConsistentRead: true,
    }),
  );
  return Items?.length ?? 0;
}

describe('groups coordinated by other brokers', () => {
  it('answers NOT_COORDINATOR to every operation, without touching storage', async () => {
    const locator = new FakeLocator(1);
    const coordinator = fx.coordinator({}, locator);
    const groupId = fx.groupId();
    const ref = { groupId, generationId: 1, memberId: 'm', groupInstanceId: null };
    for (const owner of [2, undefined]) {
      locator.move(groupId, owner);
      expect((await coordinator.joinGroup(joinParams(groupId))).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      const synced = await coordinator.syncGroup({
        ...ref,
        protocolType: null,
        protocolName: null,
        assignments: [],
      });
      expect(synced.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect(await coordinator.heartbeat(ref)).toBe(ErrorCode.NOT_COORDINATOR);
      expect(
        (await coordinator.leaveGroup(groupId, [{ memberId: 'm', groupInstanceId: null }])).errorCode,
      ).toBe(ErrorCode.NOT_COORDINATOR);
      expect(commitErrors(await commitOne(coordinator, groupId, null, 5))).toEqual([
        ErrorCode.NOT_COORDINATOR,
      ]);
      expect((await fetchedOffset(coordinator, groupId)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect((await coordinator.describeGroup(groupId)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect(await coordinator.deleteGroup(groupId)).toBe(ErrorCode.NOT_COORDINATOR);
    }
    expect(await storedItemCount(groupId)).toBe(0);

    // Once the group is placed here, it is served.
    locator.move(groupId, 1);
    expect(commitErrors(await commitOne(coordinator, groupId, null, 5))).toEqual([ErrorCode.NONE]);
    expect(await fetchedOffset(coordinator, groupId)).toEqual({ errorCode: ErrorCode.NONE, offset: 5 });

    await coordinator.close();
    expect(locator.listenerCount).toBe(0);
  });

  it('lists only the groups each broker coordinates', async () => {
    const { a, b, move } = twoBrokers();
    const [g1, g2] = [fx.groupId(), fx.groupId()];
    // Stored groups (offsets only) and a loaded one (with a member) are listed alike.
    expect(commitErrors(await commitOne(a, g1, null, 1))).toEqual([0]);
    await stableGroup(a, g2, 1);
    const listed = async (coordinator: GroupCoordinator) => {
      const { errorCode, groups } = await coordinator.listGroups();
      expect(errorCode).toBe(ErrorCode.NONE);
      return groups.filter((g) => g.groupId === g1 || g.groupId === g2).map((g) => [g.groupId, g.state]);
    };
    move(g1, 1);
    move(g2, 2);
    expect(await listed(a)).toEqual([[g1, 'Empty']]);
    expect(await listed(b)).toEqual([[g2, 'Stable']]);
    move(g1, 2);
    expect(await listed(a)).toEqual([]);
    const both = await listed(b);
    expect(both).toHaveLength(2);
    expect(both).toEqual(
      expect.arrayContaining([
        [g1, 'Empty'],
        [g2, 'Stable'],
      ]),
    );
  });
});

describe('coordination moving away', () => {
  it('answers parked joins with NOT_COORDINATOR and cancels the group’s timers', async () => {
    const locator = new FakeLocator(1);
    const coordinator = fx.coordinator({ initialRebalanceDelayMs: 200 }, locator);
    const groupId = fx.groupId();
    // The first join of a new group is parked for the initial rebalance delay.
    const parked = joinGroup(coordinator, groupId);
    await sleep(50);
    expect(await settledWithin(parked, 0)).toBeUndefined();

    locator.move(groupId, 2);
    expect(await settledWithin(parked, 100)).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR });
    expect(coordinator.groupCountsByState().size).toBe(0);
    // The join timer would have completed generation 1 and stored the group.
    await sleep(300);
    expect(await storedItemCount(groupId)).toBe(0);
  });

  it('answers parked syncs with NOT_COORDINATOR, and requests already queued too', async () => {
    const locator = new FakeLocator(1);
    const coordinator = fx.coordinator({}, locator);
    const groupId = fx.groupId();
    const joined = await Promise.all([joinGroup(coordinator, groupId), joinGroup(coordinator, groupId)]);
    const follower = joined.find((j) => j.memberId !== j.leaderId)!;
    const leader = joined.find((j) => j.memberId === j.leaderId)!;
    // Without the leader's assignment, the follower's SyncGroup waits.
    const parked = coordinator.syncGroup({
      ...member(groupId, follower),
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect(await settledWithin(parked, 50)).toBeUndefined();

    // The leader's heartbeat is queued on the group before the move is noticed.
    const queued = coordinator.heartbeat(member(groupId, leader));
    locator.move(groupId, 2);
    expect(await queued).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await settledWithin(parked, 100)).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR });
  });
});

describe('failover through DynamoDB', () => {
  it('lets the new coordinator load the group from DynamoDB and the old one re-read it when it comes back', async () => {
    const { a, b, move } = twoBrokers();
    const groupId = fx.groupId();
    move(groupId, 1);
    const [first, second] = await stableGroup(a, groupId, 2);
    expect(commitErrors(await commitOne(a, groupId, first!, 10))).toEqual([0]);

    // Broker 1 "dies": broker 2 takes over and reads generation, members and offsets from storage.
    move(groupId, 2);
    expect(await a.heartbeat(member(groupId, first!))).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await b.heartbeat(member(groupId, first!))).toBe(ErrorCode.NONE);
    expect(await fetchedOffset(b, groupId)).toEqual({ errorCode: 0, offset: 10 });
    expect(commitErrors(await commitOne(b, groupId, first!, 20))).toEqual([0]);
    // Both members leave through broker 2: generation 2, Empty, stored.
    const left = await b.leaveGroup(groupId, [
      { memberId: first!.memberId, groupInstanceId: null },
      { memberId: second!.memberId, groupInstanceId: null },
    ]);
    expect(left.members.map((m) => m.errorCode)).toEqual([0, 0]);

    // Back on broker 1, which must not serve its old copy (Stable, two members, offset 10).
    move(groupId, 1);
    expect(await b.heartbeat(member(groupId, first!))).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await a.describeGroup(groupId)).toMatchObject({ errorCode: 0, state: 'Empty', members: [] });
    expect(await a.heartbeat(member(groupId, first!))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await fetchedOffset(a, groupId)).toEqual({ errorCode: 0, offset: 20 });
    const rejoined = await joinGroup(a, groupId);
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 3 });
  });

  it('re-reads a group whose coordination moved away and straight back before the unload ran', async () => {
    const locator = new FakeLocator(1);
    const coordinator = fx.coordinator({}, locator);
    const groupId = fx.groupId();
    const [only] = await stableGroup(coordinator, groupId, 1);
    expect(commitErrors(await commitOne(coordinator, groupId, only!, 10))).toEqual([0]);

    locator.move(groupId, 2);
    locator.move(groupId, 1);
    // Meanwhile the other broker committed (written straight to the store here).
    const store = fx.store();
    const fence = { kind: 'generation', generationId: only!.generationId } as const;
    const offset = { topic: 'orders', partition: 0, leaderEpoch: 1, metadata: null, commitTimestamp: 0 };
    await store.commitOffsets(groupId, fence, [{ ...offset, offset: 30 }]);
    expect(await fetchedOffset(coordinator, groupId)).toEqual({ errorCode: 0, offset: 30 });
    expect(await coordinator.heartbeat(member(groupId, only!))).toBe(ErrorCode.NONE);
  });

  it('fences a broker that still believes it coordinates a group another broker moved on', async () => {
    // Views that disagree: both brokers think they coordinate every group.
    const a = fx.coordinator({}, new FakeLocator(1));
    const b = fx.coordinator({}, new FakeLocator(2));
    const groupId = fx.groupId();
    const [first, second] = await stableGroup(a, groupId, 2);
    await b.leaveGroup(groupId, [
      { memberId: first!.memberId, groupInstanceId: null },
      { memberId: second!.memberId, groupInstanceId: null },
    ]);

    // Broker 1's copy still has generation 1; storage says otherwise, and wins.
    expect(commitErrors(await commitOne(a, groupId, first!, 99))).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(await a.describeGroup(groupId)).toMatchObject({ errorCode: 0, state: 'Empty' });
    expect((await fetchedOffset(b, groupId)).offset).toBe(-1);
  });
});
