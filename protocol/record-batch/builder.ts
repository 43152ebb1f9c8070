import { ProtocolError } from '../errors.js';
import {
  CompressionType,
  ControlRecordType,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  TimestampType,
} from './layout.js';
import type { BatchRecord, RecordBatch, RecordHeader } from './types.js';

/** A record as an application describes it: absolute timestamp, no deltas. */
export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch; defaults to the batch's `timestamp`. */
  timestamp?: number;
}

export interface RecordBatchInput {
  records: readonly RecordInput[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: CompressionType;
  timestampType?: TimestampType;
  /** Timestamp for records that carry none; defaults to now. */
  timestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

/**
 * Builds a batch from application records: assigns consecutive offset deltas, derives base and
 * max timestamps, and fills the producer fields with "none" unless given.
 */
export function createRecordBatch(input: RecordBatchInput): RecordBatch {
  if (input.records.length === 0) throw new ProtocolError('a record batch needs at least one record');
  const now = input.timestamp ?? Date.now();
  const timestamps = input.records.map((r) => r.timestamp ?? now);
  // Kafka's base timestamp is the first record's timestamp; deltas may be negative.
  const baseTimestamp = timestamps[0]!;
  // A loop, not Math.max(...timestamps): spreading a large batch's timestamps overflows the stack.
  let maxTimestamp = baseTimestamp;
  for (const timestamp of timestamps) if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  const records: BatchRecord[] = input.records.map((record, index) => ({
    attributes: 0,
    timestampDelta: timestamps[index]! - baseTimestamp,
    offsetDelta: index,
    key: record.key ?? null,
    value: record.value,
    headers: record.headers ?? [],
  }));
  return {
    baseOffset: input.baseOffset ?? 0,
    partitionLeaderEpoch: input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    compression: input.compression ?? CompressionType.None,
    timestampType: input.timestampType ?? TimestampType.CreateTime,
    isTransactional: input.isTransactional ?? false,
    isControl: false,
    hasDeleteHorizonMs: false,
    lastOffsetDelta: records.length - 1,
    baseTimestamp,
    maxTimestamp,
    producerId: input.producerId ?? NO_PRODUCER_ID,
    producerEpoch: input.producerEpoch ?? NO_PRODUCER_EPOCH,
    baseSequence: input.baseSequence ?? NO_SEQUENCE,
    records,
  };
}

/** The parsed key and value of a transaction marker (a control record). */
export interface EndTransactionMarker {
  type: ControlRecordType;
  coordinatorEpoch: number;
}

const CONTROL_RECORD_VERSION = 0;

/**
 * Builds a control batch holding one end-transaction marker, as a transaction coordinator writes
 * it: transactional, control, one record whose key is (version, type) and whose value is
 * (version, coordinatorEpoch).
 */
export function createControlBatch(options: {
  marker: EndTransactionMarker;
  producerId: number;
  producerEpoch: number;
  timestamp?: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}): RecordBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(CONTROL_RECORD_VERSION, 0);
  key.writeInt16BE(options.marker.type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(CONTROL_RECORD_VERSION, 0);
  value.writeInt32BE(options.marker.coordinatorEpoch, 2);
  const timestamp = options.timestamp ?? Date.now();
  return {
    baseOffset: options.baseOffset ?? 0,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    compression: CompressionType.None,
    timestampType: TimestampType.CreateTime,
    isTransactional: true,
    isControl: true,
    hasDeleteHorizonMs: false,
    lastOffsetDelta: 0,
    baseTimestamp: timestamp,
    maxTimestamp: timestamp,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: NO_SEQUENCE,
    records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key, value, headers: [] }],
  };
}

/** Reads the marker out of a control record; throws if the record is not a known control record. */
export function parseControlRecord(record: BatchRecord): EndTransactionMarker {
  if (record.key === null || record.key.length < 4) {
    throw new ProtocolError('control record key must hold a version and a type');
  }
  const type = record.key.readInt16BE(2);
  if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit) {
    throw new ProtocolError(`unknown control record type ${type}`);
  }
  const coordinatorEpoch =
    record.value !== null && record.value.length >= 6 ? record.value.readInt32BE(2) : -1;
  return { type, coordinatorEpoch };
}
