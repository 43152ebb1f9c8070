import { randomFillSync } from 'node:crypto';
import { createRecordBatch, encodeRecordBatch, type RecordInput } from '../../protocol/record-batch/index.js';

export const RECORD_VALUE_BYTES = 1024;

/** How records are grouped into produce batches for one benchmark case. */
export interface BatchShape {
  label: string;
  recordsPerBatch: number;
}

export const BATCH_SHAPES: readonly BatchShape[] = [
  { label: '16 KiB', recordsPerBatch: 16 },
  { label: '1 MiB', recordsPerBatch: 1024 },
];

/**
 * Encoded batches to append, cycled through: write i uses `batches[i % batches.length]`. The same
 * buffers feed the raw-file writes, so both engines write exactly the same bytes in the same chunks.
 */
export interface Workload {
  shape: BatchShape;
  batches: Buffer[];
  /** Number of writes (appends) per run. */
  writeCount: number;
  /** Total bytes written per run. */
  totalBytes: number;
}

/**
 * Distinct bytes in flight per case. Large enough that batches are not all hot in the CPU cache
 * (which would flatter the CRC and copy costs), small enough to build in well under a second.
 */
const DISTINCT_BYTES = 32 * 1024 * 1024;

/**
 * Pre-encodes the batches for `shape` so that encoding never runs inside a timed section.
 * Reusing buffers across appends is safe: appendAsLeader only rewrites baseOffset and
 * partitionLeaderEpoch, which sit outside the CRC.
 */
export function buildWorkload(shape: BatchShape, targetBytes: number): Workload {
  const entropy = randomFillSync(Buffer.allocUnsafe(RECORD_VALUE_BYTES * 64));
  const batches: Buffer[] = [];
  let distinctBytes = 0;
  while (distinctBytes < Math.min(DISTINCT_BYTES, targetBytes)) {
    const batch = encodeRecordBatch(
      createRecordBatch({
        records: makeRecords(shape.recordsPerBatch, entropy, batches.length),
        timestamp: Date.now(),
      }),
    );
    batches.push(batch);
    distinctBytes += batch.length;
  }
  const batchBytes = batches[0]!.length;
  const writeCount = Math.max(1, Math.round(targetBytes / batchBytes));
  return { shape, batches, writeCount, totalBytes: totalBytesOf(batches, writeCount) };
}

/** The same workload, shortened to about `targetBytes`; used for untimed JIT warm-up. */
export function shortened(workload: Workload, targetBytes: number): Workload {
  const writeCount = Math.max(
    1,
    Math.min(workload.writeCount, Math.round(targetBytes / workload.batches[0]!.length)),
  );
  return { ...workload, writeCount, totalBytes: totalBytesOf(workload.batches, writeCount) };
}

function totalBytesOf(batches: readonly Buffer[], writeCount: number): number {
  let total = 0;
  for (let i = 0; i < writeCount; i++) total += batches[i % batches.length]!.length;
  return total;
}

/** Records whose 1 KiB values are slices of random bytes, so that batches differ from each other. */
function makeRecords(count: number, entropy: Buffer, seed: number): RecordInput[] {
  const slots = entropy.length / RECORD_VALUE_BYTES;
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const start = ((seed * 7 + i) % slots) * RECORD_VALUE_BYTES;
    records.push({ value: entropy.subarray(start, start + RECORD_VALUE_BYTES) });
  }
  return records;
}
