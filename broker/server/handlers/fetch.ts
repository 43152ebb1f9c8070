import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type FetchRequest } from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { MetadataCache } from '../../cluster/metadata-cache.js';
import type { Logger } from '../../common/logger.js';
import {
  FetchTagFiltering,
  type FilteredRecordsObserver,
  type TopicTagFilter,
  topicTagFilter,
} from '../../filter/fetch-tag-filter.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { OffsetOutOfRangeError } from '../../storage/errors.js';
import { errorCodeFor, isUnexpected } from '../error-mapping.js';
import { partitionKey } from '../fetch-waiters.js';
import type { ApiHandler, RequestContext } from '../request-router.js';

/** Upper bound on a fetch's long poll, whatever max_wait_ms the client sends. */
export const MAX_FETCH_WAIT_MS = 30_000;

type Request = MessageValue<typeof FetchRequest>;

interface PartitionTarget {
  /** Undefined when a topic id (v13+) names no known topic. */
  topicName: string | undefined;
  partition: Request['topics'][number]['partitions'][number];
  /** The topic's Spool tag filter (flexible versions only); never applied to followers. */
  tagFilter: TopicTagFilter;
}

/**
 * Fetch with long polling: reads every requested partition; if fewer than min_bytes came back, it
 * waits until a produce touches one of the partitions or max_wait_ms passes, then reads again.
 * max_bytes bounds the whole response and partition_max_bytes each partition, except that the
 * first non-empty partition may return one batch larger than either (KIP-74), so a consumer can
 * always make progress.
 *
 * Fetch sessions (KIP-227) are declined: every response carries session id 0, which tells the
 * client to keep sending full fetch requests. An incremental fetch for a session id we never
 * issued gets FETCH_SESSION_ID_NOT_FOUND.
 *
 * Tag filtering (Spool's `spoolTagFilter` extension, per topic): a consumer's records are
 * rewritten after the read, dropping the records the filter rejects but keeping every batch's
 * offsets (broker/filter/batch-filter.ts). The read itself is the one an unfiltered fetch makes,
 * and max_bytes, partition_max_bytes and min_bytes count the bytes read, not the bytes left after
 * filtering: a fetch whose records are all filtered out still returns (empty) batches at once,
 * so the consumer moves past them instead of long-polling in place. An unparseable filter makes
 * each of the topic's partitions answer INVALID_REQUEST, with the reason in `spoolErrorMessage`.
 */
export function fetchHandler(
  replicas: ReplicaManager,
  metadata: MetadataCache,
  logger: Logger,
  filteredRecords?: FilteredRecordsObserver,
): ApiHandler {
  const filtering = new FetchTagFiltering(logger, filteredRecords);

  async function readAll(targets: PartitionTarget[], maxBytes: number, replicaId: number) {
    let budget = maxBytes;
    let totalBytes = 0;
    const results = [];
    for (const { topicName, partition, tagFilter } of targets) {
      const base = {
        partitionIndex: partition.partition,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
      };
      if (topicName === undefined) {
        results.push({ ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, records: null });
        continue;
      }
      // Followers replicate raw batches: a filter is ignored for them, even an invalid one.
      if (tagFilter.kind === 'invalid' && replicaId < 0) {
        results.push({
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          records: null,
          spoolErrorMessage: tagFilter.message,
        });
        continue;
      }
      try {
        if (totalBytes > 0 && budget <= 0) {
          // The response is full: report offsets only, so the consumer still sees its lag.
          const offsets = await replicas.offsets(
            topicName,
            partition.partition,
            partition.currentLeaderEpoch,
          );
          results.push({
            ...base,
            errorCode: ErrorCode.NONE,
            highWatermark: offsets.highWatermark,
            lastStableOffset: offsets.highWatermark,
            logStartOffset: offsets.logStartOffset,
            records: Buffer.alloc(0),
          });
          continue;
        }
        const limit =
          totalBytes === 0 ? partition.partitionMaxBytes : Math.min(partition.partitionMaxBytes, budget);
        const read = await replicas.read(topicName, partition.partition, partition.fetchOffset, limit, {
          replicaId,
          currentLeaderEpoch: partition.currentLeaderEpoch,
        });
        // Budgets count the bytes read: filtering must not make a fetch read further than usual.
        totalBytes += read.records.length;
        budget -= read.records.length;
        const records =
          tagFilter.kind === 'filter' && replicaId < 0 && read.records.length > 0
            ? filtering.apply(read.records, tagFilter.filter, {
                topic: topicName,
                partition: partition.partition,
              })
            : read.records;
        results.push({
          partitionIndex: partition.partition,
          errorCode: ErrorCode.NONE,
          highWatermark: read.highWatermark,
          lastStableOffset: read.highWatermark,
          logStartOffset: read.logStartOffset,
          records,
        });
      } catch (error) {
        const errorCode = errorCodeFor(error);
        if (isUnexpected(errorCode)) logger.error({ err: error, topic: topicName }, 'fetch failed');
        // Out of range: say where the log is, so a follower can reset to the leader's start.
        const range =
          error instanceof OffsetOutOfRangeError
            ? { logStartOffset: error.logStartOffset, highWatermark: -1, lastStableOffset: -1 }
            : {};
        results.push({ ...base, ...range, errorCode, records: null });
      }
    }
    return { results, totalBytes };
  }

  return {
    api: API_REGISTRY.get(1)!,
    minVersion: 4,
    maxVersion: 17,
    async handle(request: Request, version: number, context: RequestContext) {
      if (request.sessionId !== 0) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
          sessionId: 0,
          responses: [],
        };
      }
      const byId = version >= 13;
      const targets: PartitionTarget[] = request.topics.flatMap((topic) => {
        const name = byId ? metadata.topicById(topic.topicId)?.name : topic.topic;
        const tagFilter = topicTagFilter(topic.spoolTagFilter);
        return topic.partitions.map((partition) => ({ topicName: name, partition, tagFilter }));
      });
      // Clients ask for at most a few hundred ms; the bound keeps a hostile value from holding a
      // request (and timers past Node's 2^31-1 ms limit, which fire at once) for days.
      const maxWaitMs = Math.min(Math.max(request.maxWaitMs, 0), MAX_FETCH_WAIT_MS);
      const deadline = Date.now() + maxWaitMs;
      // A broker's replica fetcher identifies itself; consumers send -1.
      const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
      const keys = targets.map((t) => partitionKey(t.topicName ?? '', t.partition.partition));
      let mark = replicas.waiters.mark(keys);
      let { results, totalBytes } = await readAll(targets, request.maxBytes, replicaId);
      while (totalBytes < request.minBytes && results.every((r) => r.errorCode === ErrorCode.NONE)) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        if (context.connection.closedSignal.aborted) break;
        await replicas.waiters.wait(keys, remaining, context.connection.closedSignal, mark);
        mark = replicas.waiters.mark(keys);
        ({ results, totalBytes } = await readAll(targets, request.maxBytes, replicaId));
      }
      // Group the per-partition results back under their topics, in request order.
      let index = 0;
      const responses = request.topics.map((topic) => ({
        topic: topic.topic,
        topicId: topic.topicId,
        partitions: topic.partitions.map(() => results[index++]!),
      }));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
    },
  };
}
