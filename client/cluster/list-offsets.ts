import { APIS } from '../../protocol/messages/index.js';
import { KafkaProtocolError } from '../errors.js';
import { CLIENT_VERSIONS } from './client-versions.js';
import type { Cluster } from './index.js';
import { throwIfError } from './protocol-error.js';

/** Kafka's special ListOffsets timestamps. */
export const OffsetSpec = { LATEST: -1, EARLIEST: -2 } as const;

export interface ListOffsetsSpec {
  readonly topic: string;
  readonly partition: number;
  /** A timestamp in ms, or OffsetSpec.LATEST / OffsetSpec.EARLIEST. */
  readonly timestamp: number;
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1 when asked for a timestamp later than every record. */
  readonly offset: number;
  readonly timestamp: number;
}

/**
 * Resolves offsets with ListOffsets sent to each partition's leader (only leaders answer),
 * one request per leader. Any partition error fails the whole call with a typed error, so the
 * caller's retry loop re-routes after a leader change; nothing is partially returned.
 */
export async function listOffsets(
  cluster: Cluster,
  specs: readonly ListOffsetsSpec[],
): Promise<PartitionOffset[]> {
  const topics = [...new Set(specs.map((s) => s.topic))];
  await cluster.metadata.ensure(topics);
  const byLeader = new Map<number, ListOffsetsSpec[]>();
  for (const spec of specs) {
    const leader = cluster.metadata.leaderFor(spec.topic, spec.partition);
    if (leader === undefined) {
      const known = cluster.metadata.topic(spec.topic);
      // Unknown topic or partition is retriable on the wire (it may be being created).
      throw new KafkaProtocolError(known ? 5 : 3, { topic: spec.topic, partition: spec.partition });
    }
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), spec]);
  }
  const results = await Promise.all(
    [...byLeader].map(async ([leader, group]) => {
      const connection = await cluster.broker(leader);
      const byTopic = new Map<string, ListOffsetsSpec[]>();
      for (const spec of group) byTopic.set(spec.topic, [...(byTopic.get(spec.topic) ?? []), spec]);
      const { response } = await connection.send(APIS.ListOffsets, CLIENT_VERSIONS.ListOffsets, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...byTopic].map(([name, parts]) => ({
          name,
          partitions: parts.map((p) => ({
            partitionIndex: p.partition,
            currentLeaderEpoch: -1,
            timestamp: p.timestamp,
            maxNumOffsets: 1,
          })),
        })),
      });
      return response.topics.flatMap((t) =>
        t.partitions.map((p): PartitionOffset => {
          throwIfError(p.errorCode, { topic: t.name, partition: p.partitionIndex });
          return { topic: t.name, partition: p.partitionIndex, offset: p.offset, timestamp: p.timestamp };
        }),
      );
    }),
  );
  return results.flat();
}
