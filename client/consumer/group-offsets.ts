import { ErrorCode } from '../../protocol/error-codes.js';
import { APIS } from '../../protocol/messages/index.js';
import { CLIENT_VERSIONS, type Cluster, throwIfError } from '../cluster/index.js';
import { KafkaProtocolError } from '../errors.js';
import { type CoordinatorLink, GENERATION_LOST, GROUP_LANE } from './coordinator-link.js';
import type { TopicPartition } from './types.js';

/** Who commits: the group member's current identity (generation -1 and no id for a standalone consumer). */
export interface MemberIdentity {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** A group's committed offsets at its coordinator: OffsetCommit and OffsetFetch. */
export class GroupOffsets {
  constructor(
    private readonly cluster: Cluster,
    private readonly link: CoordinatorLink,
    private readonly member: () => MemberIdentity,
    private readonly onGenerationLost: () => void,
  ) {}

  /**
   * Commits offsets with the member's generation (or as a standalone consumer, generation -1).
   * Coordinator moves are retried; a lost generation is a typed, non-retriable
   * KafkaProtocolError (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID) and is reported to the member.
   */
  async commit(
    offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<string, typeof offsets>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    await this.cluster.retry(async () => {
      const member = this.member();
      const coordinator = await this.link.connection(GROUP_LANE);
      const { response } = await coordinator.send(APIS.OffsetCommit, CLIENT_VERSIONS.OffsetCommit, {
        groupId: this.link.groupId,
        generationIdOrMemberEpoch: member.generationId,
        memberId: member.memberId,
        groupInstanceId: member.generationId >= 0 ? member.groupInstanceId : null,
        retentionTimeMs: -1,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1,
            committedMetadata: o.metadata ?? null,
          })),
        })),
      });
      for (const topic of response.topics) {
        for (const p of topic.partitions) {
          this.link.check(p.errorCode);
          if (GENERATION_LOST.has(p.errorCode) && member.generationId >= 0) this.onGenerationLost();
          throwIfError(p.errorCode, { topic: topic.name, partition: p.partitionIndex });
        }
      }
    });
  }

  /** Committed offsets (-1 where none) of `partitions`. */
  async fetchCommitted(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const topics = toTopics(partitions);
    return this.cluster.retry(async () => {
      const coordinator = await this.link.connection(GROUP_LANE);
      const { version, response } = await coordinator.send(APIS.OffsetFetch, CLIENT_VERSIONS.OffsetFetch, {
        groupId: this.link.groupId,
        topics,
        groups: [{ groupId: this.link.groupId, memberId: null, memberEpoch: -1, topics }],
        requireStable: true,
      });
      const answer = version >= 8 ? response.groups.find((g) => g.groupId === this.link.groupId) : response;
      if (!answer)
        throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, { serverMessage: 'no answer' });
      this.link.check(answer.errorCode);
      throwIfError(answer.errorCode, { serverMessage: `group ${this.link.groupId}` });
      const result = new Map<string, number>();
      for (const t of answer.topics) {
        for (const p of t.partitions) {
          throwIfError(p.errorCode, { topic: t.name, partition: p.partitionIndex });
          result.set(`${t.name}:${p.partitionIndex}`, p.committedOffset);
        }
      }
      return result;
    });
  }
}

function toTopics(partitions: readonly TopicPartition[]): { name: string; partitionIndexes: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions)
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([name, list]) => ({ name, partitionIndexes: list.sort((a, b) => a - b) }));
}
