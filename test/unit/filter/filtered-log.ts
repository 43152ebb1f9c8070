import { filterRecordBatches } from '../../../broker/filter/batch-filter.js';
import { topicTagFilter } from '../../../broker/filter/fetch-tag-filter.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { FetchRequest, FetchResponse } from '../../../protocol/messages/fetch.js';
import {
  batchSizeAt,
  type CompressionType,
  createRecordBatch,
  encodeRecordBatch,
  LAST_OFFSET_DELTA_OFFSET,
} from '../../../protocol/record-batch/index.js';
import { tagsHeader } from '../../../protocol/tag-filter/index.js';
import { decodeMessage, encodeMessage } from '../../../protocol/wire/codec.js';
import type { MessageInput, MessageSchema, MessageValue } from '../../../protocol/wire/schema.js';

/**
 * A one-partition log in memory and a broker's Fetch path over it, built from the real pieces:
 * the request and response go through the wire codec at the negotiated version (so the tag filter
 * travels only from v12, as on a socket), records are read as whole batches from the one holding
 * the fetch offset, and the broker's own batch filter rewrites them.
 */
export interface InMemoryLog {
  bytes: Buffer;
  logEnd: number;
  /** Offsets of records with each tag (records without tags are in none). */
  offsetsWith(predicate: (tags: readonly string[]) => boolean): number[];
}

/** One batch per entry; `tags[i]` are record i's tags (null: no header at all). */
export function buildLog(batches: { tags: (readonly string[] | null)[]; compression?: CompressionType }[]) {
  const parts: Buffer[] = [];
  const all: (readonly string[] | null)[] = [];
  for (const { tags, compression } of batches) {
    const batch = createRecordBatch({
      baseOffset: all.length,
      compression,
      timestamp: 1_700_000_000_000,
      records: tags.map((list, i) => ({
        key: null,
        value: Buffer.from(`record-${all.length + i}`.padEnd(64, '.')),
        headers: list === null ? [] : [tagsHeader(list)],
      })),
    });
    parts.push(encodeRecordBatch(batch));
    all.push(...tags);
  }
  const log: InMemoryLog = {
    bytes: Buffer.concat(parts),
    logEnd: all.length,
    offsetsWith: (predicate) =>
      all.flatMap((tags, offset) => (tags !== null && predicate(tags) ? [offset] : [])),
  };
  return log;
}

/** Whole batches from the one containing `offset`, at least one, then up to `maxBytes`. */
export function readBatches(log: InMemoryLog, offset: number, maxBytes: number): Buffer {
  let position = 0;
  let start = -1;
  while (position < log.bytes.length) {
    const size = batchSizeAt(log.bytes, position);
    const last =
      Number(log.bytes.readBigInt64BE(position)) + log.bytes.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
    if (start < 0 && last >= offset) start = position;
    if (start >= 0 && position > start && position + size - start > maxBytes) break;
    position += size;
  }
  return start < 0 ? Buffer.alloc(0) : log.bytes.subarray(start, position);
}

type Request = MessageValue<typeof FetchRequest>;

/**
 * Serves one Fetch at `version` as a Spool broker does: filtering consumers' records by the
 * topic's spoolTagFilter (which exists only from v12). Returns the decoded response and its size.
 */
export function serveFetch(
  log: InMemoryLog,
  version: number,
  body: MessageInput<typeof FetchRequest>,
): { response: MessageValue<typeof FetchResponse>; bytes: number } {
  const request: Request = decodeMessage(FetchRequest, version, encodeMessage(FetchRequest, version, body));
  const responses = request.topics.map((topic) => {
    const filter = topicTagFilter(topic.spoolTagFilter);
    return {
      topic: topic.topic,
      partitions: topic.partitions.map((p) => {
        const read = readBatches(log, p.fetchOffset, p.partitionMaxBytes);
        const records = filter.kind === 'filter' ? filterRecordBatches(read, filter.filter).records : read;
        return {
          partitionIndex: p.partition,
          errorCode: ErrorCode.NONE,
          highWatermark: log.logEnd,
          lastStableOffset: log.logEnd,
          logStartOffset: 0,
          abortedTransactions: [],
          records,
        };
      }),
    };
  });
  // Fields left out (topic ids, tagged structs) take their defaults, as the codec reads them.
  const input: object = { throttleTimeMs: 0, errorCode: 0, responses };
  const encoded = encodeMessage(
    FetchResponse as MessageSchema,
    version,
    input as MessageInput<MessageSchema>,
  );
  return { response: decodeMessage(FetchResponse, version, encoded), bytes: encoded.length };
}

/** The same response encoded at v11, the version kafkajs reads, for kafkajs's own decoder. */
export function fetchResponseV11(
  log: InMemoryLog,
  topic: string,
  offset: number,
  filterText: string,
  partitionMaxBytes: number,
) {
  const body = {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    topics: [
      {
        topic,
        spoolTagFilter: filterText,
        partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes }],
      },
    ],
  };
  // Served at v12 so the filter applies, then re-encoded as the v11 response kafkajs understands.
  const { response } = serveFetch(log, 12, body as MessageInput<typeof FetchRequest>);
  return encodeMessage(FetchResponse, 11, response as MessageInput<typeof FetchResponse>);
}
