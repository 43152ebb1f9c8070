import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import type { CoordinatorLocator } from '../../../broker/groups/coordinator-locator.js';
import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type JoinGroupParams,
} from '../../../broker/groups/group-coordinator.js';
import type { JoinOutcome } from '../../../broker/groups/group-member.js';
import { GroupStore } from '../../../broker/groups/group-store.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { encodeAssignment, encodeSubscription } from '../../../protocol/messages/consumer-protocol.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/** Timeouts small enough for a fast suite; the real defaults are seconds. */
export const TEST_CONFIG: Partial<GroupCoordinatorConfig> = {
  minSessionTimeoutMs: 10,
  maxSessionTimeoutMs: 60_000,
  initialRebalanceDelayMs: 50,
};

/** Topics the tests may commit to: any but "missing", partitions 0-999. */
export const partitionExists = (topic: string, partition: number) =>
  topic !== 'missing' && partition >= 0 && partition < 1000;

/**
 * One DynamoDB Local per test file, one table prefix per file, and a fresh group id per call to
 * `groupId()`. Coordinators made through `coordinator()` are closed after each test.
 */
export function useGroupsFixture() {
  const prefix = `groups-${randomUUID().slice(0, 8)}`;
  const db = useDynamoDbLocal(prefix);
  const open: GroupCoordinator[] = [];

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  return {
    prefix,
    client: () => db.client,
    store: () => new GroupStore(db.client, prefix),
    /**
     * A coordinator over this file's tables; a second one over the same store is a restarted
     * broker (or, each with its own locator, another broker of the cluster).
     */
    coordinator(
      config: Partial<GroupCoordinatorConfig> = {},
      locator?: CoordinatorLocator,
    ): GroupCoordinator {
      const coordinator = new GroupCoordinator(new GroupStore(db.client, prefix), {
        partitionExists,
        config: { ...TEST_CONFIG, ...config },
        locator,
      });
      open.push(coordinator);
      return coordinator;
    },
    groupId: () => `group-${randomUUID().slice(0, 8)}`,
  };
}

export const subscription = (...topics: string[]) =>
  encodeSubscription({ topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null });
export const assignment = (topic: string, ...partitions: number[]) =>
  encodeAssignment({ assignedPartitions: [{ topic, partitions }], userData: null });

export interface MemberOptions {
  memberId?: string;
  clientId?: string;
  instanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocolType?: string;
  protocols?: { name: string; metadata: Buffer }[];
  requireKnownMemberId?: boolean;
  supportSkippingAssignment?: boolean;
}

export function joinParams(groupId: string, options: MemberOptions = {}): JoinGroupParams {
  return {
    groupId,
    memberId: options.memberId ?? '',
    groupInstanceId: options.instanceId ?? null,
    clientId: options.clientId ?? 'consumer',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: options.sessionTimeoutMs ?? 5000,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 1000,
    protocolType: options.protocolType ?? 'consumer',
    protocols: options.protocols ?? [{ name: 'range', metadata: subscription('orders') }],
    requireKnownMemberId: options.requireKnownMemberId ?? true,
    supportSkippingAssignment: options.supportSkippingAssignment ?? false,
  };
}

/**
 * How a modern consumer joins: a dynamic member first gets MEMBER_ID_REQUIRED and rejoins with
 * the id it was given; the promise settles when the rebalance completes.
 */
export async function joinGroup(
  coordinator: GroupCoordinator,
  groupId: string,
  options: MemberOptions = {},
): Promise<JoinOutcome> {
  const first = await coordinator.joinGroup(joinParams(groupId, options));
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) return first;
  return coordinator.joinGroup(joinParams(groupId, { ...options, memberId: first.memberId }));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Races `promise` against a short wait: undefined if it has not settled by then. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, sleep(ms).then(() => undefined)]);
}

/**
 * A Stable group of `count` members, each assigned partition i of "orders". Returns the join
 * outcomes in the order of `options` (with dynamic members only, that is also join order, so the
 * first one leads; static members skip MEMBER_ID_REQUIRED and so join before dynamic ones).
 */
export async function stableGroup(
  coordinator: GroupCoordinator,
  groupId: string,
  count: number,
  options: MemberOptions[] = [],
): Promise<JoinOutcome[]> {
  const joined = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      joinGroup(coordinator, groupId, { clientId: `c${i}`, ...options[i] }),
    ),
  );
  const leader = joined.find((j) => j.memberId === j.leaderId)!;
  // The leader syncs first, so followers are answered at once.
  for (const j of [leader, ...joined.filter((m) => m !== leader)]) {
    const synced = await coordinator.syncGroup({
      groupId,
      generationId: j.generationId,
      memberId: j.memberId,
      groupInstanceId: options[joined.indexOf(j)]?.instanceId ?? null,
      protocolType: null,
      protocolName: null,
      assignments:
        j === leader
          ? joined.map((m, i) => ({ memberId: m.memberId, assignment: assignment('orders', i) }))
          : [],
    });
    if (synced.errorCode !== 0) throw new Error(`sync failed with ${synced.errorCode}`);
  }
  return joined;
}
