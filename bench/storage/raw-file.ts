import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlushPolicy } from '../../broker/storage/log-config.js';
import { type EngineRun, expectBytes, timePhase } from './timing.js';
import type { Workload } from './workload.js';

/**
 * The baseline: the same process writing the same buffers to one plain file with FileHandle.write
 * at explicit positions (as LogSegment does), flushing per the same policy, then reading it back
 * in chunks of the same size the log is asked for. Whatever Spool adds on top shows up as the gap.
 */
export async function runRawFile(
  dir: string,
  workload: Workload,
  flush: FlushPolicy,
  readChunkBytes: number,
): Promise<EngineRun> {
  const path = join(dir, 'raw.bin');
  const writer = await open(path, 'w');
  let append: EngineRun['append'];
  try {
    append = await timePhase(() => writeAll(writer, workload, flush));
  } finally {
    await writer.close();
  }
  expectBytes('raw append', append.bytes, workload.totalBytes);
  const reader = await open(path, 'r');
  try {
    const read = await timePhase(() => readAll(reader, readChunkBytes));
    expectBytes('raw read', read.bytes, workload.totalBytes);
    return { append, read };
  } finally {
    await reader.close();
  }
}

async function writeAll(handle: FileHandle, workload: Workload, flush: FlushPolicy): Promise<number> {
  const flusher = startFlusher(handle, flush);
  let position = 0;
  try {
    for (let i = 0; i < workload.writeCount; i++) {
      const batch = workload.batches[i % workload.batches.length]!;
      position += await writeFully(handle, batch, position);
      if (flush.mode === 'every-batch') await handle.datasync();
    }
  } finally {
    // Not part of the timing on the Spool side either: its timer's last fsync is not awaited.
    await flusher.stop();
  }
  return position;
}

async function writeFully(handle: FileHandle, buf: Buffer, position: number): Promise<number> {
  let written = 0;
  while (written < buf.length) {
    const { bytesWritten } = await handle.write(buf, written, buf.length - written, position + written);
    written += bytesWritten;
  }
  return written;
}

/** Reads the whole file sequentially into one reused buffer: the cheapest way to stream it. */
async function readAll(handle: FileHandle, chunkBytes: number): Promise<number> {
  const chunk = readBuffer(chunkBytes);
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) return position;
    position += bytesRead;
  }
}

/**
 * glibc serves large allocations with mmap, and such blocks start 16 bytes into a page. Copying
 * page-cache pages into a destination 8-24 bytes past a page boundary measured ~4x slower on this
 * kind of CPU (AMD EPYC; likely 4K aliasing in the kernel's copy), which would make the baseline
 * depend on allocator luck. Shifting the view by 32 bytes avoids that for mmap-served blocks; Spool's
 * buffers are whatever Buffer.allocUnsafe gives it, which is part of what is being measured.
 */
const READ_BUFFER_SHIFT = 32;

export function readBuffer(size: number): Buffer {
  return Buffer.allocUnsafeSlow(size + READ_BUFFER_SHIFT).subarray(READ_BUFFER_SHIFT);
}

interface Flusher {
  stop(): Promise<void>;
}

/**
 * For interval flushing, fsyncs on a timer alongside the writes, skipping a tick while the previous
 * fsync is still running, which is what a background flusher on a raw file would do.
 */
function startFlusher(handle: FileHandle, flush: FlushPolicy): Flusher {
  if (flush.mode !== 'interval') return { stop: async () => undefined };
  let inFlight: Promise<void> | null = null;
  const timer = setInterval(() => {
    inFlight ??= handle.datasync().finally(() => {
      inFlight = null;
    });
  }, flush.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
