import { decodeAssignment } from '../../protocol/messages/consumer-protocol.js';
import { APIS } from '../../protocol/messages/index.js';
import {
  type BrokerConnection,
  CLIENT_VERSIONS,
  type Cluster,
  listOffsets,
  OffsetSpec,
} from '../cluster/index.js';
import { throwIfError } from '../cluster/protocol-error.js';
import { ErrorCode, KafkaProtocolError } from '../errors.js';
import { EXISTING_TOPICS } from './common.js';
import type {
  CommittedOffset,
  GroupDescription,
  GroupListing,
  OffsetResetPlan,
  ResetTarget,
} from './types.js';

/** Consumer-group and committed-offset operations behind Admin (see its methods for the contracts). */

/** Every group in the cluster: each broker lists only the groups it coordinates, so ask all. */
export async function listGroups(cluster: Cluster): Promise<GroupListing[]> {
  return cluster.retry(async () => {
    await cluster.metadata.refresh();
    const perBroker = await Promise.all(
      cluster.metadata.brokers.map(async ({ nodeId }) => {
        const broker = await cluster.broker(nodeId);
        const { response } = await broker.send(APIS.ListGroups, CLIENT_VERSIONS.ListGroups, {
          statesFilter: [],
          typesFilter: [],
        });
        throwIfError(response.errorCode);
        return response.groups.map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState,
          coordinator: nodeId,
        }));
      }),
    );
    // A group moving between coordinators may show up twice; keep one.
    const merged = new Map(perBroker.flat().map((g) => [g.groupId, g]));
    return [...merged.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
  });
}

export async function describeGroups(cluster: Cluster, groupIds: string[]): Promise<GroupDescription[]> {
  return Promise.all(
    groupIds.map((groupId) =>
      atCoordinator(cluster, groupId, async (broker, coordinator) => {
        const { response } = await broker.send(APIS.DescribeGroups, CLIENT_VERSIONS.DescribeGroups, {
          groups: [groupId],
          includeAuthorizedOperations: false,
        });
        const group = response.groups.find((g) => g.groupId === groupId);
        if (!group) throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { serverMessage: groupId });
        throwIfError(group.errorCode, { serverMessage: `group ${groupId}` });
        return {
          groupId,
          state: group.groupState,
          protocolType: group.protocolType,
          protocol: group.protocolData,
          coordinator,
          members: group.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment: group.protocolType === 'consumer' ? decodeTopicPartitions(m.memberAssignment) : [],
          })),
        };
      }),
    ),
  );
}

export async function deleteGroups(cluster: Cluster, groupIds: string[]): Promise<void> {
  await Promise.all(
    groupIds.map((groupId) =>
      atCoordinator(cluster, groupId, async (broker) => {
        const { response } = await broker.send(APIS.DeleteGroups, CLIENT_VERSIONS.DeleteGroups, {
          groupsNames: [groupId],
        });
        for (const r of response.results) throwIfError(r.errorCode, { serverMessage: `group ${r.groupId}` });
      }),
    ),
  );
}

export async function fetchOffsets(
  cluster: Cluster,
  groupId: string,
  topics?: string[],
): Promise<CommittedOffset[]> {
  if (topics) await cluster.retry(() => cluster.metadata.ensure(topics));
  const wanted =
    topics?.map((name) => ({
      name,
      partitionIndexes: (cluster.metadata.topic(name)?.partitions ?? []).map((p) => p.partition),
    })) ?? null;
  return atCoordinator(cluster, groupId, async (broker) => {
    const { version, response } = await broker.send(APIS.OffsetFetch, CLIENT_VERSIONS.OffsetFetch, {
      groupId,
      topics: wanted,
      groups: [{ groupId, memberId: null, memberEpoch: -1, topics: wanted }],
      requireStable: false,
    });
    // v8+ batches groups; earlier versions answer for the one group at the top level.
    const answer = version >= 8 ? response.groups.find((g) => g.groupId === groupId) : response;
    if (!answer) throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { serverMessage: groupId });
    throwIfError(answer.errorCode, { serverMessage: `group ${groupId}` });
    return answer.topics.flatMap((t) =>
      t.partitions.map((p) => {
        throwIfError(p.errorCode, { topic: t.name, partition: p.partitionIndex });
        return {
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.metadata,
        };
      }),
    );
  });
}

export async function resetOffsets(
  cluster: Cluster,
  groupId: string,
  topic: string,
  to: ResetTarget,
  options: { dryRun?: boolean },
): Promise<OffsetResetPlan[]> {
  const plan = await cluster.retry(async () => {
    await cluster.metadata.refresh([topic]);
    const partitions = cluster.metadata.topic(topic)?.partitions.map((p) => p.partition);
    if (!partitions) throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic });
    const spec = (timestamp: number) => partitions.map((partition) => ({ topic, partition, timestamp }));
    const [earliest, latest, atTime] = await Promise.all([
      listOffsets(cluster, spec(OffsetSpec.EARLIEST)),
      listOffsets(cluster, spec(OffsetSpec.LATEST)),
      typeof to === 'object' && 'timestamp' in to ? listOffsets(cluster, spec(to.timestamp)) : [],
    ]);
    return partitions.map((partition) => {
      const low = offsetOf(earliest, partition);
      const high = offsetOf(latest, partition);
      let target: number;
      if (to === 'earliest') target = low;
      else if (to === 'latest') target = high;
      else if ('offset' in to) target = to.offset;
      else target = atTime.find((o) => o.partition === partition && o.offset >= 0)?.offset ?? high;
      return {
        topic,
        partition,
        current: null as number | null,
        target: Math.min(high, Math.max(low, target)),
      };
    });
  }, EXISTING_TOPICS);
  const committed = await fetchOffsets(cluster, groupId, [topic]);
  for (const entry of plan) {
    const found = committed.find((c) => c.partition === entry.partition && c.offset >= 0);
    entry.current = found ? found.offset : null;
  }
  if (!options.dryRun) await commitAsAdmin(cluster, groupId, topic, plan);
  return plan;
}

function commitAsAdmin(
  cluster: Cluster,
  groupId: string,
  topic: string,
  plan: OffsetResetPlan[],
): Promise<void> {
  return atCoordinator(cluster, groupId, async (broker) => {
    const { response } = await broker.send(APIS.OffsetCommit, CLIENT_VERSIONS.OffsetCommit, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: plan.map((p) => ({
            partitionIndex: p.partition,
            committedOffset: p.target,
            committedLeaderEpoch: -1,
            commitTimestamp: -1,
            committedMetadata: null,
          })),
        },
      ],
    });
    for (const t of response.topics) {
      for (const p of t.partitions) throwIfError(p.errorCode, { topic: t.name, partition: p.partitionIndex });
    }
  });
}

/** Runs `operation` at `groupId`'s coordinator, finding it again after NOT_COORDINATOR & co. */
function atCoordinator<T>(
  cluster: Cluster,
  groupId: string,
  operation: (broker: BrokerConnection, coordinator: number) => Promise<T>,
): Promise<T> {
  return cluster.retry(async () => {
    const coordinator = await cluster.findCoordinator(groupId);
    return operation(await cluster.broker(coordinator), coordinator);
  });
}

function offsetOf(offsets: { partition: number; offset: number }[], partition: number): number {
  const found = offsets.find((o) => o.partition === partition);
  if (!found)
    throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, {
      partition,
      serverMessage: 'missing offset',
    });
  return found.offset;
}

/** A member's consumer-protocol assignment as topic → partitions; empty if undecodable or absent. */
function decodeTopicPartitions(assignment: Buffer): { topic: string; partitions: number[] }[] {
  if (assignment.length === 0) return [];
  try {
    return decodeAssignment(assignment).value.assignedPartitions.map((a) => ({
      topic: a.topic,
      partitions: [...a.partitions],
    }));
  } catch {
    return [];
  }
}
