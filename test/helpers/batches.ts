import {
  type CompressionType,
  createRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
} from '../../protocol/record-batch/index.js';

/** An encoded batch of `count` records whose values are `${label}-${i}`. */
export function makeBatch(
  count: number,
  options: {
    label?: string;
    timestamp?: number;
    compression?: CompressionType;
    valueBytes?: number;
    /** Idempotent-producer fields; omitted means a non-idempotent batch. */
    producer?: { producerId: number; producerEpoch: number; baseSequence: number; isTransactional?: boolean };
  } = {},
): Buffer {
  const label = options.label ?? 'r';
  const timestamp = options.timestamp ?? Date.now();
  return encodeRecordBatch(
    createRecordBatch({
      compression: options.compression,
      ...options.producer,
      records: Array.from({ length: count }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`${label}-${i}`.padEnd(options.valueBytes ?? 0, '.')),
        timestamp: timestamp + i,
      })),
    }),
  );
}

/** Every record in `buf` as [offset, value] pairs. */
export function recordsOf(buf: Buffer): Array<[number, string]> {
  return decodeRecordBatches(buf).flatMap((batch) =>
    batch.records.map((r): [number, string] => [batch.baseOffset + r.offsetDelta, r.value?.toString() ?? '']),
  );
}
