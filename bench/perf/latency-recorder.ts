/**
 * Latency distribution of a benchmark run in an HDR histogram (hdr-histogram-js, its pure-JS
 * implementation): constant memory however many values are recorded, percentiles within 0.1 %
 * (3 significant digits). Values are kept in microseconds so sub-millisecond latencies on loopback
 * keep their resolution; everything this module returns is in milliseconds.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  /** Values recorded. */
  count: number;
  min: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** The percentiles every benchmark reports, as `LatencySummary` keys. */
export const PERCENTILES = [
  ['p50', 50],
  ['p95', 95],
  ['p99', 99],
  ['p999', 99.9],
] as const;

export class LatencyRecorder {
  private readonly histogram: Histogram = build({
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    // Grows as needed; a benchmark must not fail because one record took longer than expected.
    autoResize: true,
    useWebAssembly: false,
  });

  /** Records one latency in milliseconds (clamped to 1 µs: the histogram's lowest value). */
  record(latencyMs: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /**
   * The latency (ms) that `percentile` % of the recorded values are at or below; 0 when empty.
   * The histogram answers with the highest value of a bucket; it is capped at the largest value
   * recorded, so no percentile exceeds the maximum.
   */
  percentile(percentile: number): number {
    if (this.count === 0) return 0;
    return toMs(Math.min(this.histogram.getValueAtPercentile(percentile), this.histogram.maxValue));
  }

  /** All zeros (and count 0) when nothing was recorded. */
  summary(): LatencySummary {
    const empty = this.count === 0;
    const summary: LatencySummary = {
      count: this.count,
      min: empty ? 0 : toMs(this.histogram.minNonZeroValue),
      avg: empty ? 0 : toMs(this.histogram.mean),
      p50: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: empty ? 0 : toMs(this.histogram.maxValue),
    };
    for (const [key, p] of PERCENTILES) summary[key] = this.percentile(p);
    return summary;
  }

  reset(): void {
    this.histogram.reset();
  }
}

/** Microseconds to milliseconds, rounded to the microsecond. */
function toMs(micros: number): number {
  return Math.round(micros) / 1000;
}
