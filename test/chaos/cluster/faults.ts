/**
 * The fault loop of the cluster chaos test. Each cycle lets traffic flow, injects one fault, and
 * waits until the cluster has recovered (every broker back, every partition led with a full ISR,
 * every producer acknowledged again) before the next:
 * - kill-leader: SIGKILL the leader of a random partition, restart it after a random delay;
 * - kill-controller: SIGKILL the controller, restart it likewise;
 * - pause: SIGSTOP a broker (usually a leader) for longer than its lease, then SIGCONT it, so it
 *   wakes up as a zombie that must fence itself.
 */
import type { DevCluster } from '../../../broker/local/dev-cluster.js';
import type { Rng } from '../fixtures/records.js';
import { clusterMetadata, runningBrokers, waitFor, waitForHealthy } from './topology.js';
import { sleep } from './wire.js';
import type { Workload } from './workload.js';

export type FaultKind = 'kill-leader' | 'kill-controller' | 'pause';
export const FAULT_KINDS: readonly FaultKind[] = ['kill-leader', 'pause', 'kill-controller'];

export interface FaultRecord {
  cycle: number;
  kind: FaultKind;
  target: number;
  /** When the signal was sent. */
  at: number;
  /** Partitions the target led when it was hit. */
  led: number[];
  /** SIGKILL-to-restart delay or pause length. */
  downMs: number;
  /** From the fault until the cluster was healthy and every producer acknowledged again. */
  recoveredMs?: number;
  /** Per partition the target led: from the fault to the first acknowledged write on it. */
  failoverMs: { partition: number; ms: number }[];
}

export interface FaultLoopOptions {
  cluster: DevCluster;
  brokers: number;
  topic: string;
  partitions: number;
  cycles: number;
  workload: Workload;
  rng: Rng;
  /** Traffic without faults before each fault. */
  steadyMs: number;
  /** How long a paused broker stays stopped; must exceed lease + skew margin to make a zombie. */
  pauseMs: number;
  recoveryTimeoutMs: number;
  log: (line: string) => void;
}

export interface FaultLoopResult {
  faults: FaultRecord[];
  /** Brokers that exited without being killed (restarted by the loop): a broker bug. */
  unexpectedExits: string[];
  /** Set if the cluster failed to recover; the loop stops there. */
  error?: string;
}

function chooseKind(cycle: number, rng: Rng): FaultKind {
  // The first cycles cover every kind once; after that, random.
  return cycle < FAULT_KINDS.length ? FAULT_KINDS[cycle]! : rng.pick(FAULT_KINDS);
}

export async function runFaultLoop(options: FaultLoopOptions): Promise<FaultLoopResult> {
  const { cluster, topic, partitions, workload, rng, log } = options;
  const faults: FaultRecord[] = [];
  const unexpectedExits: string[] = [];
  const restartMissing = async (context: string): Promise<void> => {
    for (let id = 0; id < options.brokers; id++) {
      if (cluster.isRunning(id)) continue;
      const note = `broker ${id} was not running ${context}`;
      unexpectedExits.push(note);
      log(`!! ${note}; restarting it`);
      await cluster.startBroker(id);
    }
  };

  for (let cycle = 0; cycle < options.cycles; cycle++) {
    await sleep(options.steadyMs);
    try {
      await restartMissing(`before cycle ${cycle}`);
      const meta = await clusterMetadata(cluster, topic);
      const kind = chooseKind(cycle, rng);
      const leaders = meta.partitions.filter((p) => p.leader >= 0);
      let target: number;
      if (kind === 'kill-controller') target = meta.controllerId;
      else if (kind === 'pause' && rng.chance(0.25)) target = rng.pick(runningBrokers(cluster)).nodeId;
      else target = leaders.length > 0 ? rng.pick(leaders).leader : rng.int(options.brokers);
      const led = meta.partitions.filter((p) => p.leader === target).map((p) => p.partition);
      const downMs = kind === 'pause' ? options.pauseMs : rng.range(0, 1500);
      const at = Date.now();
      log(`cycle ${cycle}: ${kind} broker ${target} (leads [${led}], ${downMs} ms)`);
      if (kind === 'pause') {
        cluster.pauseBroker(target);
        await sleep(downMs);
        cluster.resumeBroker(target);
      } else {
        await cluster.stopBroker(target, 'SIGKILL');
        await sleep(downMs);
        await cluster.startBroker(target);
      }
      const record: FaultRecord = { cycle, kind, target, at, led, downMs, failoverMs: [] };
      faults.push(record);

      await restartMissing(`after cycle ${cycle}'s fault`);
      await waitForHealthy(cluster, topic, partitions, options.brokers, options.recoveryTimeoutMs);
      const healthyAt = Date.now();
      await waitFor(
        'every producer to be acknowledged again',
        async () =>
          Array.from({ length: partitions }, (_, p) => workload.firstAckAfter(p, healthyAt)).every(
            (t) => t !== undefined,
          ) || undefined,
        options.recoveryTimeoutMs,
      );
      record.recoveredMs = Date.now() - at;
      for (const partition of led) {
        // A response already on the wire when the signal landed is not a failover: skip 20 ms.
        const first = workload.firstAckAfter(partition, at + 20);
        if (first !== undefined) record.failoverMs.push({ partition, ms: first - at });
      }
      log(
        `cycle ${cycle}: recovered in ${record.recoveredMs} ms; first writes after the fault: ${record.failoverMs
          .map((f) => `p${f.partition} ${f.ms} ms`)
          .join(', ')}`,
      );
    } catch (error) {
      const message = `cycle ${cycle}: ${(error as Error).message}`;
      log(`!! ${message}`);
      return { faults, unexpectedExits, error: message };
    }
  }
  return { faults, unexpectedExits };
}
