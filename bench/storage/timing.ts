import { performance } from 'node:perf_hooks';

/** Bytes moved by one timed phase, and how long it took. */
export interface PhaseResult {
  bytes: number;
  seconds: number;
}

/** One engine's append phase followed by its read phase, over the same data. */
export interface EngineRun {
  append: PhaseResult;
  read: PhaseResult;
}

/** Times `phase`, which returns the number of bytes it moved. */
export async function timePhase(phase: () => Promise<number>): Promise<PhaseResult> {
  const start = performance.now();
  const bytes = await phase();
  return { bytes, seconds: (performance.now() - start) / 1000 };
}

/** Decimal megabytes per second, the unit disks are usually quoted in. */
export function megabytesPerSecond(result: PhaseResult): number {
  return result.bytes / 1e6 / result.seconds;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Guards against a benchmark that silently moved less data than it claims. */
export function expectBytes(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${what}: moved ${actual} bytes, expected ${expected}`);
}
