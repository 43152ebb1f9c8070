/**
 * Throughput accounting and periodic progress lines, shared by the benchmarks and `spool produce`.
 * A ThroughputMeter counts completed records (and their bytes and latencies) for the whole run
 * and for the current reporting window; `everyInterval` calls a reporter on a timer.
 */

const MIB = 1024 * 1024;

export interface ThroughputStats {
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  mibPerSec: number;
  /** Over the records that carried a latency; null if none did. */
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
}

interface Counters {
  records: number;
  bytes: number;
  latencyCount: number;
  latencySumMs: number;
  latencyMaxMs: number;
}

function zero(): Counters {
  return { records: 0, bytes: 0, latencyCount: 0, latencySumMs: 0, latencyMaxMs: 0 };
}

/** Records per second and MiB per second; 0 over an empty interval. */
export function rates(
  records: number,
  bytes: number,
  elapsedMs: number,
): { recordsPerSec: number; mibPerSec: number } {
  if (elapsedMs <= 0) return { recordsPerSec: 0, mibPerSec: 0 };
  return { recordsPerSec: (records * 1000) / elapsedMs, mibPerSec: (bytes * 1000) / elapsedMs / MIB };
}

export class ThroughputMeter {
  private readonly startedAt: number;
  private windowStartedAt: number;
  private readonly totals = zero();
  private current = zero();

  constructor(private readonly now: () => number = () => performance.now()) {
    this.startedAt = now();
    this.windowStartedAt = this.startedAt;
  }

  /** Counts one completed record of `bytes` bytes, with its latency if it has one. */
  record(bytes: number, latencyMs?: number): void {
    for (const c of [this.totals, this.current]) {
      c.records++;
      c.bytes += bytes;
      if (latencyMs !== undefined) {
        c.latencyCount++;
        c.latencySumMs += latencyMs;
        if (latencyMs > c.latencyMaxMs) c.latencyMaxMs = latencyMs;
      }
    }
  }

  get records(): number {
    return this.totals.records;
  }

  get bytes(): number {
    return this.totals.bytes;
  }

  /** Milliseconds since the meter was created. */
  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  /** The window since the previous call (or the start); starts the next window. */
  window(): ThroughputStats {
    const now = this.now();
    const stats = toStats(this.current, now - this.windowStartedAt);
    this.current = zero();
    this.windowStartedAt = now;
    return stats;
  }

  /** The whole run so far, or up to `endAt` (e.g. the last record, to leave out an idle tail). */
  total(endAt: number = this.now()): ThroughputStats {
    return toStats(this.totals, endAt - this.startedAt);
  }
}

function toStats(c: Counters, elapsedMs: number): ThroughputStats {
  return {
    records: c.records,
    bytes: c.bytes,
    elapsedMs,
    ...rates(c.records, c.bytes, elapsedMs),
    avgLatencyMs: c.latencyCount === 0 ? null : c.latencySumMs / c.latencyCount,
    maxLatencyMs: c.latencyCount === 0 ? null : c.latencyMaxMs,
  };
}

/**
 * One progress line in the style of Kafka's perf tools:
 * `50000 records sent, 9999.8 records/sec (0.95 MiB/sec), 2.1 ms avg latency, 12.3 ms max latency.`
 * The latency part is left out when the window has no latencies.
 */
export function formatWindow(stats: ThroughputStats, verb = 'sent'): string {
  let line = `${stats.records} records ${verb}, ${stats.recordsPerSec.toFixed(1)} records/sec (${stats.mibPerSec.toFixed(2)} MiB/sec)`;
  if (stats.avgLatencyMs !== null && stats.maxLatencyMs !== null)
    line += `, ${stats.avgLatencyMs.toFixed(1)} ms avg latency, ${stats.maxLatencyMs.toFixed(1)} ms max latency`;
  return `${line}.`;
}

/**
 * Calls `report` every `intervalMs` until the returned function is called. The timer does not keep
 * the process alive on its own.
 */
export function everyInterval(intervalMs: number, report: () => void): () => void {
  const timer = setInterval(report, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
