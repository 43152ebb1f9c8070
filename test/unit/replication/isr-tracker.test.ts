import { describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../broker/cluster/partition-state-store.js';
import { IsrTracker } from '../../../broker/replication/isr-tracker.js';

function setup(
  options: { isr?: number[]; leo?: number; hw?: number; proposeResult?: boolean; rejoining?: number[] } = {},
) {
  const state: PartitionState = {
    topic: 't',
    topicId: 'id',
    partition: 0,
    replicas: [0, 1, 2],
    leader: 0,
    leaderEpoch: 3,
    leaderBrokerEpoch: 1,
    isr: options.isr ?? [0, 1, 2],
    version: 1,
    controllerEpoch: 1,
  };
  const env = { leo: options.leo ?? 100, hw: options.hw ?? 0, proposals: [] as number[][] };
  let settle: (ok: boolean) => void = () => undefined;
  const tracker = new IsrTracker(state, {
    localBrokerId: 0,
    lagTimeMaxMs: 1000,
    logEndOffset: () => env.leo,
    highWatermark: () => env.hw,
    epochStartOffset: () => 50,
    mayJoinIsr: (replicaId) => !(options.rejoining ?? []).includes(replicaId),
    propose: (isr) => {
      env.proposals.push(isr);
      return new Promise<boolean>((resolve) => {
        settle = resolve;
      });
    },
  });
  return { tracker, env, settle: (ok: boolean) => settle(ok) };
}

describe('IsrTracker', () => {
  it('computes the high watermark as the minimum LEO over the ISR, unknown followers blocking it', () => {
    const { tracker } = setup();
    expect(tracker.highWatermarkCandidate()).toBe(-1);
    tracker.onFollowerFetch(1, 80, Date.now());
    expect(tracker.highWatermarkCandidate()).toBe(-1);
    tracker.onFollowerFetch(2, 60, Date.now());
    expect(tracker.highWatermarkCandidate()).toBe(60);
    tracker.onFollowerFetch(2, 100, Date.now());
    expect(tracker.highWatermarkCandidate()).toBe(80);
  });

  it('ignores replicas outside the ISR for the high watermark', () => {
    const { tracker } = setup({ isr: [0, 1] });
    tracker.onFollowerFetch(1, 90, Date.now());
    expect(tracker.highWatermarkCandidate()).toBe(90);
  });

  it('shrinks the ISR when a follower has not caught up for lagTimeMaxMs, counting it until the write lands', async () => {
    const { tracker, env, settle } = setup();
    const start = Date.now();
    tracker.onFollowerFetch(1, 100, start);
    tracker.onFollowerFetch(2, 40, start);
    tracker.maybeShrink(start + 500);
    expect(env.proposals).toEqual([]);
    tracker.onFollowerFetch(1, 100, start + 1500);
    tracker.maybeShrink(start + 1500);
    expect(env.proposals).toEqual([[0, 1]]);
    // Until the shrink is committed, the lagging follower still holds the high watermark back.
    expect(tracker.highWatermarkCandidate()).toBe(40);
    expect(tracker.pendingIsr).toEqual([0, 1]);
    settle(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(tracker.pendingIsr).toBeNull();
  });

  it('a follower that keeps fetching the previous LEO counts as caught up', () => {
    const { tracker, env } = setup();
    const start = Date.now();
    tracker.onFollowerFetch(2, 100, start); // caught up with LEO 100
    env.leo = 120;
    tracker.onFollowerFetch(1, 120, start + 900);
    tracker.onFollowerFetch(2, 100, start + 900); // reached the LEO of its previous fetch
    env.leo = 140;
    tracker.onFollowerFetch(2, 120, start + 1800);
    tracker.maybeShrink(start + 1800);
    expect(env.proposals).toEqual([]);
  });

  it('expands the ISR when an out-of-sync follower reaches the high watermark and the epoch start', () => {
    const { tracker, env } = setup({ isr: [0, 1], hw: 90 });
    tracker.onFollowerFetch(2, 40, Date.now());
    expect(env.proposals).toEqual([]);
    tracker.onFollowerFetch(2, 95, Date.now());
    expect(env.proposals).toEqual([[0, 1, 2]]);
    // While the expansion is pending the joining member already counts.
    tracker.onFollowerFetch(1, 100, Date.now());
    expect(tracker.highWatermarkCandidate()).toBe(95);
  });

  it('does not add a follower that is still rejoining with a new data directory', () => {
    const { tracker, env } = setup({ isr: [0, 1], hw: 90, rejoining: [2] });
    tracker.onFollowerFetch(2, 100, Date.now());
    expect(env.proposals).toEqual([]);
  });

  it('keeps at most one ISR change in flight', () => {
    const { tracker, env } = setup({ isr: [0, 1], hw: 90 });
    tracker.onFollowerFetch(2, 95, Date.now());
    tracker.onFollowerFetch(2, 96, Date.now());
    tracker.maybeShrink(Date.now() + 10_000);
    expect(env.proposals).toHaveLength(1);
  });
});
