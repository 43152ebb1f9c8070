import { ErrorCode } from '../../protocol/error-codes.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { GroupMember } from './group-member.js';
import type { GroupRegistry, GroupSlot } from './group-registry.js';
import type { OffsetFence, StoredOffset } from './group-store.js';

export interface OffsetCommitParams {
  groupId: string;
  /** -1 for commits outside group management (assign(), admin tools, OffsetCommit v0). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }[];
  }[];
}

export type OffsetCommitResult = {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}[];

export interface FetchedPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedPartition[] }[];
}

export interface OffsetManagerOptions {
  partitionExists: (topic: string, partition: number) => boolean;
  maxMetadataBytes: number;
  /** A commit from a member proves it is alive. */
  onMemberCommit: (slot: GroupSlot, group: ConsumerGroup, member: GroupMember) => void;
  errorCodeFor: (error: unknown) => number;
  now: () => number;
}

/**
 * OffsetCommit and OffsetFetch. Commits are validated against the group (Kafka's rules: a member
 * of the current generation, or generation -1 into an empty group), stored in DynamoDB fenced on
 * the group's generation, and only then reflected in the cached group, which fetches read.
 */
export class OffsetManager {
  constructor(
    private readonly registry: GroupRegistry,
    private readonly options: OffsetManagerOptions,
  ) {}

  async commit(params: OffsetCommitParams): Promise<OffsetCommitResult> {
    const all = (errorCode: number): OffsetCommitResult =>
      params.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      }));
    if (params.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    try {
      return await this.registry.run(params.groupId, async (slot, group) => {
        // A generation >= 0 for a group that does not exist comes from an old generation of it.
        const error =
          group.isVacant && params.generationId >= 0
            ? ErrorCode.ILLEGAL_GENERATION
            : group.validateOffsetCommit(params.generationId, params.memberId, params.groupInstanceId);
        if (error !== ErrorCode.NONE) return all(error);
        const now = this.options.now();
        // Keyed by partition: a transaction may not touch one item twice (the last one wins, as in Kafka).
        const accepted = new Map<string, StoredOffset>();
        const results = params.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((p) => {
            let errorCode: number = ErrorCode.NONE;
            if (!this.options.partitionExists(topic.name, p.partitionIndex)) {
              errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            } else if (
              p.committedMetadata !== null &&
              Buffer.byteLength(p.committedMetadata) > this.options.maxMetadataBytes
            ) {
              errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
            } else {
              accepted.set(`${topic.name}\0${p.partitionIndex}`, {
                topic: topic.name,
                partition: p.partitionIndex,
                offset: p.committedOffset,
                leaderEpoch: p.committedLeaderEpoch,
                metadata: p.committedMetadata,
                commitTimestamp: now,
              });
            }
            return { partitionIndex: p.partitionIndex, errorCode };
          }),
        }));
        if (accepted.size > 0) {
          const fence: OffsetFence =
            params.generationId < 0 && group.state === 'Empty'
              ? { kind: 'empty' }
              : { kind: 'generation', generationId: group.generationId };
          try {
            await this.registry.store.commitOffsets(params.groupId, fence, [...accepted.values()]);
          } catch (cause) {
            throw this.registry.unload(slot, group, cause);
          }
          for (const offset of accepted.values()) group.putOffset(offset);
        }
        const member = params.generationId >= 0 ? group.get(params.memberId) : undefined;
        if (member) this.options.onMemberCommit(slot, group, member);
        return results;
      });
    } catch (error) {
      return all(this.options.errorCodeFor(error));
    }
  }

  /** Committed offsets; `topics` null means every committed partition. Unknown partitions read -1. */
  async fetch(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  ): Promise<OffsetFetchResult> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    try {
      return await this.registry.run(groupId, (_slot, group) => {
        if (topics === null) {
          return {
            errorCode: ErrorCode.NONE,
            topics: [...group.offsets.entries()]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, partitions]) => ({
                name,
                partitions: [...partitions.values()]
                  .sort((a, b) => a.partition - b.partition)
                  .map((o) => fetched(o.partition, o)),
              })),
          };
        }
        return {
          errorCode: ErrorCode.NONE,
          topics: topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p) => fetched(p, group.offset(t.name, p))),
          })),
        };
      });
    } catch (error) {
      return { errorCode: this.options.errorCodeFor(error), topics: [] };
    }
  }
}

function fetched(partitionIndex: number, offset: StoredOffset | undefined): FetchedPartition {
  return {
    partitionIndex,
    committedOffset: offset?.offset ?? -1,
    committedLeaderEpoch: offset?.leaderEpoch ?? -1,
    metadata: offset?.metadata ?? '',
    errorCode: ErrorCode.NONE,
  };
}
