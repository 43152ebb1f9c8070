export { ArchiveReader, type ArchiveReaderOptions, type ReplayRequest } from './archive-reader.js';
export type {
  ArchiveReplay,
  PlannedPartition,
  PlannedReplay,
  ReplayBatch,
  ReplayProgress,
} from './archive-replay.js';
export type { ArchiveEndpoints } from './archive-settings.js';
export {
  AmbiguousArchiveTopicError,
  ArchiveChecksumError,
  ArchiveCorruptSegmentError,
  type ArchiveLocation,
  ArchiveSegmentMissingError,
  ArchiveTopicNotFoundError,
} from './errors.js';
export type { WindowBounds } from './record-window.js';
export type { ReplayBounds, ReplayPosition, SegmentRead } from './replay-plan.js';
