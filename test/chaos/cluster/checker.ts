/**
 * The chaos test's verdict, computed from what clients were told and what the cluster finally
 * holds:
 * (a) every acknowledged record is in the final log exactly once, at the acknowledged partition
 *     and offset; no record at all (acknowledged or not) appears twice;
 * (b) per partition, each producer's sequence numbers increase with offset;
 * (c) every record a consumer saw is in the final log at the same offset (consumers only see
 *     records below the high watermark, which must never be lost);
 * (d) every replica's log is a batch-by-batch prefix of the leader's (computed by the caller with
 *     replica-logs.ts and passed in).
 */
import type { FaultRecord } from './faults.js';
import type { ReplicaComparison } from './replica-logs.js';
import type { FetchedRecord } from './wire.js';
import { type AckedRecord, type IndeterminateRecord, parseId, type SeenRecord } from './workload.js';

export interface CheckInput {
  partitions: number;
  acked: readonly AckedRecord[];
  indeterminate: readonly IndeterminateRecord[];
  seen: readonly SeenRecord[];
  /** The final contents of each partition, read from its leader from offset 0 to the end. */
  finalLogs: readonly (readonly FetchedRecord[])[];
  /** Per partition, every non-leader replica compared to the leader. */
  replicas: readonly (readonly ReplicaComparison[])[];
}

export interface CheckResult {
  acked: number;
  indeterminate: number;
  /** Indeterminate records that did make it into the log. */
  indeterminateWritten: number;
  finalRecords: number;
  lost: number;
  duplicates: number;
  offsetMismatches: number;
  outOfOrder: number;
  /** Records in the log that no producer of this run wrote. */
  foreign: number;
  consumerSeen: number;
  consumerSawLost: number;
  divergentReplicas: number;
  laggingReplicas: number;
  /** Up to a few examples per kind of violation, for the failure message. */
  examples: string[];
}

const MAX_EXAMPLES = 8;

export function check(input: CheckInput): CheckResult {
  const examples: string[] = [];
  const example = (line: string): void => {
    if (examples.length < MAX_EXAMPLES * 4) examples.push(line);
  };
  const counts = {
    lost: 0,
    duplicates: 0,
    offsetMismatches: 0,
    outOfOrder: 0,
    foreign: 0,
    consumerSawLost: 0,
  };
  const perKind = new Map<string, number>();
  const violation = (kind: keyof typeof counts, line: string): void => {
    counts[kind]++;
    const n = perKind.get(kind) ?? 0;
    perKind.set(kind, n + 1);
    if (n < MAX_EXAMPLES) example(`${kind}: ${line}`);
  };

  // Where every record id ended up.
  const where = new Map<string, { partition: number; offset: number }[]>();
  let finalRecords = 0;
  input.finalLogs.forEach((records, partition) => {
    const lastSeq = new Map<string, { seq: number; offset: number }>();
    for (const r of records) {
      finalRecords++;
      const places = where.get(r.value);
      if (places) places.push({ partition, offset: r.offset });
      else where.set(r.value, [{ partition, offset: r.offset }]);
      const { producer, seq } = parseId(r.value);
      if (!/^p\d+\.\d+$/.test(producer) || !Number.isInteger(seq)) {
        violation('foreign', `p${partition}@${r.offset}: ${JSON.stringify(r.value)}`);
        continue;
      }
      const previous = lastSeq.get(producer);
      if (previous && seq <= previous.seq)
        violation(
          'outOfOrder',
          `p${partition}: ${r.value} at offset ${r.offset} after ${producer}:${previous.seq} at ${previous.offset}`,
        );
      lastSeq.set(producer, { seq, offset: r.offset });
    }
  });

  for (const [id, places] of where) {
    if (places.length > 1)
      violation('duplicates', `${id} at ${places.map((p) => `p${p.partition}@${p.offset}`).join(', ')}`);
  }

  for (const a of input.acked) {
    const places = where.get(a.id);
    if (!places) {
      violation(
        'lost',
        `${a.id} acknowledged at p${a.partition}@${a.offset} (${new Date(a.ackedAt).toISOString()})`,
      );
    } else if (!places.some((p) => p.partition === a.partition && p.offset === a.offset)) {
      violation(
        'offsetMismatches',
        `${a.id} acknowledged at p${a.partition}@${a.offset} but is at ${places.map((p) => `p${p.partition}@${p.offset}`).join(', ')}`,
      );
    }
  }
  const indeterminateWritten = input.indeterminate.filter((r) => where.has(r.id)).length;

  // What consumers saw must still be there, at the same offset.
  const finalAt = input.finalLogs.map((records) => new Map(records.map((r) => [r.offset, r.value])));
  const seenAt = new Map<string, string>();
  for (const s of input.seen) {
    const key = `${s.partition}@${s.offset}`;
    const before = seenAt.get(key);
    if (before !== undefined) {
      if (before !== s.value)
        violation('consumerSawLost', `p${key}: consumers saw both ${before} and ${s.value} (${s.consumer})`);
      continue;
    }
    seenAt.set(key, s.value);
    const now = finalAt[s.partition]?.get(s.offset);
    if (now !== s.value)
      violation(
        'consumerSawLost',
        `${s.consumer} saw ${s.value} at p${key}; the final log has ${now === undefined ? 'nothing' : now} there`,
      );
  }

  let divergentReplicas = 0;
  let laggingReplicas = 0;
  input.replicas.forEach((comparisons, partition) => {
    for (const c of comparisons) {
      if (!c.prefix) {
        divergentReplicas++;
        example(`divergent: p${partition} on broker ${c.broker}: ${c.divergence}`);
      } else if (!c.equal) {
        laggingReplicas++;
        example(`lagging: p${partition} on broker ${c.broker} is a strict prefix of the leader's log`);
      }
    }
  });

  return {
    acked: input.acked.length,
    indeterminate: input.indeterminate.length,
    indeterminateWritten,
    finalRecords,
    ...counts,
    consumerSeen: seenAt.size,
    divergentReplicas,
    laggingReplicas,
    examples,
  };
}

function stats(values: readonly number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return `median ${median} max ${sorted[sorted.length - 1]} ms (n=${sorted.length})`;
}

/** One line for the issue note. */
export function summaryLine(options: {
  cycles: number;
  seed: number;
  durationMs: number;
  faults: readonly FaultRecord[];
  result: CheckResult;
  /** Client-side trouble: kafkajs sends given up (producer replaced) and consumer crashes. */
  client: { producerReplacements: number; consumerCrashes: number };
}): string {
  const { result: r, faults } = options;
  const kinds = new Map<string, number>();
  for (const f of faults) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const byKind = (kind: string) =>
    faults.filter((f) => f.kind === kind).flatMap((f) => f.failoverMs.map((x) => x.ms));
  return [
    `chaos: cycles=${options.cycles} seed=${options.seed} faults={${[...kinds].map(([k, n]) => `${k}:${n}`).join(' ')}}`,
    `acked=${r.acked} indeterminate=${r.indeterminate} (written ${r.indeterminateWritten}) final=${r.finalRecords}`,
    `lost=${r.lost} duplicates=${r.duplicates} offset-mismatch=${r.offsetMismatches} out-of-order=${r.outOfOrder} foreign=${r.foreign}`,
    `consumer-seen=${r.consumerSeen} consumer-saw-lost=${r.consumerSawLost}`,
    `divergent-replicas=${r.divergentReplicas} lagging-replicas=${r.laggingReplicas}`,
    `first kafkajs ack after fault: kill-leader ${stats(byKind('kill-leader'))}; kill-controller ${stats(byKind('kill-controller'))}; pause ${stats(byKind('pause'))}`,
    `client: producer-replacements=${options.client.producerReplacements} consumer-crashes=${options.client.consumerCrashes}`,
    `recovery: ${stats(faults.flatMap((f) => (f.recoveredMs === undefined ? [] : [f.recoveredMs])))}`,
    `duration=${(options.durationMs / 1000).toFixed(0)} s`,
  ].join(' | ');
}
