import { describe, expect, it, vi } from 'vitest';
import { coordinatorFor } from '../../../broker/cluster/group-placement.js';
import {
  type CoordinatorEndpoint,
  locatorFromLiveBrokers,
  singleBrokerLocator,
} from '../../../broker/groups/coordinator-locator.js';
import type { BrokerIdentity } from '../../../broker/server/broker-identity.js';

const broker = (nodeId: number, host = `b${nodeId}.local`): CoordinatorEndpoint => ({
  nodeId,
  host,
  port: 9000 + nodeId,
});

/** A source of live brokers the test changes by hand, notifying like a metadata cache would. */
function source(initial: CoordinatorEndpoint[]) {
  let live = initial;
  const subscribers = new Set<() => void>();
  return {
    get: () => live,
    subscribe: (notify: () => void) => {
      subscribers.add(notify);
      return () => subscribers.delete(notify);
    },
    set(next: CoordinatorEndpoint[]) {
      live = next;
      for (const notify of subscribers) notify();
    },
    /** Changes the live set without telling anyone. */
    setQuietly(next: CoordinatorEndpoint[]) {
      live = next;
    },
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

describe('singleBrokerLocator', () => {
  it('places every group on this broker and never changes', () => {
    const identity: BrokerIdentity = { ...broker(3), rack: null, clusterId: 'c' };
    const locator = singleBrokerLocator(identity);
    expect(locator.localNodeId).toBe(3);
    expect(locator.coordinatorFor('any')).toEqual(broker(3));
    expect(locator.coordinatorFor('')).toEqual(broker(3));
    const unsubscribe = locator.onChange(() => {
      throw new Error('never called');
    });
    unsubscribe();
  });
});

describe('locatorFromLiveBrokers', () => {
  it('places groups by rendezvous hashing over the live brokers, with their endpoints', () => {
    const live = source([broker(1), broker(2), broker(3)]);
    const locator = locatorFromLiveBrokers(2, live.get, live.subscribe);
    expect(locator.localNodeId).toBe(2);
    for (let i = 0; i < 50; i++) {
      const id = coordinatorFor(`g${i}`, [1, 2, 3])!;
      expect(locator.coordinatorFor(`g${i}`)).toEqual(broker(id));
    }
  });

  it('answers undefined while no broker is live', () => {
    const live = source([]);
    const locator = locatorFromLiveBrokers(1, live.get, live.subscribe);
    expect(locator.coordinatorFor('g')).toBeUndefined();
    live.set([broker(1)]);
    expect(locator.coordinatorFor('g')).toEqual(broker(1));
  });

  it('changes its answers only when it notifies, and notifies only on real changes', () => {
    const live = source([broker(1), broker(2)]);
    const locator = locatorFromLiveBrokers(1, live.get, live.subscribe);
    const seen: (number | undefined)[] = [];
    const listener = vi.fn(() => seen.push(locator.coordinatorFor('g')?.nodeId));
    locator.onChange(listener);

    // The source changed but did not say so: answers stay on the snapshot.
    live.setQuietly([broker(1)]);
    expect(locator.coordinatorFor('g')?.nodeId).toBe(coordinatorFor('g', [1, 2]));
    // Same set, other order and duplicated: no notification.
    live.set([broker(2), broker(1), broker(2)]);
    expect(listener).not.toHaveBeenCalled();
    // A broker left: listeners see the new answers.
    live.set([broker(2)]);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([2]);
    // A new endpoint for the same broker is a change too.
    live.set([broker(2, 'moved.local')]);
    expect(listener).toHaveBeenCalledTimes(2);
    expect(locator.coordinatorFor('g')).toEqual({ nodeId: 2, host: 'moved.local', port: 9002 });
  });

  it('keeps notifying the other listeners when one throws, then reports the error', () => {
    const live = source([broker(1)]);
    const locator = locatorFromLiveBrokers(1, live.get, live.subscribe);
    const after = vi.fn();
    locator.onChange(() => {
      throw new Error('boom');
    });
    locator.onChange(after);
    expect(() => live.set([broker(1), broker(2)])).toThrow('boom');
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('unsubscribes listeners, and detaches from the source on close', () => {
    const live = source([broker(1)]);
    const locator = locatorFromLiveBrokers(1, live.get, live.subscribe);
    const listener = vi.fn();
    const unsubscribe = locator.onChange(listener);
    locator.refresh();
    unsubscribe();
    live.set([broker(1), broker(2)]);
    expect(listener).not.toHaveBeenCalled();

    const other = vi.fn();
    locator.onChange(other);
    expect(live.subscriberCount).toBe(1);
    locator.close();
    expect(live.subscriberCount).toBe(0);
    live.set([broker(3)]);
    locator.refresh();
    expect(other).not.toHaveBeenCalled();
    expect(locator.coordinatorFor('g')?.nodeId).toBe(coordinatorFor('g', [1, 2]));
  });
});
