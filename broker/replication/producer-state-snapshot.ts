import { open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { readInt64, writeInt64 } from '../../protocol/bytes/varint.js';
import { crc32c } from '../../protocol/crc32c.js';
import { removeFileIfExists, syncDirectory } from '../storage/checkpoint-file.js';

/**
 * Producer-state snapshots: the idempotence state of one partition as of a log offset, so a broker
 * restarting (or a follower truncating) replays only the log after the snapshot instead of the
 * whole partition.
 *
 * File `<offset, 20 digits>.snapshot` in the partition directory; big-endian binary, version 1:
 *
 *   version        int16   1
 *   crc            uint32  CRC-32C of every byte after this field
 *   offset         int64   the snapshot's log offset (must match the file name)
 *   producerCount  int32
 *   producers, each:
 *     producerId     int64
 *     producerEpoch  int16
 *     lastTimestamp  int64
 *     batchCount     int8    0..MAX_CACHED_BATCHES
 *     batches, each: firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64,
 *                    logAppendTime int64
 *
 * A snapshot at offset N holds the state after applying every batch below N.
 */

/** Batches remembered per producer: Kafka clients keep at most 5 requests in flight per partition. */
export const MAX_CACHED_BATCHES = 5;
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_SUFFIX = '.snapshot';

const HEADER_SIZE = 2 + 4 + 8 + 4;
const CRC_OFFSET = 2;
/** Everything from here on is covered by the CRC. */
const BODY_START = CRC_OFFSET + 4;
const PRODUCER_SIZE = 8 + 2 + 8 + 1;
const BATCH_SIZE = 4 + 4 + 8 + 8 + 8;
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/;

/** One appended batch of a producer, as far as deduplication needs it. */
export interface ProducerBatchMetadata {
  firstSeq: number;
  /** firstSeq + lastOffsetDelta, wrapped past Int32 max to 0. */
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The append time the original produce response reported; -1 for CreateTime topics. */
  logAppendTime: number;
}

/** Everything a partition remembers about one producer id. */
export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  /** Highest batch timestamp seen from this producer; what expiry measures idleness from. */
  lastTimestamp: number;
  /** The producer's last appended batches in `producerEpoch`, oldest first, at most MAX_CACHED_BATCHES. */
  batches: ProducerBatchMetadata[];
}

/** A snapshot file failed its CRC, version or structural checks. Loaders skip (and delete) it. */
export class CorruptProducerSnapshotError extends Error {
  override name = 'CorruptProducerSnapshotError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} (${path})`);
  }
}

export function snapshotPath(dir: string, offset: number): string {
  return join(dir, `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`);
}

/** Offsets of the snapshot files in `dir`, ascending. */
export async function listSnapshotOffsets(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .map((name) => SNAPSHOT_NAME.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
}

export function encodeProducerSnapshot(offset: number, entries: Iterable<ProducerEntry>): Buffer {
  const list = [...entries];
  let size = HEADER_SIZE;
  for (const entry of list) size += PRODUCER_SIZE + entry.batches.length * BATCH_SIZE;
  const buf = Buffer.alloc(size);
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  let p = BODY_START;
  writeInt64(buf, p, offset);
  buf.writeInt32BE(list.length, p + 8);
  p += 12;
  for (const entry of list) {
    writeInt64(buf, p, entry.producerId);
    buf.writeInt16BE(entry.producerEpoch, p + 8);
    writeInt64(buf, p + 10, entry.lastTimestamp);
    buf.writeInt8(entry.batches.length, p + 18);
    p += PRODUCER_SIZE;
    for (const batch of entry.batches) {
      buf.writeInt32BE(batch.firstSeq, p);
      buf.writeInt32BE(batch.lastSeq, p + 4);
      writeInt64(buf, p + 8, batch.firstOffset);
      writeInt64(buf, p + 16, batch.lastOffset);
      writeInt64(buf, p + 24, batch.logAppendTime);
      p += BATCH_SIZE;
    }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(BODY_START)), CRC_OFFSET);
  return buf;
}

/** Parses a snapshot file's bytes; throws CorruptProducerSnapshotError on any inconsistency. */
export function decodeProducerSnapshot(buf: Buffer, path: string, expectedOffset: number): ProducerEntry[] {
  const corrupt = (message: string) => new CorruptProducerSnapshotError(message, path);
  if (buf.length < HEADER_SIZE) throw corrupt(`snapshot is truncated at ${buf.length} bytes`);
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION) throw corrupt(`unsupported snapshot version ${version}`);
  if (buf.readUInt32BE(CRC_OFFSET) !== crc32c(buf.subarray(BODY_START))) throw corrupt('CRC mismatch');
  // Past the CRC the bytes are what the writer wrote, so the remaining checks only guard against
  // a writer bug; an int64 out of the safe range still surfaces as corruption, not a crash.
  try {
    let p = BODY_START;
    const offset = readInt64(buf, p);
    if (offset !== expectedOffset) throw corrupt(`snapshot holds offset ${offset}, not ${expectedOffset}`);
    const count = buf.readInt32BE(p + 8);
    p += 12;
    if (count < 0 || count * PRODUCER_SIZE > buf.length - p) throw corrupt(`bad producer count ${count}`);
    const entries: ProducerEntry[] = [];
    for (let i = 0; i < count; i++) {
      if (buf.length - p < PRODUCER_SIZE) throw corrupt('producer entry is truncated');
      const entry: ProducerEntry = {
        producerId: readInt64(buf, p),
        producerEpoch: buf.readInt16BE(p + 8),
        lastTimestamp: readInt64(buf, p + 10),
        batches: [],
      };
      const batchCount = buf.readInt8(p + 18);
      p += PRODUCER_SIZE;
      if (batchCount < 0 || batchCount > MAX_CACHED_BATCHES || buf.length - p < batchCount * BATCH_SIZE) {
        throw corrupt(`bad batch count ${batchCount} for producer ${entry.producerId}`);
      }
      for (let b = 0; b < batchCount; b++) {
        entry.batches.push({
          firstSeq: buf.readInt32BE(p),
          lastSeq: buf.readInt32BE(p + 4),
          firstOffset: readInt64(buf, p + 8),
          lastOffset: readInt64(buf, p + 16),
          logAppendTime: readInt64(buf, p + 24),
        });
        p += BATCH_SIZE;
      }
      entries.push(entry);
    }
    if (p !== buf.length) throw corrupt(`${buf.length - p} trailing bytes`);
    return entries;
  } catch (error) {
    if (error instanceof CorruptProducerSnapshotError) throw error;
    throw corrupt(error instanceof Error ? error.message : String(error));
  }
}

/** Reads and decodes the snapshot at `offset`; throws CorruptProducerSnapshotError if unusable. */
export async function readSnapshotFile(dir: string, offset: number): Promise<ProducerEntry[]> {
  const path = snapshotPath(dir, offset);
  return decodeProducerSnapshot(await readFile(path), path, offset);
}

/**
 * Writes a snapshot so that it is either absent or complete after a crash: temp file, fsync,
 * rename, then fsync the directory so the rename is durable.
 */
export async function writeSnapshotFile(dir: string, offset: number, contents: Buffer): Promise<void> {
  const path = snapshotPath(dir, offset);
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await syncDirectory(dir);
}

export async function deleteSnapshot(dir: string, offset: number): Promise<void> {
  await removeFileIfExists(snapshotPath(dir, offset));
}

/** Deletes every snapshot whose offset is above `offset`. */
export async function deleteSnapshotsAbove(dir: string, offset: number): Promise<void> {
  for (const existing of await listSnapshotOffsets(dir)) {
    if (existing > offset) await deleteSnapshot(dir, existing);
  }
}

/** Keeps only the `count` newest snapshots. */
export async function retainNewestSnapshots(dir: string, count: number): Promise<void> {
  const offsets = await listSnapshotOffsets(dir);
  for (const offset of offsets.slice(0, Math.max(0, offsets.length - count)))
    await deleteSnapshot(dir, offset);
}

/** Removes temp files left by a snapshot write that a crash interrupted. */
export async function removeSnapshotTempFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (name.endsWith(`${SNAPSHOT_SUFFIX}.tmp`)) await removeFileIfExists(join(dir, name));
  }
}
