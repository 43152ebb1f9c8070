/**
 * What the fault tests need to know about a running local cluster: which brokers are up, who leads
 * what, who is controller, and whether every partition is healthy again (a live leader that all
 * running brokers agree on, and a full ISR).
 */
import type { DevCluster } from '../../../broker/local/dev-cluster.js';
import { type MetadataView, metadataFrom, metadataFromAny, sleep } from './wire.js';

export interface BrokerEndpoint {
  nodeId: number;
  port: number;
}

/** Running brokers (paused ones included), by node id. */
export function runningBrokers(cluster: DevCluster): BrokerEndpoint[] {
  return cluster.state.brokers.map((b) => ({ nodeId: b.nodeId, port: b.port }));
}

/** Metadata from any running broker except those in `avoid` (e.g. a paused one). */
export function clusterMetadata(
  cluster: DevCluster,
  topic: string,
  avoid: readonly number[] = [],
): Promise<MetadataView> {
  const brokers = runningBrokers(cluster).filter((b) => !avoid.includes(b.nodeId));
  // Start at a random broker so no single one's cache is trusted every time.
  const start = Math.floor(Math.random() * Math.max(brokers.length, 1));
  return metadataFromAny([...brokers.slice(start), ...brokers.slice(0, start)], topic);
}

export interface HealthReport {
  healthy: boolean;
  /** Why not, for error messages. */
  reasons: string[];
  views: MetadataView[];
}

/**
 * Healthy: `expectedBrokers` are all running; every running broker answers Metadata and they all
 * report, for every partition, the same live leader and leader epoch and an ISR equal to the
 * replica set.
 */
export async function checkHealth(
  cluster: DevCluster,
  topic: string,
  partitions: number,
  expectedBrokers: number,
): Promise<HealthReport> {
  const reasons: string[] = [];
  const brokers = runningBrokers(cluster);
  if (brokers.length !== expectedBrokers)
    reasons.push(`${brokers.length}/${expectedBrokers} brokers running`);
  const views: MetadataView[] = [];
  for (const b of brokers) {
    try {
      views.push(await metadataFrom(b.nodeId, b.port, topic, 2000));
    } catch (error) {
      reasons.push(`broker ${b.nodeId}: ${(error as Error).message}`);
    }
  }
  for (let p = 0; p < partitions; p++) {
    const states = views.map((v) => ({ from: v.from, s: v.partitions.find((x) => x.partition === p) }));
    const first = states[0]?.s;
    if (!first) {
      reasons.push(`partition ${p}: no metadata`);
      continue;
    }
    if (first.leader < 0) reasons.push(`partition ${p}: no leader`);
    if (first.isr.length !== first.replicas.length)
      reasons.push(`partition ${p}: ISR [${first.isr}] of replicas [${first.replicas}]`);
    for (const { from, s } of states) {
      if (
        !s ||
        s.leader !== first.leader ||
        s.leaderEpoch !== first.leaderEpoch ||
        s.isr.join() !== first.isr.join()
      )
        reasons.push(
          `partition ${p}: broker ${from} sees leader ${s?.leader} epoch ${s?.leaderEpoch} ISR [${s?.isr}], broker ${states[0]!.from} sees leader ${first.leader} epoch ${first.leaderEpoch} ISR [${first.isr}]`,
        );
    }
  }
  return { healthy: reasons.length === 0, reasons, views };
}

/** Polls `checkHealth` until healthy; throws with the last reasons after `timeoutMs`. */
export async function waitForHealthy(
  cluster: DevCluster,
  topic: string,
  partitions: number,
  expectedBrokers: number,
  timeoutMs: number,
): Promise<MetadataView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await checkHealth(cluster, topic, partitions, expectedBrokers);
    if (report.healthy) return report.views[0]!;
    if (Date.now() > deadline)
      throw new Error(`cluster not healthy after ${timeoutMs} ms: ${report.reasons.join('; ')}`);
    await sleep(250);
  }
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    await sleep(intervalMs);
  }
}
