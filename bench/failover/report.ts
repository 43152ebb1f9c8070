/** Statistics and the Markdown report of the failover benchmark. */
import { describeMachine, describeMachineLine } from '../machine.js';

export interface FailoverRun {
  run: number;
  killed: number;
  newLeader: number;
  newEpoch: number;
  /** Kill to the first Metadata answer naming another leader (as the writer saw it). */
  visibleMs: number;
  /** Kill to the first acks=all write acknowledged by the new leader: the failover time. */
  failoverMs: number;
  /** Restart of the killed broker until it was ready (includes waiting out its old lease). */
  restartMs: number;
  /** From the restart until the ISR was full again. */
  isrFullMs: number;
}

/** The issue's target for the default lease settings. */
export const TARGET_MS = 5000;

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function settingsLine(env: NodeJS.ProcessEnv): string {
  const get = (name: string, fallback: string) => env[name] ?? fallback;
  return (
    `Cluster: 3 brokers (separate processes) on loopback, DynamoDB Local; topic RF 3, min.insync.replicas 2, 1 partition. ` +
    `Lease ${get('SPOOL_LEASE_MS', '3000')} ms, renew ${get('SPOOL_LEASE_RENEW_MS', '500')} ms, ` +
    `clock-skew margin ${get('SPOOL_CLOCK_SKEW_MARGIN_MS', '500')} ms (broker defaults unless overridden by env).`
  );
}

export function machineLine(): string {
  return `Machine: ${describeMachineLine(describeMachine())}`;
}

export function markdownReport(runs: readonly FailoverRun[], extra: readonly string[]): string {
  const rows = runs.map(
    (r) =>
      `| ${r.run} | ${r.killed} | ${r.newLeader} (epoch ${r.newEpoch}) | ${r.visibleMs} | **${r.failoverMs}** | ${r.restartMs} | ${r.isrFullMs} |`,
  );
  const failovers = runs.map((r) => r.failoverMs);
  const visible = runs.map((r) => r.visibleMs);
  const stat = (values: number[]) =>
    values.length === 0
      ? 'n/a'
      : `median ${percentile(values, 50)} ms` +
        (values.length >= 10 ? `, p90 ${percentile(values, 90)} ms` : '') +
        `, max ${Math.max(...values)} ms`;
  const max = failovers.length > 0 ? Math.max(...failovers) : Number.NaN;
  return [
    machineLine(),
    settingsLine(process.env),
    '',
    '| run | killed leader | new leader | new leader in Metadata (ms) | first acks=all write (ms) | restart (ms) | ISR full again (ms) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Failover (SIGKILL of the leader → first acks=all write acknowledged by the new leader), ${runs.length} runs: ${stat(failovers)}.`,
    `New leader visible in Metadata: ${stat(visible)}.`,
    `Target < ${TARGET_MS} ms: ${failovers.length === 0 ? 'no runs' : max < TARGET_MS ? 'met' : `NOT met (max ${max} ms)`}.`,
    ...extra,
  ].join('\n');
}
