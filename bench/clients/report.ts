/** Medians, same-run ratios and the Markdown / JSON reports of the client benchmark. */

import { describeMachineLine, type MachineInfo } from '../machine.js';
import type { ConsumerPerfResult } from '../perf/consumer-perf.js';
import type { E2eResult } from '../perf/end-to-end-perf.js';
import type { ProducerPerfResult } from '../perf/producer-perf.js';
import { median } from '../storage/timing.js';
import type { ClientName } from './client.js';

/** One client's results in one run. */
export interface ClientRun {
  produce: ProducerPerfResult;
  consume: ConsumerPerfResult;
  e2e: E2eResult;
}

/** Both clients' results of one run (they ran back to back, so their ratio cancels drift). */
export type RunPair = Record<ClientName, ClientRun>;

export interface BenchSetup {
  brokers: number;
  partitions: number;
  replicationFactor: number;
  runs: number;
  records: number;
  recordSize: number;
  e2eRecords: number;
  e2eRate: number;
  /** One line per client on how it was configured. */
  clientSettings: string[];
  /** Distinct warnings and errors the clients logged, with counts. */
  problems: Map<string, number>;
  /** 1, 5 and 15 minute load averages before the cluster started (the report's machine line has the end). */
  loadAverageAtStart: number[];
}

interface Metric {
  name: string;
  unit: string;
  pick: (run: ClientRun) => number;
  /** Shown next to the value, e.g. MiB/s next to records/s. */
  extra?: (runs: ClientRun[]) => string;
}

const mib = (pick: (run: ClientRun) => number) => (runs: ClientRun[]) =>
  ` (${median(runs.map(pick)).toFixed(2)} MiB/s)`;

const METRICS: readonly Metric[] = [
  {
    name: 'produce, acks=all',
    unit: 'records/s',
    pick: (r) => r.produce.recordsPerSec,
    extra: mib((r) => r.produce.mibPerSec),
  },
  {
    name: 'consume from earliest',
    unit: 'records/s',
    pick: (r) => r.consume.recordsPerSec,
    extra: mib((r) => r.consume.mibPerSec),
  },
  { name: 'end-to-end latency p50', unit: 'ms', pick: (r) => r.e2e.latencyMs.p50 },
  { name: 'end-to-end latency p99', unit: 'ms', pick: (r) => r.e2e.latencyMs.p99 },
  { name: 'end-to-end latency max', unit: 'ms', pick: (r) => r.e2e.latencyMs.max },
];

export interface MetricSummary {
  case: string;
  unit: string;
  sdk: number;
  kafkajs: number;
  /** Median of the per-run SDK / kafkajs ratios. */
  ratio: number;
  sdkSamples: number[];
  kafkajsSamples: number[];
  ratios: number[];
  sdkExtra: string;
  kafkajsExtra: string;
}

export function summarize(runs: readonly RunPair[]): MetricSummary[] {
  return METRICS.map((metric) => {
    const sdkSamples = runs.map((r) => metric.pick(r.sdk));
    const kafkajsSamples = runs.map((r) => metric.pick(r.kafkajs));
    const ratios = sdkSamples.map((sdk, i) => sdk / kafkajsSamples[i]!);
    return {
      case: metric.name,
      unit: metric.unit,
      sdk: median(sdkSamples),
      kafkajs: median(kafkajsSamples),
      ratio: median(ratios),
      sdkSamples,
      kafkajsSamples,
      ratios,
      sdkExtra: metric.extra?.(runs.map((r) => r.sdk)) ?? '',
      kafkajsExtra: metric.extra?.(runs.map((r) => r.kafkajs)) ?? '',
    };
  });
}

function formatValue(value: number, unit: string): string {
  if (unit === 'ms') return value.toFixed(value >= 100 ? 0 : 1);
  return Math.round(value).toLocaleString('en-US');
}

export function settingsLines(setup: BenchSetup): string[] {
  return [
    `Cluster: ${setup.brokers} brokers (separate processes, spool dev) on loopback, DynamoDB Local; ` +
      `topics of ${setup.partitions} partitions, replication factor ${setup.replicationFactor}, a fresh one per run, case and client.`,
    `Workload: ${setup.records.toLocaleString('en-US')} records of ${setup.recordSize} B (no key) per produce run, ` +
      `read back from the earliest offset by the consume run; end to end ${setup.e2eRecords.toLocaleString('en-US')} ` +
      `records of ${setup.recordSize} B at ${setup.e2eRate} records/s. ${setup.runs} runs, SDK and kafkajs alternating ` +
      '(ABAB) after an untimed warm-up of each; figures are medians, the ratio is the median of per-run SDK / kafkajs ratios.',
    ...setup.clientSettings.map((line) => `${line}.`),
    `Load average before the cluster started: ${setup.loadAverageAtStart.map((l) => l.toFixed(2)).join(' / ')}; ` +
      'the end-of-run figure in the machine line includes the cluster and the benchmark themselves.',
  ];
}

export function markdownReport(
  machine: MachineInfo,
  setup: BenchSetup,
  summaries: readonly MetricSummary[],
): string {
  const rows = summaries.map(
    (s) =>
      `| ${s.case} (${s.unit}) | ${formatValue(s.sdk, s.unit)}${s.sdkExtra} | ` +
      `${formatValue(s.kafkajs, s.unit)}${s.kafkajsExtra} | **${s.ratio.toFixed(2)}** | ${s.ratios.map((r) => r.toFixed(2)).join(', ')} |`,
  );
  const problems = [...setup.problems].map(([line, n]) => `- ${line} (×${n})`);
  return [
    `Machine: ${describeMachineLine(machine)}`,
    ...settingsLines(setup),
    '',
    '| case | SDK (median) | kafkajs (median) | SDK / kafkajs | per-run ratios |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    'Ratio above 1: the SDK is faster in the throughput rows, slower (higher latency) in the latency rows.',
    problems.length === 0
      ? 'Client warnings and errors: none.'
      : ['Client warnings and errors:', ...problems].join('\n'),
  ].join('\n');
}

export function jsonReport(
  machine: MachineInfo,
  setup: BenchSetup,
  summaries: readonly MetricSummary[],
  runs: readonly RunPair[],
): string {
  const { problems, ...settings } = setup;
  return JSON.stringify(
    {
      machine,
      settings,
      cases: summaries.map(({ sdkExtra: _s, kafkajsExtra: _k, ...summary }) => summary),
      problems: Object.fromEntries(problems),
      runs,
    },
    null,
    2,
  );
}
