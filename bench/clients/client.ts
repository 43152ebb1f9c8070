/**
 * What the client benchmark runs against each client (Spool's SDK, kafkajs): three cases over a
 * fresh topic each, with the same runners from bench/perf/ so both sides are measured alike.
 */
import type { ConsumerPerfResult } from '../perf/consumer-perf.js';
import type { E2eResult } from '../perf/end-to-end-perf.js';
import type { ProducerPerfResult } from '../perf/producer-perf.js';

export type ClientName = 'sdk' | 'kafkajs';

export interface ThroughputCase {
  topic: string;
  records: number;
  recordSize: number;
}

export interface EndToEndCase extends ThroughputCase {
  /** Records per second. */
  rate: number;
}

/** Where a case's topic is, for consumers that must wait until they fetch from every leader. */
export interface TopicLayout {
  partitions: { topic: string; partition: number }[];
  /** Distinct partition leaders (node ids). */
  leaders: number[];
}

export interface BenchClient {
  readonly name: ClientName;
  /** Notes on how this client was configured, for the report. */
  readonly settings: string;
  produce(run: ThroughputCase): Promise<ProducerPerfResult>;
  /** Reads `run.records` records of `run.topic` from the earliest offset. */
  consume(run: ThroughputCase, layout: TopicLayout): Promise<ConsumerPerfResult>;
  endToEnd(run: EndToEndCase, layout: TopicLayout): Promise<E2eResult>;
}

/** How long a consume run may see no record before it counts as stuck. */
export const CONSUME_IDLE_TIMEOUT_MS = 30_000;

/** Fails a run that did not read every record, rather than reporting a rate over fewer. */
export function expectAllConsumed(client: ClientName, result: ConsumerPerfResult, expected: number): void {
  if (result.records < expected || result.timedOut)
    throw new Error(
      `${client}: consumed ${result.records} of ${expected} records${result.timedOut ? ' (idle timeout)' : ''}`,
    );
}

export function expectAllDelivered(client: ClientName, result: E2eResult): void {
  if (result.missing > 0)
    throw new Error(`${client}: ${result.missing} records sent end to end never reached the consumer`);
}

/** Polls `probe` every 20 ms until it is true; throws after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
