import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../client/cluster/index.js';
import { Fetcher } from '../../../client/consumer/fetcher.js';
import { SubscriptionState } from '../../../client/consumer/subscription-state.js';
import type { FetchRequest } from '../../../protocol/messages/fetch.js';
import { CompressionType } from '../../../protocol/record-batch/index.js';
import { TagFilter } from '../../../protocol/tag-filter/index.js';
import type { MessageInput } from '../../../protocol/wire/schema.js';
import { buildLog, fetchResponseV11, type InMemoryLog, serveFetch } from './filtered-log.js';

/**
 * How consumers cope with what tag filtering returns: batches with offset gaps, and batches with no
 * records at all (which, alone in a response, carry no record offsets to move past). The Spool
 * SDK's real Fetcher runs against the broker's real filter; kafkajs 2.2.4 is driven through its own
 * Fetch v11 decoder and Batch class, with its runner's offset rule (src/consumer/runner.js).
 */

// Filter "a". Offsets 0-9: every third record matches (a batch with gaps); 10-19: none match (an
// empty batch); 20-29: only the first matches; 30-44: none match (the log ends filtered out).
const LAYOUT = [
  {
    tags: Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? ['a'] : ['b'])),
    compression: CompressionType.Gzip,
  },
  { tags: Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ['b'] : null)) },
  { tags: [['a', 'c'], ...Array.from({ length: 9 }, () => null)], compression: CompressionType.Gzip },
  { tags: Array.from({ length: 10 }, () => ['c']) },
  { tags: Array.from({ length: 5 }, () => ['b', 'c']), compression: CompressionType.Gzip },
];
const MATCHING = [0, 3, 6, 9, 20];
const LOG_END = 45;

interface SdkRun {
  delivered: number[];
  position: number;
  processed: number;
  fetches: number;
  responseBytes: number;
  uncommitted: { offset: number }[];
}

/** The SDK's Fetcher and SubscriptionState reading the whole log, processing every batch. */
async function consumeWithSdk(
  log: InMemoryLog,
  options: { version: number; maxBytesPerPartition: number; tagFilter: string | undefined },
): Promise<SdkRun> {
  const state = new SubscriptionState();
  state.assign([{ topic: 't', partition: 0 }], 'committed');
  const partition = state.get('t', 0)!;
  state.seek(partition, 0);
  state.markCommitted('t', 0, 0);
  let fetches = 0;
  let responseBytes = 0;
  const errors: unknown[] = [];
  const connection = {
    async send(_api: unknown, _versions: unknown, body: MessageInput<typeof FetchRequest>) {
      fetches++;
      const { response, bytes } = serveFetch(log, options.version, body);
      responseBytes += bytes;
      if (response.responses[0]!.partitions[0]!.records!.length === 0) await sleep(5); // long poll
      return { version: options.version, response };
    },
  };
  const cluster = {
    metadata: { leaderFor: () => 1, refresh: async () => {}, topic: () => undefined },
    broker: async () => connection,
  } as unknown as Cluster;
  const fetcher = new Fetcher(
    cluster,
    state,
    {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxBytesPerPartition: options.maxBytesPerPartition,
      startFrom: 'earliest',
      retryBackoffMs: 10,
      tagFilter: options.tagFilter === undefined ? undefined : TagFilter.parse(options.tagFilter),
    },
    { onRecords: () => {}, fetchCommitted: async () => new Map(), onError: (error) => errors.push(error) },
  );
  const delivered: number[] = [];
  fetcher.start();
  const deadline = Date.now() + 5_000;
  while ((partition.processed < log.logEnd || partition.buffered.length > 0) && Date.now() < deadline) {
    const batch = state.take(3);
    if (!batch) {
      await sleep(1);
      continue;
    }
    delivered.push(...batch.records.map((r) => r.offset));
    state.markProcessed(batch, batch.nextOffset);
    state.release(batch);
    fetcher.wake();
  }
  fetcher.stop();
  expect(errors).toEqual([]);
  return {
    delivered,
    position: partition.position,
    processed: partition.processed,
    fetches,
    responseBytes,
    uncommitted: state.uncommitted(),
  };
}

// ---- kafkajs 2.2.4 internals (CommonJS, not exported), typed as far as used -----------------------

interface KafkajsMessage {
  offset: string;
}
interface KafkajsPartitionData {
  partition: number;
  highWatermark: string;
  messages: KafkajsMessage[];
}
interface KafkajsBatch {
  messages: KafkajsMessage[];
  isEmpty(): boolean;
  isEmptyDueToFiltering(): boolean;
  lastOffset(): string;
}
const require = createRequire(import.meta.url);
const kafkajsFetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as {
  decode(raw: Buffer): Promise<{ responses: { topicName: string; partitions: KafkajsPartitionData[] }[] }>;
};
const KafkajsBatchClass = require('kafkajs/src/consumer/batch') as new (
  topic: string,
  fetchedOffset: string,
  partitionData: KafkajsPartitionData,
) => KafkajsBatch;

/**
 * kafkajs's consumer loop for one partition, `fetches` times: fetch at the resolved offset; a
 * batch with messages is delivered and its last offset resolved; one that is empty only because
 * messages were dropped client-side is resolved too (runner.js, #1256); a truly empty one is not.
 */
async function consumeWithKafkajs(log: InMemoryLog, fetches: number, partitionMaxBytes: number) {
  let next = 0;
  const delivered: number[] = [];
  const fetchedAt: number[] = [];
  for (let i = 0; i < fetches; i++) {
    fetchedAt.push(next);
    const decoded = await kafkajsFetchV11.decode(fetchResponseV11(log, 't', next, 'a', partitionMaxBytes));
    const batch = new KafkajsBatchClass('t', String(next), decoded.responses[0]!.partitions[0]!);
    if (!batch.isEmpty()) delivered.push(...batch.messages.map((m) => Number(m.offset)));
    if (!batch.isEmpty() || batch.isEmptyDueToFiltering()) next = Number(batch.lastOffset()) + 1;
  }
  return { delivered, next, fetchedAt };
}

describe('consumers on tag-filtered batches', () => {
  const log = buildLog(LAYOUT);

  it('the log is as described', () => {
    expect(log.offsetsWith((tags) => tags.includes('a'))).toEqual(MATCHING);
    expect(log.logEnd).toBe(LOG_END);
  });

  it.each([1, 1 << 20])(
    'Spool SDK, broker filtering, %i partition bytes: exactly the matches, then on to the log end',
    async (maxBytesPerPartition) => {
      const run = await consumeWithSdk(log, { version: 12, maxBytesPerPartition, tagFilter: 'a' });
      expect(run.delivered).toEqual(MATCHING);
      // Offsets 21-44 hold nothing to deliver, yet the partition is consumed to the end.
      expect(run.position).toBe(LOG_END);
      expect(run.processed).toBe(LOG_END);
      expect(run.uncommitted).toEqual([{ topic: 't', partition: 0, offset: LOG_END }]);
      if (maxBytesPerPartition === 1) expect(run.fetches).toBeGreaterThanOrEqual(5); // one batch each
    },
  );

  it('Spool SDK against a broker that ignores the filter (Fetch v11): same records, more bytes', async () => {
    const ignored = await consumeWithSdk(log, { version: 11, maxBytesPerPartition: 1, tagFilter: 'a' });
    const filtered = await consumeWithSdk(log, { version: 12, maxBytesPerPartition: 1, tagFilter: 'a' });
    expect(ignored.delivered).toEqual(MATCHING);
    expect(ignored.processed).toBe(LOG_END);
    expect(filtered.responseBytes).toBeLessThan(ignored.responseBytes / 2);
  });

  it('Spool SDK without a filter: every record', async () => {
    const run = await consumeWithSdk(log, { version: 12, maxBytesPerPartition: 1, tagFilter: undefined });
    expect(run.delivered).toEqual(Array.from({ length: LOG_END }, (_, i) => i));
    expect(run.processed).toBe(LOG_END);
  });

  it('kafkajs: handles gaps, but stalls where a response holds only empty batches', async () => {
    const { delivered, next, fetchedAt } = await consumeWithKafkajs(log, 30, 1);
    // Partition max bytes 1: one batch per response. Offsets 0-9 work (gaps are fine)...
    expect(delivered).toEqual([0, 3, 6, 9]);
    // ...but the empty batch at 10-19 carries no record offsets, so kafkajs fetches 10 forever
    // (as it does after log compaction: tulios/kafkajs#1072).
    expect(next).toBe(10);
    expect(fetchedAt.slice(-5)).toEqual([10, 10, 10, 10, 10]);
  });

  it('kafkajs: with the whole log in one response, crawls through a gap tail, then stalls the same way', async () => {
    const { delivered, next, fetchedAt } = await consumeWithKafkajs(log, 30, 1 << 20);
    expect(delivered).toEqual(MATCHING);
    // After 20 it fetches at 21: batch 20-29 comes back holding only offset 20, which kafkajs
    // drops as below its fetch offset and then advances by one offset per fetch.
    expect(fetchedAt.slice(0, 11)).toEqual([0, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    // From 30 on, the response is two empty batches: no record offsets, no progress.
    expect(next).toBe(30);
  });
});
