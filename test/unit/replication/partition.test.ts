import { afterEach, describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../broker/cluster/partition-state-store.js';
import { resolveTopicConfig } from '../../../broker/cluster/topic-config.js';
import { silentLogger } from '../../../broker/common/logger.js';
import {
  FencedLeaderEpochError,
  NotEnoughReplicasAfterAppendError,
  NotEnoughReplicasError,
  NotLeaderError,
  ReplicationTimeoutError,
  UnknownLeaderEpochError,
} from '../../../broker/replication/errors.js';
import { Partition } from '../../../broker/replication/partition.js';
import { ProducerStateManager } from '../../../broker/replication/producer-state.js';
import { FetchWaiters } from '../../../broker/server/fetch-waiters.js';
import { PartitionLog } from '../../../broker/storage/partition-log.js';
import { scanRecordBatches } from '../../../protocol/record-batch/header.js';
import { makeBatch } from '../../helpers/batches.js';
import { useTempDirs } from '../../helpers/temp-dir.js';

const tempDir = useTempDirs('spool-partition-');
const config = resolveTopicConfig({ 'min.insync.replicas': '2' });
const logs: PartitionLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
});

function leaderState(overrides: Partial<PartitionState> = {}): PartitionState {
  return {
    topic: 't',
    topicId: 'id',
    partition: 0,
    replicas: [0, 1, 2],
    leader: 0,
    leaderEpoch: 4,
    leaderBrokerEpoch: 1,
    isr: [0, 1, 2],
    version: 1,
    controllerEpoch: 1,
    ...overrides,
  };
}

async function leader(options: { leaseValid?: () => boolean } = {}) {
  const log = await PartitionLog.open(await tempDir());
  logs.push(log);
  const isrWrites: PartitionState[] = [];
  const partition = new Partition(
    't',
    0,
    log,
    new ProducerStateManager(),
    {
      localBrokerId: 0,
      brokerEpoch: () => 1,
      leaseValid: options.leaseValid ?? (() => true),
      mayJoinIsr: () => true,
      writeIsr: async (next, _expected, applyLocally) => {
        isrWrites.push(next);
        await applyLocally();
      },
      replicaLagTimeMaxMs: 10_000,
      waiters: new FetchWaiters(),
      waiterKey: 't\u00000',
      logger: silentLogger(),
    },
    0,
  );
  await partition.applyState(leaderState());
  return { partition, log, isrWrites };
}

const append = (partition: Partition, acks: number, timeoutMs = 5000) => {
  const batch = makeBatch(2);
  return partition.appendAsLeader(batch, scanRecordBatches(batch), { acks, timeoutMs, config });
};

describe('Partition as leader', () => {
  it('acknowledges acks=all once every ISR member has fetched past the batch', async () => {
    const { partition, log } = await leader();
    expect(log.leaderEpochs.latest).toEqual({ epoch: 4, startOffset: 0 });
    let acked = false;
    const pending = append(partition, -1).then((r) => {
      acked = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    partition.onFollowerFetch(1, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acked).toBe(false);
    expect(partition.highWatermark).toBe(0);
    partition.onFollowerFetch(2, 2);
    expect((await pending).baseOffset).toBe(0);
    expect(partition.highWatermark).toBe(2);
  });

  it('answers acks=1 after the local append, with the high watermark still behind', async () => {
    const { partition } = await leader();
    expect((await append(partition, 1)).baseOffset).toBe(0);
    expect(partition.highWatermark).toBe(0);
  });

  it('refuses acks=all up front when the ISR is below min.insync.replicas', async () => {
    const { partition, log } = await leader();
    await partition.applyState(leaderState({ isr: [0], version: 2 }));
    await expect(append(partition, -1)).rejects.toBeInstanceOf(NotEnoughReplicasError);
    expect(log.logEndOffset).toBe(0);
  });

  it('reports NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below the minimum while waiting', async () => {
    const { partition } = await leader();
    const pending = append(partition, -1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The controller drops both followers (their brokers died): the leader alone is the ISR.
    await partition.applyState(leaderState({ isr: [0], version: 2 }));
    await expect(pending).rejects.toBeInstanceOf(NotEnoughReplicasAfterAppendError);
  });

  it('times out acks=all when followers never catch up', async () => {
    const { partition } = await leader();
    await expect(append(partition, -1, 100)).rejects.toBeInstanceOf(ReplicationTimeoutError);
  });

  it('never acknowledges once its lease has lapsed, even if replication completes', async () => {
    let valid = true;
    const { partition } = await leader({ leaseValid: () => valid });
    const pending = append(partition, -1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    partition.onFollowerFetch(1, 2);
    valid = false;
    expect(() => partition.onFollowerFetch(2, 2)).toThrow(NotLeaderError);
    await expect(append(partition, 1)).rejects.toBeInstanceOf(NotLeaderError);
    valid = true;
    partition.onFollowerFetch(2, 2);
    valid = false;
    await expect(pending).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('fails parked acks=all writes when it stops leading', async () => {
    const { partition } = await leader();
    const pending = append(partition, -1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await partition.applyState(leaderState({ leader: 1, leaderEpoch: 5, version: 2 }));
    expect(partition.role).toBe('follower');
    await expect(pending).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('fences requests carrying another leader epoch', async () => {
    const { partition } = await leader();
    expect(() => partition.checkLeaderEpoch(3)).toThrow(FencedLeaderEpochError);
    expect(() => partition.checkLeaderEpoch(5)).toThrow(UnknownLeaderEpochError);
    expect(() => partition.checkLeaderEpoch(4)).not.toThrow();
    expect(() => partition.checkLeaderEpoch(-1)).not.toThrow();
  });

  it('answers OffsetForLeaderEpoch from its epoch cache', async () => {
    const { partition } = await leader();
    await append(partition, 1);
    expect(partition.endOffsetForEpoch(4)).toEqual({ leaderEpoch: 4, endOffset: 2 });
    expect(partition.endOffsetForEpoch(9)).toEqual({ leaderEpoch: 4, endOffset: 2 });
    expect(partition.endOffsetForEpoch(3)).toEqual({ leaderEpoch: -1, endOffset: -1 });
  });

  it('adds a lagging follower back to the ISR once it reaches the high watermark', async () => {
    const { partition, isrWrites } = await leader();
    await partition.applyState(leaderState({ isr: [0, 1], version: 2 }));
    await append(partition, 1);
    partition.onFollowerFetch(1, 2);
    expect(partition.highWatermark).toBe(2);
    partition.onFollowerFetch(2, 1);
    expect(isrWrites).toEqual([]);
    partition.onFollowerFetch(2, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isrWrites.map((s) => [s.isr, s.version])).toEqual([[[0, 1, 2], 3]]);
    expect(partition.state?.isr).toEqual([0, 1, 2]);
  });
});
