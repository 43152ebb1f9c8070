import { join } from 'node:path';
import type { FlushPolicy } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { readBuffer } from './raw-file.js';
import { type EngineRun, expectBytes, timePhase } from './timing.js';
import type { Workload } from './workload.js';

/**
 * Appends the workload to a fresh PartitionLog as leader (epoch 0), then reads it back from the log
 * start offset as a consumer would, `readMaxBytes` per read, following nextOffset. Opening and
 * closing the log (which fsyncs and writes indexes) are outside the timed phases, as the raw
 * baseline's open and close are.
 */
export async function runSpoolLog(
  dir: string,
  workload: Workload,
  config: { flush: FlushPolicy; segmentBytes: number },
  readMaxBytes: number,
): Promise<EngineRun> {
  const log = await PartitionLog.open(join(dir, 'spool-0'), { config });
  try {
    const append = await timePhase(() => appendAll(log, workload));
    expectBytes('spool append', append.bytes, workload.totalBytes);
    const read = await timePhase(() => readAll(log, readMaxBytes));
    expectBytes('spool read', read.bytes, workload.totalBytes);
    return { append, read };
  } finally {
    await log.close();
  }
}

async function appendAll(log: PartitionLog, workload: Workload): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < workload.writeCount; i++) {
    const batch = workload.batches[i % workload.batches.length]!;
    // The log's contract takes validated batches: the broker's produce path checks each batch's
    // CRC once before appending, so the log does not check it again.
    const result = await log.appendAsLeader(batch, { leaderEpoch: 0, validated: true });
    bytes += result.sizeInBytes;
  }
  return bytes;
}

async function readAll(log: PartitionLog, maxBytes: number): Promise<number> {
  const end = log.logEndOffset;
  let offset = log.logStartOffset;
  let bytes = 0;
  // One reused buffer, as a fetch path that copies records into its response would use. It has
  // room for a batch larger than maxBytes, which a read must return whole (KIP-74).
  const buffer = readBuffer(2 * maxBytes);
  while (offset < end) {
    const result = await log.read(offset, maxBytes, { buffer });
    if (result.records.length === 0)
      throw new Error(`spool read returned nothing at offset ${offset} of ${end}`);
    bytes += result.records.length;
    offset = result.nextOffset;
  }
  return bytes;
}
