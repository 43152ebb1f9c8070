/**
 * The producer benchmark behind `spool bench produce`, modelled on Kafka's
 * kafka-producer-perf-test: send `records` records of `recordSize` bytes (random upper-case
 * letters, one payload reused), optionally capped at `throughput` records/s, and measure each
 * record's latency from the send() call to its acknowledgement. Progress windows are reported
 * every `reportIntervalMs`; the result has the throughput and the latency percentiles.
 *
 * The producer is passed in (anything with send/flush), so the run can be tested without a broker.
 */
import { InFlightLimit } from './in-flight-limit.js';
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js';
import { everyInterval, ThroughputMeter, type ThroughputStats } from './progress.js';
import { type Clock, realClock, Throttle } from './throttle.js';

export interface PerfProducer {
  /** Called before the clock starts, so connecting is not part of the first record's latency. */
  connect?(): Promise<void>;
  send(topic: string, record: { key: null; value: Buffer }): Promise<unknown>;
  flush(): Promise<void>;
}

export interface ProducerPerfOptions {
  topic: string;
  records: number;
  recordSize: number;
  /** Records per second at most; negative: unlimited. */
  throughput: number;
  /** Sends not yet acknowledged at most (backpressure on top of the producer's buffer). Default 10 000. */
  maxInFlight?: number;
  /** Default 5000. */
  reportIntervalMs?: number;
  onProgress?: (window: ThroughputStats) => void;
  /** Default: `randomPayload(recordSize)`. */
  payload?: Buffer;
  clock?: Clock;
}

export interface ProducerPerfResult {
  topic: string;
  records: number;
  recordSize: number;
  bytes: number;
  /** From the first send to the last acknowledgement. */
  elapsedMs: number;
  recordsPerSec: number;
  mibPerSec: number;
  /** Send to acknowledgement, in milliseconds. */
  latencyMs: LatencySummary;
}

export const DEFAULT_MAX_IN_FLIGHT = 10_000;
export const DEFAULT_REPORT_INTERVAL_MS = 5_000;

/** `size` random upper-case ASCII letters, as Kafka's perf test generates payloads. */
export function randomPayload(size: number, random: () => number = Math.random): Buffer {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = 65 + Math.floor(random() * 26);
  return payload;
}

export async function runProducerPerf(
  producer: PerfProducer,
  options: ProducerPerfOptions,
): Promise<ProducerPerfResult> {
  const { topic, records, recordSize } = options;
  if (!Number.isInteger(records) || records < 1) throw new RangeError('records must be at least 1');
  if (!Number.isInteger(recordSize) || recordSize < 0) throw new RangeError('recordSize must be at least 0');
  const clock = options.clock ?? realClock;
  const payload = options.payload ?? randomPayload(recordSize);
  const throttle = new Throttle(options.throughput, clock);
  const limit = new InFlightLimit(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const latencies = new LatencyRecorder();
  let failure: { error: unknown } | undefined;

  await producer.connect?.();
  const meter = new ThroughputMeter(() => clock.now());
  const onProgress = options.onProgress;
  const stopProgress = onProgress
    ? everyInterval(options.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS, () => onProgress(meter.window()))
    : () => {};
  try {
    for (let i = 0; i < records && !failure; i++) {
      await throttle.wait(i);
      if (!limit.tryAcquire()) await limit.acquire();
      if (failure) {
        // A send failed while this one waited for its slot.
        limit.release();
        break;
      }
      const sentAt = clock.now();
      producer.send(topic, { key: null, value: payload }).then(
        () => {
          const latency = clock.now() - sentAt;
          latencies.record(latency);
          meter.record(payload.length, latency);
          limit.release();
        },
        (error: unknown) => {
          failure ??= { error };
          limit.release();
        },
      );
    }
    await limit.drain();
    await producer.flush();
  } finally {
    stopProgress();
  }
  if (failure) throw failure.error;
  const total = meter.total();
  return {
    topic,
    records: total.records,
    recordSize,
    bytes: total.bytes,
    elapsedMs: total.elapsedMs,
    recordsPerSec: total.recordsPerSec,
    mibPerSec: total.mibPerSec,
    latencyMs: latencies.summary(),
  };
}

/**
 * The final line, as kafka-producer-perf-test prints it:
 * `N records sent, X records/sec (Y MiB/sec), A ms avg latency, M ms max latency, P ms 50th, ...`
 */
export function formatProducerPerfResult(result: ProducerPerfResult): string {
  const l = result.latencyMs;
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  return (
    `${result.records} records sent, ${result.recordsPerSec.toFixed(1)} records/sec ` +
    `(${result.mibPerSec.toFixed(2)} MiB/sec), ${ms(l.avg)} avg latency, ${ms(l.max)} max latency, ` +
    `${ms(l.p50)} 50th, ${ms(l.p95)} 95th, ${ms(l.p99)} 99th, ${ms(l.p999)} 99.9th.`
  );
}
