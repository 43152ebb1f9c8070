import { describe, expect, it } from 'vitest';
import { type FetchedRecord, SubscriptionState } from '../../../client/consumer/subscription-state.js';

function records(from: number, count: number): FetchedRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    offset: from + i,
    timestamp: 0,
    key: null,
    value: null,
    headers: [],
    leaderEpoch: 0,
  }));
}

function positioned(state: SubscriptionState, topic: string, partition: number, offset: number) {
  state.assign([{ topic, partition }], 'committed');
  const p = state.get(topic, partition)!;
  state.seek(p, offset);
  state.markCommitted(topic, partition, offset);
  return p;
}

describe('SubscriptionState', () => {
  it('hands out partitions round-robin, one batch per partition at a time, advancing the position', () => {
    const state = new SubscriptionState();
    const a = positioned(state, 't', 0, 0);
    const b = positioned(state, 't', 1, 0);
    a.buffered.push(...records(0, 5));
    b.buffered.push(...records(0, 5));
    const first = state.take(2)!;
    const second = state.take(2)!;
    expect([first.partition, second.partition].sort()).toEqual([0, 1]);
    // Both partitions are with a handler: nothing more until one is released.
    expect(state.take(2)).toBeUndefined();
    state.release(first);
    const third = state.take(2)!;
    expect(third.partition).toBe(first.partition);
    expect(third.records.map((r) => r.offset)).toEqual([2, 3]);
    expect(state.get('t', first.partition)!.position).toBe(4);
  });

  it('does not hand out or fetch paused partitions, and keeps their buffer', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 0);
    p.paused = true;
    p.buffered.push(...records(0, 3));
    expect(state.take(10)).toBeUndefined();
    expect(state.fetchable(Date.now())).toEqual([]);
    p.paused = false;
    expect(state.take(10)!.records).toHaveLength(3);
  });

  it('makes batches taken before a seek stale: their progress does not count', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 0);
    p.buffered.push(...records(0, 10));
    const batch = state.take(10)!;
    state.seek(p, 3);
    expect(state.isCurrent(batch)).toBe(false);
    state.markProcessed(batch, 10);
    expect(p.processed).toBe(3);
    expect(p.buffered).toEqual([]);
    state.release(batch);
    expect(p.delivering).toBeNull();
  });

  it('recognizes a batch from before a revoke-and-reassign as stale', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 0);
    p.buffered.push(...records(0, 2));
    const old = state.take(10)!;
    state.unassign([{ topic: 't', partition: 0 }]);
    const again = positioned(state, 't', 0, 0);
    again.buffered.push(...records(0, 2));
    const fresh = state.take(10)!;
    expect(state.isCurrent(old)).toBe(false);
    state.release(old); // must not release the new owner's batch
    expect(again.delivering).toBe(fresh);
  });

  it('commits only progress past the committed offset, or a seek', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 5);
    expect(state.uncommitted()).toEqual([]);
    p.buffered.push(...records(5, 3));
    const batch = state.take(10)!;
    state.markProcessed(batch, 7);
    expect(state.uncommitted()).toEqual([{ topic: 't', partition: 0, offset: 7 }]);
    // A manual commit ahead of processing is never undone by an automatic one.
    state.markCommitted('t', 0, 8);
    expect(state.uncommitted()).toEqual([]);
    // A seek backwards is a wish to re-read: it is committed.
    state.seek(p, 2);
    expect(state.uncommitted()).toEqual([{ topic: 't', partition: 0, offset: 2 }]);
  });

  it('surfaces a partition error once, after its buffered records', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 0);
    p.buffered.push(...records(0, 1));
    p.error = new Error('corrupt');
    const batch = state.take(10)!;
    state.release(batch);
    expect(() => state.take(10)).toThrow('corrupt');
    expect(state.take(10)).toBeUndefined();
  });

  it('keeps partitions needing a position out of fetches until they have one', () => {
    const state = new SubscriptionState();
    state.assign([{ topic: 't', partition: 0 }], 'earliest');
    expect(state.needingReset()).toHaveLength(1);
    expect(state.fetchable(Date.now())).toEqual([]);
    state.seek(state.get('t', 0)!, 0);
    expect(state.fetchable(Date.now())).toHaveLength(1);
  });

  it('moves past offsets a fetch returned nothing for (tag-filtered, control records)', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 0);
    // A fetch up to 10 kept only records 2 and 5: the batch covers everything before 10.
    p.fetchOffset = 10;
    p.buffered.push(...records(2, 1), ...records(5, 1));
    const first = state.take(10)!;
    expect(first.nextOffset).toBe(10);
    expect(p.position).toBe(10);
    state.markProcessed(first, first.nextOffset);
    state.release(first);
    expect(state.uncommitted()).toEqual([{ topic: 't', partition: 0, offset: 10 }]);

    // Nothing in hand: a fetch that delivered nothing moves position and processed together.
    p.fetchOffset = 20;
    state.skipped(p);
    expect([p.position, p.processed]).toEqual([20, 20]);

    // A batch in hand: it grows to cover the skipped offsets, which count once it is processed.
    p.fetchOffset = 25;
    p.buffered.push(...records(21, 1));
    const inHand = state.take(10)!;
    p.fetchOffset = 30;
    state.skipped(p);
    expect([p.position, p.processed, inHand.nextOffset]).toEqual([30, 20, 30]);
    state.markProcessed(inHand, inHand.nextOffset);
    expect(p.processed).toBe(30);
    state.release(inHand);
  });

  it('does not count skipped offsets as processed while an earlier record is not', () => {
    const state = new SubscriptionState();
    const p = positioned(state, 't', 0, 0);
    p.fetchOffset = 3;
    p.buffered.push(...records(0, 3));
    const batch = state.take(10)!;
    state.markProcessed(batch, 1); // the handler failed on record 1
    state.release(batch);
    p.fetchOffset = 9;
    state.skipped(p);
    expect([p.position, p.processed]).toEqual([9, 1]);
    // Buffered records or a pending reset leave the position alone.
    p.buffered.push(...records(9, 1));
    p.fetchOffset = 12;
    state.skipped(p);
    expect(p.position).toBe(9);
  });
});
