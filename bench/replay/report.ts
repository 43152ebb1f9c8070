/** Medians, the archive/broker ratio and the Markdown report of the replay benchmark. */
import { describeMachineLine, type MachineInfo } from '../machine.js';
import { median } from '../storage/timing.js';
import type { WorkerResult } from './worker.js';

const MIB = 1024 * 1024;

/** One run: the broker read and the archive read of the same records, back to back. */
export interface RunPair {
  broker: WorkerResult;
  archive: WorkerResult;
}

export interface ReplaySetup {
  runs: number;
  partitions: number;
  records: number;
  recordSize: number;
  /** Key and value bytes of all records. */
  payloadBytes: number;
  /** Bytes of the archived .log objects (batch framing included). */
  archivedBytes: number;
  archivedSegments: number;
  segmentBytes: number;
  concurrency: number;
}

const recordsPerSec = (r: WorkerResult) => (r.records * 1000) / r.elapsedMs;
const mibPerSec = (r: WorkerResult) => r.bytes / MIB / (r.elapsedMs / 1000);

export function markdownReport(machine: MachineInfo, setup: ReplaySetup, runs: readonly RunPair[]): string {
  const row = (name: string, pick: (run: RunPair) => WorkerResult) => {
    const results = runs.map(pick);
    const times = results.map((r) => r.elapsedMs / 1000);
    return (
      `| ${name} | ${fmt(median(results.map(recordsPerSec)), 0)} | ${fmt(median(results.map(mibPerSec)), 1)} | ` +
      `${fmt(median(times), 2)} (${fmt(Math.min(...times), 2)}–${fmt(Math.max(...times), 2)}) | ` +
      `${fmt(median(results.map((r) => r.firstRecordMs)), 0)} | ${fmt(median(results.map((r) => r.cpuMs / 1000)), 2)} |`
    );
  };
  const ratios = runs.map((r) => r.broker.elapsedMs / r.archive.elapsedMs);
  const ratioOfMedians =
    median(runs.map((r) => r.broker.elapsedMs)) / median(runs.map((r) => r.archive.elapsedMs));
  return [
    '## Replay: ArchiveReader (S3 emulator) next to a broker fetch (SDK Consumer)',
    '',
    `Machine: ${describeMachineLine(machine)}`,
    '',
    `Workload: ${setup.records} records of ${setup.recordSize} B value (${fmt(setup.payloadBytes / MIB, 1)} MiB of keys and values) ` +
      `in ${setup.partitions} partitions, uncompressed; archived as ${setup.archivedSegments} segments of up to ` +
      `${fmt(setup.segmentBytes / MIB, 0)} MiB (${fmt(setup.archivedBytes / MIB, 1)} MiB of .log objects). ` +
      `${setup.runs} runs, each reading both ways (alternating which goes first), every read in a fresh child process, after an untimed warm-up.`,
    '',
    `- broker: SDK Consumer, assign() every partition, from earliest, defaults (maxBytesPerPartition 1 MiB), one local broker process`,
    `- archive: ArchiveReader, concurrency ${setup.concurrency}, 8 MiB ranged GETs, CRC-32C checked, against s3rver + DynamoDB Local on loopback`,
    '',
    '| path | records/s (median) | MiB/s (median) | seconds, median (min–max) | first record, ms (median) | reader CPU s (median) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('broker fetch', (r) => r.broker),
    row('archive replay', (r) => r.archive),
    '',
    `Archive replay / broker fetch throughput: ${fmt(ratioOfMedians, 2)}× (ratio of median times; ` +
      `per-run ratios ${ratios.map((r) => fmt(r, 2)).join(', ')}).`,
  ].join('\n');
}

function fmt(value: number, digits: number): string {
  return value.toFixed(digits);
}
