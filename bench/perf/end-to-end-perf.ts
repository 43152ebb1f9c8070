/**
 * The end-to-end benchmark behind `spool bench e2e`, in the manner of Kafka's EndToEndLatency
 * tool: a producer and a consumer in one process, each record carrying its send time, and the
 * latency is the time from send() until the consumer hands the record out (produce, replicate
 * to the high watermark, fetch). One clock, so no cross-host skew. Records are paced at
 * `throughput` per second so the latency measured is not queueing behind a backlog.
 */
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js';
import { everyInterval, ThroughputMeter, type ThroughputStats } from './progress.js';
import { type Clock, realClock, Throttle } from './throttle.js';

export interface E2eProducer {
  send(topic: string, record: { key: null; value: Buffer }): Promise<unknown>;
  flush(): Promise<void>;
}

export interface E2eOptions {
  topic: string;
  records: number;
  recordSize: number;
  /** Records per second; negative: unlimited. */
  throughput: number;
  /** Give up waiting for outstanding records this long after the last send. Default 30 s. */
  drainTimeoutMs?: number;
  reportIntervalMs?: number;
  onProgress?: (window: ThroughputStats) => void;
  clock?: Clock;
}

export interface E2eResult {
  records: number;
  recordSize: number;
  elapsedMs: number;
  recordsPerSec: number;
  mibPerSec: number;
  /** Send to delivery by the consumer, in ms. */
  latencyMs: LatencySummary;
  /** Records sent but never seen by the consumer before the drain timeout. */
  missing: number;
}

const STAMP_BYTES = 16;

/** Runs the benchmark. `consumed` is fed by the caller's consumer with each record's value. */
export async function runEndToEndPerf(
  producer: E2eProducer,
  consumed: { onValue?: (value: Buffer) => void },
  options: E2eOptions,
): Promise<E2eResult> {
  const clock = options.clock ?? realClock;
  const size = Math.max(STAMP_BYTES, options.recordSize);
  const latencies = new LatencyRecorder();
  const meter = new ThroughputMeter(() => clock.now());
  const seen = new Set<number>();
  let allSeen = () => {};
  const done = new Promise<void>((resolve) => {
    allSeen = resolve;
  });
  consumed.onValue = (value) => {
    if (value.length < STAMP_BYTES) return;
    const id = value.readUInt32BE(0);
    const sentAt = value.readDoubleBE(8);
    if (seen.has(id) || id >= options.records) return;
    seen.add(id);
    const latency = clock.now() - sentAt;
    latencies.record(latency);
    meter.record(value.length, latency);
    if (seen.size === options.records) allSeen();
  };
  const stopProgress = options.onProgress
    ? everyInterval(options.reportIntervalMs ?? 5_000, () => options.onProgress?.(meter.window()))
    : () => {};
  const throttle = new Throttle(options.throughput, clock);
  const sends: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < options.records; i++) {
      await throttle.wait(i);
      const value = Buffer.alloc(size, 65);
      value.writeUInt32BE(i, 0);
      value.writeDoubleBE(clock.now(), 8);
      sends.push(producer.send(options.topic, { key: null, value }));
      if (sends.length >= 1_000) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await producer.flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.drainTimeoutMs ?? 30_000);
      }),
    ]);
    clearTimeout(timer);
  } finally {
    stopProgress();
    consumed.onValue = undefined;
  }
  const total = meter.total();
  return {
    records: total.records,
    recordSize: size,
    elapsedMs: total.elapsedMs,
    recordsPerSec: total.recordsPerSec,
    mibPerSec: total.mibPerSec,
    latencyMs: latencies.summary(),
    missing: options.records - seen.size,
  };
}

export function formatEndToEndResult(result: E2eResult): string {
  const l = result.latencyMs;
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return (
    `${result.records} records end to end, ${result.recordsPerSec.toFixed(1)} records/sec ` +
    `(${result.mibPerSec.toFixed(2)} MiB/sec), latency ${ms(l.avg)} avg, ${ms(l.p50)} 50th, ` +
    `${ms(l.p99)} 99th, ${ms(l.p999)} 99.9th, ${ms(l.max)} max` +
    (result.missing > 0 ? `; ${result.missing} records never arrived` : '')
  );
}
