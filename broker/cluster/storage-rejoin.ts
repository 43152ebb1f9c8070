import type { Logger } from '../common/logger.js';
import type { StorageMarker } from '../storage/storage-marker.js';
import type { PartitionState } from './partition-state-store.js';

export interface StorageRejoinDeps {
  nodeId: number;
  marker: StorageMarker;
  listPartitions(): Promise<PartitionState[]>;
  /** Clears the rejoining flag of this broker's current registration (BrokerLease.markRejoined). */
  markRejoined(): Promise<void>;
  stopped(): boolean;
  logger: Logger;
  pollMs?: number;
}

/**
 * Finishes the registration of a broker that started without its storage marker, i.e. with a
 * data directory the cluster has never seen (storage/storage-marker.ts).
 *
 * The broker registered with `rejoining` set, so the controller elects it nowhere and takes it out
 * of every ISR it shares with another replica (cluster/partition-election.ts), and leaders do not
 * add it back. Once no partition lists it in such an ISR, its memberships are gone; the flag is
 * cleared, the marker written, and from then on it rejoins ISRs like any follower that caught up.
 *
 * A partition whose only ISR member was this broker has no copy left beyond the archive: it is
 * reported, and this broker (with its empty log) is what the controller elects there, as it would
 * after an unclean election.
 */
/** Resolves true once rejoined, false if the broker stopped first. */
export async function completeStorageRejoin(deps: StorageRejoinDeps): Promise<boolean> {
  const { nodeId, logger } = deps;
  const pollMs = deps.pollMs ?? 1000;
  let lastReport = 0;
  while (!deps.stopped()) {
    try {
      if (!deps.marker.present) {
        const states = await deps.listPartitions();
        const shared = states.filter((s) => s.isr.includes(nodeId) && s.isr.length > 1);
        if (shared.length > 0) {
          if (Date.now() - lastReport >= 10_000) {
            lastReport = Date.now();
            logger.warn(
              { waitingFor: shared.slice(0, 20).map(name), count: shared.length },
              'new data directory: waiting for the controller to take this broker out of the ISRs it held',
            );
          }
          await sleep(pollMs);
          continue;
        }
        const lost = states.filter((s) => s.isr.length === 1 && s.isr[0] === nodeId).map(name);
        if (lost.length > 0) {
          logger.error(
            { partitions: lost },
            'this broker was the last in-sync replica of these partitions and its data directory is new: their records not yet in the archive are lost',
          );
        }
        // Marker first: from here on every registration is unflagged, so clearing the current
        // one (retried until it succeeds) leaves none flagged. A crash in between is harmless:
        // the memberships the flag guarded against are already gone.
        await deps.marker.write();
      }
      await deps.markRejoined();
      logger.info('rejoined the cluster with a new data directory; replicas catch up from their leaders');
      return true;
    } catch (error) {
      logger.warn({ err: error }, 'storage rejoin step failed; retrying');
      await sleep(pollMs);
    }
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function name(state: PartitionState): string {
  return `${state.topic}-${state.partition}`;
}
