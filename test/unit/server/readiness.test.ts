import { describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../broker/cluster/partition-state-store.js';
import { assessReadiness } from '../../../broker/server/readiness.js';

function partition(topic: string, leader: number, isr: number[], replicas = [0, 1, 2]): PartitionState {
  return {
    topic,
    topicId: 'id',
    partition: 0,
    replicas,
    leader,
    leaderEpoch: 1,
    leaderBrokerEpoch: 1,
    isr,
    version: 1,
    controllerEpoch: 1,
  };
}

const ALL_LIVE = new Set([0, 1, 2]);
const base = { nodeId: 0, registered: true, rejoining: false, liveBrokerIds: ALL_LIVE };

describe('assessReadiness', () => {
  it('is ready when in the ISR of every partition it follows', () => {
    const partitions = [
      partition('a', 1, [1, 0, 2]),
      partition('b', 0, [0]),
      partition('c', 2, [2, 1], [1, 2]),
    ];
    expect(assessReadiness({ ...base, partitions })).toEqual({ ready: true, reasons: [] });
  });

  it('is not ready while catching up on a partition with a live leader, naming it', () => {
    const partitions = [partition('a', 1, [1, 2]), partition('b', 2, [2, 0])];
    expect(assessReadiness({ ...base, partitions })).toEqual({
      ready: false,
      reasons: ['catching up on a-0'],
    });
  });

  it('does not wait for partitions whose leader is down or absent', () => {
    const partitions = [partition('a', 1, [1]), partition('b', -1, [2])];
    expect(assessReadiness({ ...base, partitions, liveBrokerIds: new Set([0, 2]) }).ready).toBe(true);
  });

  it('is not ready while unregistered or rejoining with a new data directory', () => {
    expect(assessReadiness({ ...base, registered: false, partitions: [] }).reasons).toEqual([
      'not registered with the cluster',
    ]);
    expect(assessReadiness({ ...base, rejoining: true, partitions: [] }).reasons).toEqual([
      'rejoining with a new data directory',
    ]);
  });

  it('lists a few partitions and counts the rest', () => {
    const partitions = Array.from({ length: 8 }, (_, i) => partition(`t${i}`, 1, [1]));
    expect(assessReadiness({ ...base, partitions }).reasons).toEqual([
      'catching up on t0-0, t1-0, t2-0, t3-0, t4-0 and 3 more',
    ]);
  });
});
