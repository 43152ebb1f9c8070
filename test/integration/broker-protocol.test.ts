import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { API_REGISTRY } from '../../protocol/messages/index.js';
import {
  CompressionType,
  createRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  TimestampType,
} from '../../protocol/record-batch/index.js';
import { startLocalCluster } from '../helpers/local-cluster.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * The broker's wire behaviour, observed byte-exactly over a raw socket against a real broker
 * process: version negotiation, limits, ordering, backpressure, produce errors, long polling.
 */
const api = (key: number) => API_REGISTRY.get(key)!;
const [PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS, CREATE_TOPICS] = [0, 1, 2, 3, 18, 19].map(
  api,
) as [
  ReturnType<typeof api>,
  ReturnType<typeof api>,
  ReturnType<typeof api>,
  ReturnType<typeof api>,
  ReturnType<typeof api>,
  ReturnType<typeof api>,
];

let env: Awaited<ReturnType<typeof startLocalCluster>>;
let port: number;
let client: RawClient;
const topicIds = new Map<string, string>();

function batch(
  values: string[],
  options: { timestamp?: number; compression?: CompressionType } = {},
): Buffer {
  return encodeRecordBatch(
    createRecordBatch({
      compression: options.compression,
      timestamp: options.timestamp ?? Date.now(),
      records: values.map((v) => ({ key: Buffer.from('k'), value: Buffer.from(v) })),
    }),
  );
}

async function produce(topic: string, records: Buffer, acks = -1) {
  const response = await client.request(PRODUCE, 9, {
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  return (
    response as {
      responses: {
        partitionResponses: { errorCode: number; baseOffset: number; logAppendTimeMs: number }[];
      }[];
    }
  ).responses[0]!.partitionResponses[0]!;
}

beforeAll(async () => {
  env = await startLocalCluster();
  port = Number(env.bootstrap[0]!.split(':')[1]);
  client = await RawClient.connect(port);
  const created = (await client.request(CREATE_TOPICS, 7, {
    timeoutMs: 5000,
    topics: [
      { name: 'plain', numPartitions: 1, replicationFactor: 1 },
      {
        name: 'small',
        numPartitions: 1,
        replicationFactor: 1,
        configs: [{ name: 'max.message.bytes', value: '1000' }],
      },
      {
        name: 'appendtime',
        numPartitions: 1,
        replicationFactor: 1,
        configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
      },
    ],
  })) as { topics: { name: string; topicId: string; errorCode: number }[] };
  for (const topic of created.topics) {
    expect(topic.errorCode).toBe(ErrorCode.NONE);
    topicIds.set(topic.name, topic.topicId);
  }
}, 120_000);

afterAll(async () => {
  client?.close();
  await env?.stop();
});

describe('version negotiation', () => {
  it('advertises exactly the implemented APIs and answers an unknown ApiVersions version in v0', async () => {
    const response = (await client.request(API_VERSIONS, 3, {})) as {
      errorCode: number;
      apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
    };
    expect(response.errorCode).toBe(ErrorCode.NONE);
    const keys = response.apiKeys.map((k) => k.apiKey);
    expect(keys).toEqual([
      0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 23, 32, 33, 37, 42, 44, 60,
    ]);
    expect(response.apiKeys.find((k) => k.apiKey === 1)).toEqual({
      apiKey: 1,
      minVersion: 4,
      maxVersion: 17,
    });

    // A client newer than the broker: ApiVersions v99 gets UNSUPPORTED_VERSION with the table, in v0.
    const frame = client.nextFrame();
    const raw = Buffer.alloc(4 + 10);
    raw.writeInt32BE(10, 0);
    raw.writeInt16BE(18, 4);
    raw.writeInt16BE(99, 6);
    raw.writeInt32BE(4242, 8);
    raw.writeInt16BE(-1, 12);
    client.writeRaw(raw);
    const decoded = RawClient.decode(API_VERSIONS, 0, await frame);
    expect(decoded.correlationId).toBe(4242);
    expect((decoded.body as { errorCode: number }).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
  });

  it('answers an unknown API with UNSUPPORTED_VERSION and keeps the connection usable', async () => {
    const frame = client.nextFrame();
    const raw = Buffer.alloc(4 + 10);
    raw.writeInt32BE(10, 0);
    raw.writeInt16BE(999, 4);
    raw.writeInt16BE(0, 6);
    raw.writeInt32BE(777, 8);
    raw.writeInt16BE(-1, 12);
    client.writeRaw(raw);
    const body = await frame;
    expect(body.readInt32BE(0)).toBe(777);
    expect(body.readInt16BE(4)).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(
      ((await client.request(METADATA, 9, { topics: [] })) as { brokers: unknown[] }).brokers,
    ).toHaveLength(1);
  });
});

describe('connections', () => {
  it('closes a connection whose frame exceeds the request size limit', async () => {
    const other = await RawClient.connect(port);
    const size = Buffer.alloc(4);
    size.writeInt32BE(200 * 1024 * 1024, 0);
    other.writeRaw(size);
    await other.closed;
  });

  it('answers pipelined requests in request order', async () => {
    const other = await RawClient.connect(port);
    const frames = Array.from({ length: 30 }, () => other.nextFrame());
    const ids = Array.from({ length: 30 }, (_, i) =>
      i % 2 === 0 ? other.send(METADATA, 12, { topics: null }) : other.send(API_VERSIONS, 3, {}),
    );
    const answered = await Promise.all(frames);
    expect(answered.map((f) => f.readInt32BE(0))).toEqual(ids);
    other.close();
  });

  it('stops reading past the in-flight limit and still answers everything in order', async () => {
    const other = await RawClient.connect(port);
    const count = 160; // the broker serves 64 in flight per connection
    const frames = Array.from({ length: count }, () => other.nextFrame());
    const ids = Array.from({ length: count }, () =>
      other.send(FETCH, 11, {
        maxWaitMs: 300,
        minBytes: 1,
        maxBytes: 1024,
        topics: [
          { topic: 'plain', partitions: [{ partition: 0, fetchOffset: 1_000_000, partitionMaxBytes: 1024 }] },
        ],
      }),
    );
    const answered = await Promise.all(frames);
    expect(answered.map((f) => f.readInt32BE(0))).toEqual(ids);
    // Those answered at once (out of range); empty long polls show the limit in the timing below.
    other.close();

    const polling = await RawClient.connect(port);
    const pollFrames = Array.from({ length: count }, () => polling.nextFrame());
    const latest = (await produce('plain', batch(['x']))).baseOffset + 1;
    const pollStart = Date.now();
    for (let i = 0; i < count; i++) {
      polling.send(FETCH, 11, {
        maxWaitMs: 300,
        minBytes: 1,
        maxBytes: 1024,
        topics: [
          { topic: 'plain', partitions: [{ partition: 0, fetchOffset: latest, partitionMaxBytes: 1024 }] },
        ],
      });
    }
    await Promise.all(pollFrames);
    // Unbounded, all 160 long polls would wait concurrently (~300 ms); at 64 in flight it takes
    // at least three rounds.
    expect(Date.now() - pollStart).toBeGreaterThanOrEqual(800);
    polling.close();
  }, 30_000);
});

describe('produce', () => {
  it('rejects a batch above max.message.bytes, a corrupt batch and an unknown topic, per partition', async () => {
    expect((await produce('small', batch(['x'.repeat(2000)]))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    const corrupt = batch(['y']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect((await produce('plain', corrupt)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect((await produce('missing', batch(['z']))).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await produce('small', batch(['ok']))).errorCode).toBe(ErrorCode.NONE);
  });

  it('sends no response for acks=0 but appends the records', async () => {
    const before = (await produce('plain', batch(['a']))).baseOffset;
    client.send(PRODUCE, 9, {
      acks: 0,
      timeoutMs: 5000,
      topicData: [{ name: 'plain', partitionData: [{ index: 0, records: batch(['b', 'c']) }] }],
    });
    // The next response on the connection belongs to the next request, not to the acks=0 one.
    const after = (await produce('plain', batch(['d']))).baseOffset;
    expect(after).toBe(before + 3);
  });

  it('stamps LogAppendTime on topics configured for it', async () => {
    const old = Date.now() - 3_600_000;
    const result = await produce(
      'appendtime',
      batch(['t'], { timestamp: old, compression: CompressionType.Lz4 }),
    );
    expect(result.logAppendTimeMs).toBeGreaterThan(old + 3_000_000);
    const fetched = (await client.request(FETCH, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [
        {
          topic: 'appendtime',
          partitions: [{ partition: 0, fetchOffset: result.baseOffset, partitionMaxBytes: 1 << 20 }],
        },
      ],
    })) as { responses: { partitions: { records: Buffer }[] }[] };
    const [stored] = decodeRecordBatches(fetched.responses[0]!.partitions[0]!.records, { verifyCrc: true });
    expect(stored!.timestampType).toBe(TimestampType.LogAppendTime);
    expect(stored!.maxTimestamp).toBe(result.logAppendTimeMs);
  });
});

describe('fetch and list offsets', () => {
  it('wakes a long poll as soon as data arrives, by topic id at v13+', async () => {
    const poller = await RawClient.connect(port);
    const end = (await produce('plain', batch(['before']))).baseOffset + 1;
    const started = Date.now();
    const pending = poller.request(FETCH, 17, {
      maxWaitMs: 10_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [
        {
          topicId: topicIds.get('plain')!,
          partitions: [{ partition: 0, fetchOffset: end, partitionMaxBytes: 1 << 20 }],
        },
      ],
    }) as Promise<{
      responses: { topicId: string; partitions: { errorCode: number; records: Buffer | null }[] }[];
    }>;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await produce('plain', batch(['wake']));
    const response = await pending;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(response.responses[0]!.topicId).toBe(topicIds.get('plain'));
    const records = decodeRecordBatches(response.responses[0]!.partitions[0]!.records!);
    expect(records[0]!.records[0]!.value!.toString()).toBe('wake');
    poller.close();
  });

  it('reports OFFSET_OUT_OF_RANGE past the end and declines fetch sessions', async () => {
    const outOfRange = (await client.request(FETCH, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1024,
      topics: [
        { topic: 'plain', partitions: [{ partition: 0, fetchOffset: 1_000_000, partitionMaxBytes: 1024 }] },
      ],
    })) as { sessionId: number; responses: { partitions: { errorCode: number }[] }[] };
    expect(outOfRange.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(outOfRange.sessionId).toBe(0);
    const incremental = (await client.request(FETCH, 11, {
      sessionId: 12345,
      sessionEpoch: 1,
      topics: [],
    })) as { errorCode: number };
    expect(incremental.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('lists earliest, latest and by-timestamp offsets', async () => {
    const stamp = Date.now() + 60_000;
    const { baseOffset } = await produce('plain', batch(['future'], { timestamp: stamp }));
    const response = (await client.request(LIST_OFFSETS, 5, {
      replicaId: -1,
      topics: [
        { name: 'plain', partitions: [-2, -1, stamp].map((timestamp) => ({ partitionIndex: 0, timestamp })) },
      ],
    })) as { topics: { partitions: { offset: number; timestamp: number }[] }[] };
    const [earliest, latest, byTime] = response.topics[0]!.partitions;
    expect(earliest!.offset).toBe(0);
    expect(latest!.offset).toBe(baseOffset + 1);
    expect(byTime).toMatchObject({ offset: baseOffset, timestamp: stamp });
  });
});

describe('operations', () => {
  it('exposes Prometheus metrics: requests, bytes and latency by API, connections, groups', async () => {
    const { metricsPort } = env.cluster.state.brokers[0]!;
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const produced = /spool_requests_total\{api="Produce"\} (\d+)/.exec(text);
    expect(Number(produced?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/spool_request_bytes_total\{api="Fetch"\} \d+/);
    expect(text).toMatch(/spool_response_bytes_total\{api="Metadata"\} \d+/);
    expect(text).toMatch(/spool_request_duration_seconds_bucket\{le="0\.005",api="Produce"\} \d+/);
    expect(Number(/spool_connections (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toContain('spool_consumer_groups');
    expect(text).toContain('spool_process_resident_memory_bytes');
  });
});
