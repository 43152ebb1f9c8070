import type { CompressionType, TimestampType } from './layout.js';

/** A record header. Kafka header keys are UTF-8 strings; values are opaque bytes or null. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** One record inside a batch, with its timestamp and offset stored as deltas from the batch. */
export interface BatchRecord {
  /** Unused by Kafka and always 0, but carried so that decode/encode is lossless. */
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** The batch-level fields a producer or the log controls, shared by headers and whole batches. */
export interface RecordBatchFields {
  baseOffset: number;
  partitionLeaderEpoch: number;
  compression: CompressionType;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizonMs: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Every fixed field of a RecordBatch v2 header, decoded, plus its framing. */
export interface RecordBatchHeader extends RecordBatchFields {
  /** Size of the whole batch in bytes, including the 12-byte log overhead. */
  sizeInBytes: number;
  magic: number;
  crc: number;
  recordCount: number;
}

/** A RecordBatch v2 as a value. `encodeRecordBatch` writes exactly these fields. */
export interface RecordBatch extends RecordBatchFields {
  records: BatchRecord[];
}
