/**
 * The consumer benchmark behind `spool bench consume`, modelled on Kafka's
 * kafka-consumer-perf-test: read `records` records of a topic as fast as the consumer delivers
 * them and report throughput. Latency here is the poll wait: how long each request for the next
 * batch waited for one (near zero while a backlog is drained, the fetch round trip otherwise),
 * in an HDR histogram. Time to the first record (connecting, positioning) is reported apart.
 *
 * The consumer is passed in (any async iterable of batches with close()), so the run is testable
 * without a broker.
 */
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js';
import { everyInterval, ThroughputMeter, type ThroughputStats } from './progress.js';
import { type Clock, realClock } from './throttle.js';

export interface PerfBatch {
  records: readonly { key: Buffer | null; value: Buffer | null }[];
}

/** A consumer as the benchmark sees it: batches to iterate, and close() to end a waiting iteration. */
export interface PerfConsumer extends AsyncIterable<PerfBatch> {
  close(): Promise<void>;
}

export interface ConsumerPerfOptions {
  records: number;
  /** Stop early when no record arrived for this long. Default 10 s. */
  idleTimeoutMs?: number;
  reportIntervalMs?: number;
  onProgress?: (window: ThroughputStats) => void;
  clock?: Clock;
}

export interface ConsumerPerfResult {
  records: number;
  bytes: number;
  /** From the first record to the last. */
  elapsedMs: number;
  recordsPerSec: number;
  mibPerSec: number;
  /** From the start of the run to the first record: connecting, joining, positioning, first fetch. */
  firstRecordMs: number;
  /** How long each wait for the next batch took, in ms. */
  pollWaitMs: LatencySummary;
  /** True when the run stopped on the idle timeout before `records`. */
  timedOut: boolean;
}

/** Runs the benchmark and closes the consumer. */
export async function runConsumerPerf(
  consumer: PerfConsumer,
  options: ConsumerPerfOptions,
): Promise<ConsumerPerfResult> {
  if (!Number.isInteger(options.records) || options.records < 1)
    throw new RangeError('records must be at least 1');
  const clock = options.clock ?? realClock;
  const startedAt = clock.now();
  const waits = new LatencyRecorder();
  let meter: ThroughputMeter | undefined;
  let firstRecordMs = 0;
  let stopProgress = () => {};
  let timedOut = false;
  let lastRecordAt = 0;
  const iterator = consumer[Symbol.asyncIterator]();
  try {
    while ((meter?.records ?? 0) < options.records) {
      const asked = clock.now();
      const next = await withTimeout(iterator.next(), options.idleTimeoutMs ?? 10_000);
      if (next === 'timeout') {
        timedOut = true;
        break;
      }
      if (next.done) break;
      if (!meter) {
        firstRecordMs = clock.now() - startedAt;
        meter = new ThroughputMeter(() => clock.now());
        const current = meter;
        if (options.onProgress) {
          const onProgress = options.onProgress;
          stopProgress = everyInterval(options.reportIntervalMs ?? 5_000, () => onProgress(current.window()));
        }
      } else {
        waits.record(clock.now() - asked);
      }
      for (const record of next.value.records)
        meter.record((record.key?.length ?? 0) + (record.value?.length ?? 0));
      lastRecordAt = clock.now();
    }
  } finally {
    stopProgress();
    // After an idle timeout a next() is still pending, and an async generator queues return()
    // behind it: closing first ends that wait.
    await consumer.close();
    await iterator.return?.();
  }
  const total = meter?.total(lastRecordAt);
  return {
    records: total?.records ?? 0,
    bytes: total?.bytes ?? 0,
    elapsedMs: total?.elapsedMs ?? 0,
    recordsPerSec: total?.recordsPerSec ?? 0,
    mibPerSec: total?.mibPerSec ?? 0,
    firstRecordMs,
    pollWaitMs: waits.summary(),
    timedOut,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function formatConsumerPerfResult(result: ConsumerPerfResult): string {
  const w = result.pollWaitMs;
  return (
    `${result.records} records consumed (${(result.bytes / 1024 / 1024).toFixed(2)} MiB) in ` +
    `${(result.elapsedMs / 1000).toFixed(2)} s: ${result.recordsPerSec.toFixed(1)} records/sec ` +
    `(${result.mibPerSec.toFixed(2)} MiB/sec); first record after ${result.firstRecordMs.toFixed(0)} ms; ` +
    `poll wait ${w.p50.toFixed(2)} ms 50th, ${w.p99.toFixed(2)} ms 99th, ${w.p999.toFixed(2)} ms 99.9th, ` +
    `${w.max.toFixed(2)} ms max` +
    (result.timedOut ? ' (stopped: no records arrived within the idle timeout)' : '')
  );
}
