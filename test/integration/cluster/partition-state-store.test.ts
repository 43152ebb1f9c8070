import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ControllerLease } from '../../../broker/cluster/controller-lease.js';
import {
  type LeaseFence,
  type PartitionState,
  PartitionStateConflictError,
  PartitionStateStore,
} from '../../../broker/cluster/partition-state-store.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

const prefix = `pstate-${randomUUID().slice(0, 8)}`;
const db = useDynamoDbLocal(prefix);

function fenceOf(lease: ControllerLease): LeaseFence {
  return { key: lease.key, incarnation: lease.incarnation, epoch: lease.epoch };
}

function initial(partition: number, controllerEpoch: number): PartitionState {
  return {
    topic: 'orders',
    topicId: 'topic-id',
    partition,
    replicas: [0, 1, 2],
    leader: 0,
    leaderEpoch: 0,
    leaderBrokerEpoch: 1,
    isr: [0, 1, 2],
    version: 1,
    controllerEpoch,
  };
}

describe('PartitionStateStore', () => {
  it('creates and updates partition state only for the current controller and the expected version', async () => {
    let t = 1_000_000;
    const candidate = (brokerId: number) =>
      new ControllerLease(db.client, prefix, {
        brokerId,
        endpoint: { host: `b${brokerId}`, port: 9000 + brokerId },
        now: () => t,
      });
    const store = new PartitionStateStore(db.client, prefix);
    const first = candidate(0);
    await first.acquire();
    await store.create([initial(0, first.epoch), initial(1, first.epoch)], fenceOf(first));
    // Creating an existing partition again is refused.
    await expect(store.create([initial(0, first.epoch)], fenceOf(first))).rejects.toBeInstanceOf(
      PartitionStateConflictError,
    );

    const state = (await store.list()).find((s) => s.partition === 0)!;
    const moved = { ...state, leader: 1, leaderEpoch: 1, version: 2 };
    await store.update(moved, 1, fenceOf(first));
    // A write computed from the old version loses.
    const stale = await store
      .update({ ...state, isr: [0], version: 2 }, 1, fenceOf(first))
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ name: 'PartitionStateConflictError', reason: 'version' });

    // Another broker takes the controller lease over after expiry: the deposed controller's
    // writes now fail on the fence even with the right version.
    t += 10_000;
    const second = candidate(1);
    await second.acquire();
    expect(second.epoch).toBe(first.epoch + 1);
    const deposed = await store
      .update({ ...moved, leader: 2, leaderEpoch: 2, version: 3 }, 2, fenceOf(first))
      .catch((e: unknown) => e);
    expect(deposed).toMatchObject({ name: 'PartitionStateConflictError', reason: 'fence' });
    await store.update({ ...moved, leader: 2, leaderEpoch: 2, version: 3 }, 2, fenceOf(second));

    const after = (await store.list()).find((s) => s.partition === 0)!;
    expect(after).toMatchObject({ leader: 2, leaderEpoch: 2, version: 3 });
    await store.delete(after, fenceOf(second));
    expect((await store.list()).map((s) => s.partition)).toEqual([1]);
  });
});
