import { coordinatorFor as placeGroup } from '../cluster/group-placement.js';

/** A broker as clients reach it: its node id and advertised endpoint. */
export interface CoordinatorEndpoint {
  nodeId: number;
  host: string;
  port: number;
}

/**
 * Where consumer groups are coordinated. The group coordinator serves only the groups for which
 * `coordinatorFor(groupId).nodeId === localNodeId`, and FindCoordinator sends clients to
 * `coordinatorFor(key)`.
 *
 * Invariant implementations must keep: answers change only together with an `onChange`
 * notification (the coordinator drops its cached copy of a group it stops owning when notified;
 * an ownership that moved away and back silently would leave it serving a stale copy). Listeners
 * run after the new answers are in place.
 */
export interface CoordinatorLocator {
  /** The live broker that coordinates `groupId`, with its advertised endpoint; undefined if no broker is live. */
  coordinatorFor(groupId: string): CoordinatorEndpoint | undefined;
  /** This broker's id. */
  readonly localNodeId: number;
  /** Subscribe to changes of the live-broker set (ownership may have moved). Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** A lone broker coordinates every group, forever. For tests and single-broker setups. */
export function singleBrokerLocator(identity: CoordinatorEndpoint): CoordinatorLocator {
  const endpoint: CoordinatorEndpoint = { nodeId: identity.nodeId, host: identity.host, port: identity.port };
  return {
    localNodeId: endpoint.nodeId,
    coordinatorFor: () => ({ ...endpoint }),
    onChange: () => () => {},
  };
}

/** A locator that can be detached from its source of live brokers. */
export interface LiveBrokerLocator extends CoordinatorLocator {
  /** Re-reads the live brokers now (as a `subscribe` notification would). */
  refresh(): void;
  /** Stops following the source; answers stay frozen at the last snapshot. */
  close(): void;
}

/**
 * A locator over a changing set of live brokers, placing groups by rendezvous hashing
 * (cluster/group-placement.ts).
 *
 * `getLiveBrokers` is read once at creation and again each time `subscribe`'s callback fires;
 * answers come from that snapshot, so they change only when listeners are notified (the
 * invariant of CoordinatorLocator). Listeners are notified only if the snapshot actually changed
 * (ids or endpoints). Which brokers count as live is the source's call; it should leave this
 * broker out while its own lease is not valid, so that a self-fenced broker coordinates nothing.
 */
export function locatorFromLiveBrokers(
  localNodeId: number,
  getLiveBrokers: () => readonly CoordinatorEndpoint[],
  subscribe: (onSourceChange: () => void) => () => void,
): LiveBrokerLocator {
  let snapshot = snapshotOf(getLiveBrokers());
  const listeners = new Set<() => void>();
  let closed = false;

  const refresh = (): void => {
    if (closed) return;
    const next = snapshotOf(getLiveBrokers());
    if (sameSnapshot(snapshot, next)) return;
    snapshot = next;
    // A throwing listener must not keep the others from learning that ownership moved.
    const errors: unknown[] = [];
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'coordinator locator listeners failed');
  };
  const unsubscribeSource = subscribe(refresh);

  return {
    localNodeId,
    coordinatorFor(groupId) {
      const nodeId = placeGroup(groupId, snapshot.ids);
      const endpoint = nodeId === undefined ? undefined : snapshot.byId.get(nodeId);
      return endpoint && { ...endpoint };
    },
    onChange(listener) {
      // Wrapped, so the same function subscribed twice is two subscriptions.
      const entry = () => listener();
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    refresh,
    close() {
      if (closed) return;
      closed = true;
      unsubscribeSource();
      listeners.clear();
    },
  };
}

interface Snapshot {
  /** Ascending, no duplicates. */
  readonly ids: readonly number[];
  readonly byId: ReadonlyMap<number, CoordinatorEndpoint>;
}

/** Normalized: one endpoint per node id (the last listed wins), sorted by id. */
function snapshotOf(brokers: readonly CoordinatorEndpoint[]): Snapshot {
  const byId = new Map<number, CoordinatorEndpoint>();
  for (const b of brokers) byId.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port });
  return { ids: [...byId.keys()].sort((a, b) => a - b), byId };
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a.ids.length !== b.ids.length) return false;
  return a.ids.every((id, i) => {
    if (b.ids[i] !== id) return false;
    const x = a.byId.get(id)!;
    const y = b.byId.get(id)!;
    return x.host === y.host && x.port === y.port;
  });
}
