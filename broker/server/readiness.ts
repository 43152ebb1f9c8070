import type { PartitionState } from '../cluster/partition-state-store.js';

export interface Readiness {
  ready: boolean;
  /** Why not, most important first; at most a handful of partition names. */
  reasons: string[];
}

export interface ReadinessInputs {
  nodeId: number;
  /** This broker holds a valid registration. */
  registered: boolean;
  /** Still rejoining with a new data directory (cluster/storage-rejoin.ts). */
  rejoining: boolean;
  partitions: readonly PartitionState[];
  liveBrokerIds: ReadonlySet<number>;
}

const LISTED = 5;

/**
 * Whether this broker carries its share of replication: registered, finished rejoining, and in
 * the ISR of every partition it replicates whose leader is live. A rolling replacement waits for
 * this before it takes down the next broker (cdk/lib/brokers.ts); otherwise replacing brokers one
 * after another could leave a partition's only in-sync copy on the broker being replaced.
 *
 * Partitions without a live leader do not count: this broker cannot catch up on them, and
 * waiting for them would block a rolling restart that is what brings their leader back.
 */
export function assessReadiness(inputs: ReadinessInputs): Readiness {
  if (!inputs.registered) return { ready: false, reasons: ['not registered with the cluster'] };
  if (inputs.rejoining) {
    return { ready: false, reasons: ['rejoining with a new data directory'] };
  }
  const behind = inputs.partitions.filter(
    (p) =>
      p.replicas.includes(inputs.nodeId) &&
      p.leader >= 0 &&
      p.leader !== inputs.nodeId &&
      inputs.liveBrokerIds.has(p.leader) &&
      !p.isr.includes(inputs.nodeId),
  );
  if (behind.length === 0) return { ready: true, reasons: [] };
  const names = behind.slice(0, LISTED).map((p) => `${p.topic}-${p.partition}`);
  const more = behind.length > LISTED ? ` and ${behind.length - LISTED} more` : '';
  return { ready: false, reasons: [`catching up on ${names.join(', ')}${more}`] };
}
