/**
 * RecordBatch v2 layout (KIP-98). Every field's byte position, so the broker can read and patch
 * headers in place without decoding records.
 *
 *   baseOffset           int64   0
 *   batchLength          int32   8    bytes after this field (total size - 12)
 *   partitionLeaderEpoch int32  12
 *   magic                int8   16    always 2
 *   crc                  uint32 17    CRC-32C of everything from attributes to the end
 *   attributes           int16  21
 *   lastOffsetDelta      int32  23
 *   baseTimestamp        int64  27
 *   maxTimestamp         int64  35
 *   producerId           int64  43
 *   producerEpoch        int16  51
 *   baseSequence         int32  53
 *   recordCount          int32  57
 *   records                     61   possibly compressed as a whole
 *
 * baseOffset and partitionLeaderEpoch sit outside the CRC on purpose: the leader rewrites them on
 * append without re-checksumming.
 */
export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the fixed batch header; also the smallest possible batch. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
/** Enough of the header to know a batch's offsets and size: up to and including lastOffsetDelta. */
export const HEADER_PREFIX_SIZE = LAST_OFFSET_DELTA_OFFSET + 4;

export const CURRENT_MAGIC = 2;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

export const CompressionType = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

export const TimestampType = {
  CreateTime: 0,
  LogAppendTime: 1,
} as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

/** Bits of the int16 batch attributes. */
export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

/** Control record types (the key of a control record). */
export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];
