/**
 * Planning a replay of one partition from its archive metadata (pure: no I/O). The plan is the
 * committed segments to read, in offset order, each with the byte range of its .log object that
 * can hold wanted records. Segment rows narrow the plan first (offsets, maxTimestamp); the
 * segments' sparse indexes then narrow the byte ranges of the first and last segment.
 *
 * Index objects only ever narrow what is read, and are checked before use (entries increasing,
 * inside the object): a damaged index makes the replay read more, never skip records.
 */
import type { ArchiveHead, RemoteSegment } from '../../archive/remote-segment.js';
import type { WindowBounds } from './record-window.js';

/** A replay bound: an offset, or a timestamp in ms since the epoch. */
export type ReplayPosition = { offset: number } | { timestamp: number };

export interface ReplayBounds {
  /** Inclusive. Default: the partition's log start offset. */
  from?: ReplayPosition;
  /** Exclusive. Default: the archive's end when the replay is planned (head.nextOffset). */
  to?: ReplayPosition;
}

/** The part of one segment a replay reads. */
export interface SegmentRead {
  segment: RemoteSegment;
  /** Records below this offset are not wanted (an earlier segment or the start bound covers them). */
  fromOffset: number;
  /** One past the last wanted offset in this segment. */
  toOffset: number;
  /** Byte range of the .log object to read: [fromPosition, toPosition). */
  fromPosition: number;
  toPosition: number;
}

const OFFSET_ENTRY_BYTES = 8;
const TIME_ENTRY_BYTES = 12;

/** The window of offsets and timestamps to hand out for a partition with this head. */
export function windowBounds(head: ArchiveHead, bounds: ReplayBounds): WindowBounds {
  const from = bounds.from;
  const to = bounds.to;
  return {
    startOffset: Math.max(head.logStartOffset, from && 'offset' in from ? from.offset : 0),
    endOffset: Math.min(head.nextOffset, to && 'offset' in to ? to.offset : Number.POSITIVE_INFINITY),
    ...(from && 'timestamp' in from ? { fromTimestamp: from.timestamp } : {}),
    ...(to && 'timestamp' in to ? { toTimestamp: to.timestamp } : {}),
  };
}

/**
 * The segments holding wanted records, in offset order, each covering the offsets no earlier one
 * did (segments may overlap after a leader change; the overlap holds the same records). Segments
 * whose maxTimestamp is below the time range are left out, and none after the first segment whose
 * maxTimestamp reaches `toTimestamp` (the replay ends inside it). A maxTimestamp below 0 is
 * "unknown" and never used to leave a segment out.
 */
export function selectSegments(segments: readonly RemoteSegment[], window: WindowBounds): SegmentRead[] {
  const reads: SegmentRead[] = [];
  let covered = window.startOffset;
  const known = (s: RemoteSegment) => s.maxTimestamp >= 0;
  for (const segment of [...segments].sort((a, b) => a.endOffset - b.endOffset)) {
    if (segment.endOffset < covered || segment.sizeBytes <= 0) continue;
    if (segment.baseOffset >= window.endOffset || covered >= window.endOffset) break;
    if (window.fromTimestamp !== undefined && known(segment) && segment.maxTimestamp < window.fromTimestamp) {
      covered = segment.endOffset + 1; // an overlapping later segment holds these same, too old, records
      continue;
    }
    reads.push({
      segment,
      fromOffset: Math.max(covered, segment.baseOffset),
      toOffset: Math.min(window.endOffset, segment.endOffset + 1),
      fromPosition: 0,
      toPosition: segment.sizeBytes,
    });
    covered = segment.endOffset + 1;
    if (window.toTimestamp !== undefined && known(segment) && segment.maxTimestamp >= window.toTimestamp)
      break;
  }
  return reads;
}

/** Which index objects can narrow this read's byte range. */
export function indexesWanted(
  read: SegmentRead,
  window: WindowBounds,
): { index: boolean; timeindex: boolean } {
  const timeindex = window.fromTimestamp !== undefined;
  const index =
    timeindex || read.fromOffset > read.segment.baseOffset || read.toOffset <= read.segment.endOffset;
  return { index, timeindex };
}

/** The read with its byte range narrowed by the segment's indexes (either may be missing). */
export function narrowRead(
  read: SegmentRead,
  window: WindowBounds,
  indexes: { index?: Buffer; timeindex?: Buffer },
): SegmentRead {
  const { segment } = read;
  const offsets = indexes.index ? parseOffsetIndex(indexes.index, segment) : null;
  if (!offsets) return read;
  let startOffset = read.fromOffset;
  if (window.fromTimestamp !== undefined && indexes.timeindex)
    startOffset = Math.max(startOffset, timeIndexStart(indexes.timeindex, segment, window.fromTimestamp));
  const fromPosition = startOffset > segment.baseOffset ? floorPosition(offsets, startOffset) : 0;
  const toPosition =
    read.toOffset <= segment.endOffset
      ? ceilingPosition(offsets, read.toOffset, segment.sizeBytes)
      : segment.sizeBytes;
  if (fromPosition >= toPosition) return read; // inconsistent with the row: read it all
  return { ...read, fromPosition, toPosition };
}

interface OffsetIndex {
  offsets: number[];
  positions: number[];
}

/** The offset index's entries (batch base offset, byte position), or null if they are not sane. */
export function parseOffsetIndex(buf: Buffer, segment: RemoteSegment): OffsetIndex | null {
  const count = Math.floor(buf.length / OFFSET_ENTRY_BYTES);
  const offsets: number[] = new Array(count);
  const positions: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const offset = segment.baseOffset + buf.readUInt32BE(i * OFFSET_ENTRY_BYTES);
    const position = buf.readUInt32BE(i * OFFSET_ENTRY_BYTES + 4);
    const increasing = i === 0 || (offset > offsets[i - 1]! && position > positions[i - 1]!);
    if (!increasing || offset > segment.endOffset || position >= segment.sizeBytes) return null;
    offsets[i] = offset;
    positions[i] = position;
  }
  return { offsets, positions };
}

/** Position of the last indexed batch starting at or before `offset` (0 if none): no wanted batch is before it. */
function floorPosition(index: OffsetIndex, offset: number): number {
  let low = 0;
  let high = index.offsets.length - 1;
  let position = 0;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (index.offsets[mid]! <= offset) {
      position = index.positions[mid]!;
      low = mid + 1;
    } else high = mid - 1;
  }
  return position;
}

/**
 * Position of the first indexed batch starting at or after `offset` (the object's end if none):
 * every batch from there on starts at or after it, so none holds a wanted record.
 */
function ceilingPosition(index: OffsetIndex, offset: number, size: number): number {
  let low = 0;
  let high = index.offsets.length - 1;
  let position = size;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (index.offsets[mid]! >= offset) {
      position = index.positions[mid]!;
      high = mid - 1;
    } else low = mid + 1;
  }
  return position;
}

/**
 * An offset below which every record is older than `timestamp`, from the time index. Its entries
 * are (largest timestamp so far, base offset of the batch holding it), so an entry below the
 * timestamp vouches for every record up to its offset's batch; the last such entry is used. Falls
 * back to the segment's base offset when the index is not sane.
 */
export function timeIndexStart(buf: Buffer, segment: RemoteSegment, timestamp: number): number {
  let start = segment.baseOffset;
  let previousTime = Number.NEGATIVE_INFINITY;
  for (let p = 0; p + TIME_ENTRY_BYTES <= buf.length; p += TIME_ENTRY_BYTES) {
    const time = Number(buf.readBigInt64BE(p));
    const offset = segment.baseOffset + buf.readUInt32BE(p + 8);
    if (time < previousTime || offset < start || offset > segment.endOffset) return segment.baseOffset;
    if (time >= timestamp) break;
    previousTime = time;
    start = offset;
  }
  return start;
}

/** Splits [from, to) into consecutive ranges of at most `partBytes`. */
export function splitRange(from: number, to: number, partBytes: number): { start: number; end: number }[] {
  const parts: { start: number; end: number }[] = [];
  for (let start = from; start < to; start += partBytes)
    parts.push({ start, end: Math.min(to, start + partBytes) });
  return parts;
}
