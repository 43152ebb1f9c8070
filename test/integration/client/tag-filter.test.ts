import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../../client/admin/index.js';
import { Consumer, type ConsumerRecord } from '../../../client/consumer/index.js';
import { type Compression, Producer } from '../../../client/producer/index.js';
import { string } from '../../../client/serializers.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { APIS } from '../../../protocol/messages/index.js';
import { TagFilter, tagsHeader } from '../../../protocol/tag-filter/index.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { RawClient } from '../../helpers/raw-client.js';

/**
 * Broker-side tag filtering on a real 1-broker cluster: the SDK consumer with `tagFilter` gets
 * exactly the matching records in order, its commits and lag reach the log end although the last
 * records are filtered out, kafkajs still reads everything, and a filtered read moves far fewer
 * Fetch response bytes (the broker's own spool_response_bytes_total) than an unfiltered one.
 */

const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const RECORDS = 2_000;
const PARTITIONS = 3;
/** The last records match nothing: commits and lag must still reach the log end. */
const UNMATCHED_TAIL = 50;

/** Record i's tags; null: no spool-tags header. ~25% match "a || b". */
function tagsFor(i: number, total = RECORDS): string[] | null {
  if (i >= total - UNMATCHED_TAIL) return ['c'];
  return [['a'], ['b', 'x'], ['c'], ['c', 'd'], ['d'], ['x'], null, null][i % 8]!;
}

/** 200 bytes of not very compressible text, different per record. */
function valueFor(i: number): string {
  let text = `v${i}:`;
  let seed = i * 2_654_435_761;
  while (text.length < 200) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    text += String.fromCharCode(33 + (seed % 90));
  }
  return text;
}

interface Produced {
  i: number;
  partition: number;
  offset: number;
  tags: string[] | null;
}

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let admin: Admin;

async function produceTagged(topic: string, total: number, compression: Compression): Promise<Produced[]> {
  const producer = new Producer<string, string>({ bootstrap: local.bootstrap, lingerMs: 10, compression });
  try {
    return await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const tags = tagsFor(i, total);
        const meta = await producer.send(topic, {
          key: `k${i}`,
          value: valueFor(i),
          // Half through the producer's `tags` option, half as a header built by hand.
          ...(tags === null ? {} : i % 2 === 0 ? { tags } : { headers: [tagsHeader(tags)] }),
        });
        return { i, partition: meta.partition, offset: meta.offset, tags };
      }),
    );
  } finally {
    await producer.close();
  }
}

function logEnds(produced: Produced[]): number[] {
  const ends = Array.from({ length: PARTITIONS }, () => 0);
  for (const p of produced) ends[p.partition] = Math.max(ends[p.partition]!, p.offset + 1);
  return ends;
}

function matching(produced: Produced[], expression: string): Produced[] {
  const filter = TagFilter.parse(expression);
  return produced.filter((p) => filter.matches(new Set(p.tags ?? [])));
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function brokerMetric(name: string, labels = ''): Promise<number> {
  const { metricsPort } = local.cluster.state.brokers[0]!;
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

function stringConsumer(options: Partial<ConstructorParameters<typeof Consumer<string, string>>[0]>) {
  return new Consumer<string, string>({
    bootstrap: local.bootstrap,
    keyDeserializer: string,
    valueDeserializer: string,
    startFrom: 'earliest',
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    ...options,
  });
}

/** Reads every partition from the start until each position is at its log end; records seen. */
async function fullRead(topic: string, ends: number[], tagFilter?: string) {
  const consumer = stringConsumer(tagFilter === undefined ? {} : { tagFilter });
  consumer.assign(ends.map((_, partition) => ({ topic, partition })));
  const records: ConsumerRecord<string, string>[] = [];
  const running = consumer.run({ eachMessage: (record) => void records.push(record) });
  await waitFor(() => consumer.lag().every((l) => l.position === ends[l.partition]));
  await consumer.close();
  await running;
  return records;
}

let topic: string;
let produced: Produced[];
let ends: number[];

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 1 });
  admin = new Admin({ bootstrap: local.bootstrap, clientId: 'tag-filter-it' });
  await admin.connect();
  topic = `tagged-${Date.now().toString(36)}`;
  await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }]);
  produced = await produceTagged(topic, RECORDS, 'none');
  ends = logEnds(produced);
}, 90_000);

afterAll(async () => {
  admin?.close();
  await local?.stop();
});

describe('tag filtering', () => {
  it('delivers exactly the matching records in order; commits and lag reach the log end', async () => {
    const expected = matching(produced, 'a || b');
    expect(expected.length / RECORDS).toBeCloseTo(0.244, 2);
    const groupId = `g-${topic}`;
    const consumer = stringConsumer({ groupId, tagFilter: 'a || b', autoCommitIntervalMs: 200 });
    consumer.subscribe(topic);
    const seen: ConsumerRecord<string, string>[] = [];
    const running = consumer.run({ eachMessage: (record) => void seen.push(record) });
    await waitFor(
      () =>
        seen.length >= expected.length &&
        consumer.lag().length === PARTITIONS &&
        consumer.lag().every((l) => l.position === ends[l.partition] && l.lag === 0),
    );
    // Auto commit reaches the log end, past the filtered-out tail, while the consumer runs.
    await waitFor(async () =>
      (await admin.fetchOffsets(groupId, [topic])).every((c) => c.offset === ends[c.partition]),
    );
    await consumer.close();
    await running;

    expect(seen).toHaveLength(expected.length);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const want = expected.filter((p) => p.partition === partition).sort((a, b) => a.offset - b.offset);
      const got = seen.filter((r) => r.partition === partition);
      expect(got.map((r) => r.offset)).toEqual(want.map((p) => p.offset));
      expect(got.map((r) => r.value)).toEqual(want.map((p) => valueFor(p.i)));
    }
    const committed = await admin.fetchOffsets(groupId, [topic]);
    expect(committed.map((c) => c.offset).sort()).toEqual([...ends].sort());
  });

  it('kafkajs without a filter still reads every record', async () => {
    const kafka = new Kafka({
      clientId: 'tag-filter-it',
      brokers: local.bootstrap,
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: `kjs-${topic}`,
      sessionTimeout: 6_000,
      heartbeatInterval: 500,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void values.add(message.value!.toString()) });
    try {
      await waitFor(() => values.size >= RECORDS, 45_000);
    } finally {
      await consumer.disconnect();
    }
    expect(values).toEqual(new Set(produced.map((p) => valueFor(p.i))));
  }, 60_000);

  it('moves far fewer bytes over the network for a filtered read', async () => {
    const fetchBytes = () => brokerMetric('spool_response_bytes_total', '{api="Fetch"}');
    const before = await fetchBytes();
    const all = await fullRead(topic, ends);
    const afterUnfiltered = await fetchBytes();
    const droppedBefore = await brokerMetric('spool_fetch_filtered_records_total');
    const some = await fullRead(topic, ends, 'a || b');
    const afterFiltered = await fetchBytes();
    const dropped = (await brokerMetric('spool_fetch_filtered_records_total')) - droppedBefore;

    const unfilteredBytes = afterUnfiltered - before;
    const filteredBytes = afterFiltered - afterUnfiltered;
    const share = some.length / all.length;
    console.info(
      `tag filter bytes: ${RECORDS} records of ~240 bytes in ${PARTITIONS} partitions; ` +
        `unfiltered full read ${unfilteredBytes} Fetch response bytes, ` +
        `"a || b" (${(share * 100).toFixed(1)}% of records) ${filteredBytes} bytes ` +
        `= ${((filteredBytes / unfilteredBytes) * 100).toFixed(1)}%; broker dropped ${dropped} records`,
    );
    expect(all).toHaveLength(RECORDS);
    expect(some).toHaveLength(matching(produced, 'a || b').length);
    expect(dropped).toBe(RECORDS - some.length);
    expect(filteredBytes).toBeLessThan(unfilteredBytes * 0.4);
  });

  it('filters compressed batches too (zstd), with a compound expression', async () => {
    const zstdTopic = `${topic}-zstd`;
    await admin.createTopics([{ topic: zstdTopic, partitions: PARTITIONS, replicationFactor: 1 }]);
    const zstdProduced = await produceTagged(zstdTopic, 600, 'zstd');
    const expression = '(a || d) && !c';
    const records = await fullRead(zstdTopic, logEnds(zstdProduced), expression);
    const byKey = (r: { partition: number; offset: number }) => `${r.partition}:${r.offset}`;
    expect(records.map(byKey).sort()).toEqual(matching(zstdProduced, expression).map(byKey).sort());
  });

  it('answers an invalid filter with INVALID_REQUEST and a message, and keeps serving', async () => {
    const client = await RawClient.connect(local.cluster.state.brokers[0]!.port);
    try {
      const fetchWith = (spoolTagFilter: string) =>
        client.request(APIS.Fetch, 12, {
          maxWaitMs: 0,
          minBytes: 0,
          topics: [
            {
              topic,
              topicId: NO_TOPIC_ID,
              spoolTagFilter,
              partitions: [0, 1].map((partition) => ({
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: 0,
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: 4096,
                replicaDirectoryId: NO_TOPIC_ID,
              })),
            },
          ],
        });
      const bad = await fetchWith('a || (b');
      for (const partition of bad.responses[0]!.partitions) {
        expect(partition.errorCode).toBe(ErrorCode.INVALID_REQUEST);
        expect(partition.records).toBeNull();
        expect(partition.spoolErrorMessage).toBe(
          'invalid tag filter at position 7: "(" at position 5 is never closed',
        );
      }
      const good = await fetchWith('a');
      expect(good.responses[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
      expect(good.responses[0]!.partitions.some((p) => (p.records?.length ?? 0) > 0)).toBe(true);
    } finally {
      client.close();
    }
  });
});
