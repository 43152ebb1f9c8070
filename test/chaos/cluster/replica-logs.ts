/**
 * Replica logs straight from the brokers' data directories (`<dataDir>/broker-<id>/<topic>-<p>/`),
 * parsed with the independent segment reader of the crash tests (framing, magic, CRC-32C,
 * contiguous offsets), and compared batch by batch against the leader's.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH, parseLogBytes, segmentBases, segmentStem } from '../fixtures/segment-files.js';

export interface LogBatch {
  baseOffset: number;
  lastOffset: number;
  leaderEpoch: number;
  crc: number;
}

export interface ReplicaLog {
  broker: number;
  batches: LogBatch[];
  /** One past the last offset (the log end offset). */
  endOffset: number;
  /** Framing problems (torn or corrupt batches, gaps between segments). */
  problems: string[];
}

export function partitionDir(
  clusterDataDir: string,
  broker: number,
  topic: string,
  partition: number,
): string {
  return join(clusterDataDir, `broker-${broker}`, `${topic}-${partition}`);
}

export async function readReplicaLog(
  clusterDataDir: string,
  broker: number,
  topic: string,
  partition: number,
): Promise<ReplicaLog> {
  const dir = partitionDir(clusterDataDir, broker, topic, partition);
  const exists = await access(dir).then(
    () => true,
    () => false,
  );
  if (!exists) return { broker, batches: [], endOffset: 0, problems: [`${dir} does not exist`] };
  const batches: LogBatch[] = [];
  const problems: string[] = [];
  let next: number | null = null;
  for (const base of await segmentBases(dir)) {
    if (next !== null && base !== next) problems.push(`segment ${base} does not continue at ${next}`);
    const bytes = await readFile(join(dir, `${segmentStem(base)}.log`));
    const parsed = parseLogBytes(bytes, base);
    if (parsed.failure) problems.push(`segment ${base}: ${parsed.failure}`);
    for (const b of parsed.batches) {
      batches.push({
        baseOffset: b.baseOffset,
        lastOffset: b.lastOffset,
        leaderEpoch: b.leaderEpoch,
        crc: bytes.readUInt32BE(b.position + BATCH.crc),
      });
    }
    next = parsed.nextOffset;
  }
  const endOffset = batches.length > 0 ? batches[batches.length - 1]!.lastOffset + 1 : (next ?? 0);
  return { broker, batches, endOffset, problems };
}

export interface ReplicaComparison {
  broker: number;
  /** Batches agree with the leader's as far as this replica goes. */
  prefix: boolean;
  /** Same batches as the leader, all of them. */
  equal: boolean;
  /** Where it first differs from the leader, if it does. */
  divergence?: string;
}

const sameBatch = (a: LogBatch, b: LogBatch): boolean =>
  a.baseOffset === b.baseOffset && a.lastOffset === b.lastOffset && a.crc === b.crc;

const describeBatch = (b: LogBatch | undefined): string =>
  b ? `[${b.baseOffset}..${b.lastOffset} epoch ${b.leaderEpoch} crc ${b.crc.toString(16)}]` : 'nothing';

/** Whether `replica` is a batch-by-batch prefix of (or equal to) `leader`. */
export function compareToLeader(leader: ReplicaLog, replica: ReplicaLog): ReplicaComparison {
  const n = Math.min(leader.batches.length, replica.batches.length);
  for (let i = 0; i < n; i++) {
    const l = leader.batches[i]!;
    const r = replica.batches[i]!;
    if (!sameBatch(l, r)) {
      return {
        broker: replica.broker,
        prefix: false,
        equal: false,
        divergence: `batch ${i}: replica ${describeBatch(r)} vs leader ${describeBatch(l)}`,
      };
    }
  }
  if (replica.batches.length > leader.batches.length) {
    return {
      broker: replica.broker,
      prefix: false,
      equal: false,
      divergence: `replica has ${replica.batches.length - n} batches past the leader's end ${leader.endOffset}, from ${describeBatch(replica.batches[n])}`,
    };
  }
  if (replica.problems.length > 0) {
    return { broker: replica.broker, prefix: false, equal: false, divergence: replica.problems.join('; ') };
  }
  return { broker: replica.broker, prefix: true, equal: replica.batches.length === leader.batches.length };
}
