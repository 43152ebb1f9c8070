import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../../client/admin/index.js';
import {
  Consumer,
  type ConsumerRecord,
  RangeAssignor,
  RoundRobinAssignor,
} from '../../../client/consumer/index.js';
import { Producer } from '../../../client/producer/index.js';
import { string } from '../../../client/serializers.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/** The Spool consumer against a real 3-broker cluster (one cluster for the whole file). */

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let admin: Admin;
let producer: Producer<string, string>;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3 });
  admin = new Admin({ bootstrap: local.bootstrap, clientId: 'consumer-it' });
  await admin.connect();
  producer = new Producer({ bootstrap: local.bootstrap, lingerMs: 2 });
}, 60_000);

afterAll(async () => {
  await producer?.close();
  admin?.close();
  await local?.stop();
});

let topicSeq = 0;
async function createTopic(partitions = 3): Promise<string> {
  const name = `consumer-it-${Date.now().toString(36)}-${topicSeq++}`;
  await admin.createTopics([{ topic: name, partitions, replicationFactor: 3 }]);
  return name;
}

async function produce(topic: string, count: number, from = 0, extra: { timestamp?: number } = {}) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      producer.send(topic, {
        key: `k${from + i}`,
        value: `v${from + i}`,
        headers: { n: String(from + i) },
        ...extra,
      }),
    ),
  );
}

function stringConsumer(options: Partial<ConstructorParameters<typeof Consumer<string, string>>[0]> = {}) {
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

/** Runs `consumer` with eachMessage until `count` records arrived; returns them. */
async function collect(consumer: Consumer<string, string>, count: number, timeoutMs = 20_000) {
  const records: ConsumerRecord<string, string>[] = [];
  let done!: () => void;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  const running = consumer.run({
    eachMessage: (record) => {
      records.push(record);
      if (records.length >= count) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await enough;
  clearTimeout(timer);
  return { records, running };
}

function byPartition(records: ConsumerRecord<string, string>[]): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const r of records) map.set(r.partition, [...(map.get(r.partition) ?? []), r.offset]);
  return map;
}

describe('Consumer', () => {
  it('reads assigned partitions with for-await, in order, with keys, values and headers', async () => {
    const topic = await createTopic(3);
    await produce(topic, 90);
    const consumer = stringConsumer();
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
    const seen: ConsumerRecord<string, string>[] = [];
    for await (const batch of consumer) {
      expect(batch.records.every((r) => r.partition === batch.partition)).toBe(true);
      seen.push(...batch.records);
      if (seen.length >= 90) break;
    }
    expect(seen.map((r) => r.value).sort()).toEqual(Array.from({ length: 90 }, (_, i) => `v${i}`).sort());
    for (const r of seen) {
      expect(r.key).toBe(`k${r.value!.slice(1)}`);
      expect(r.headers.find((h) => h.key === 'n')?.value?.toString()).toBe(r.value!.slice(1));
    }
    for (const offsets of byPartition(seen).values()) {
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(offsets[0]).toBe(0);
    }
  });

  it('commits processed offsets in a group and resumes from them', async () => {
    const topic = await createTopic(3);
    const groupId = `g-${topic}`;
    await produce(topic, 30);
    const first = stringConsumer({ groupId, autoCommitIntervalMs: 200 });
    first.subscribe(topic);
    const { records, running } = await collect(first, 30);
    expect(records).toHaveLength(30);
    await first.close();
    await running;

    const committed = await admin.fetchOffsets(groupId, [topic]);
    expect(committed.reduce((sum, c) => sum + c.offset, 0)).toBe(30);

    await produce(topic, 6, 30);
    const second = stringConsumer({ groupId });
    second.subscribe(topic);
    const next = await collect(second, 6);
    expect(next.records.map((r) => r.value).sort()).toEqual(['v30', 'v31', 'v32', 'v33', 'v34', 'v35']);
    await second.close();
    await next.running;
  });

  it('close() from inside eachMessage commits through the record in hand, no further', async () => {
    const topic = await createTopic(1);
    const groupId = `g-${topic}`;
    await produce(topic, 20);
    const consumer = stringConsumer({ groupId });
    consumer.subscribe(topic);
    const seen: number[] = [];
    await consumer.run({
      eachMessage: async ({ offset }) => {
        seen.push(offset);
        if (seen.length === 5) await consumer.close();
      },
    });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await admin.fetchOffsets(groupId, [topic])).toMatchObject([{ partition: 0, offset: 5 }]);
  });

  it('fails run() and ready() with a typed error when the group rejects the member', async () => {
    const topic = await createTopic(1);
    const consumer = stringConsumer({ groupId: `g-${topic}`, sessionTimeoutMs: 100 });
    consumer.subscribe(topic);
    await expect(consumer.ready()).rejects.toMatchObject({
      name: 'KafkaProtocolError',
      errorName: 'INVALID_SESSION_TIMEOUT',
      retriable: false,
    });
    await expect(consumer.run({ eachMessage: () => {} })).rejects.toMatchObject({
      errorName: 'INVALID_SESSION_TIMEOUT',
    });
    await consumer.close();
  });

  it('starts from latest, from a timestamp, and seeks', async () => {
    const topic = await createTopic(1);
    const base = Date.now() - 60_000;
    for (let i = 0; i < 10; i++) await produce(topic, 1, i, { timestamp: base + i * 1000 });

    const fromTime = stringConsumer({ startFrom: { timestamp: base + 6_500 } });
    fromTime.assign([{ topic, partition: 0 }]);
    const timed = await collect(fromTime, 3);
    expect(timed.records.map((r) => r.offset)).toEqual([7, 8, 9]);
    expect(timed.records[0]!.timestamp).toBe(base + 7_000);

    fromTime.seek({ topic, partition: 0 }, 2);
    const before = timed.records.length;
    await waitFor(() => timed.records.length >= before + 8);
    expect(timed.records.slice(before, before + 8).map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    await fromTime.close();
    await timed.running;

    const latest = stringConsumer({ startFrom: 'latest' });
    latest.assign([{ topic, partition: 0 }]);
    const fresh = collect(latest, 1);
    await waitFor(() => latest.lag()[0]?.position === 10);
    await produce(topic, 1, 10);
    const { records, running } = await fresh;
    expect(records.map((r) => r.offset)).toEqual([10]);
    await latest.close();
    await running;
  });

  it('pauses and resumes partitions, and reports lag', async () => {
    const topic = await createTopic(2);
    await Promise.all([0, 1].map((partition) => producer.send(topic, { value: 'first', partition })));
    const consumer = stringConsumer({ maxBatchRecords: 1 });
    consumer.assign([0, 1].map((partition) => ({ topic, partition })));
    consumer.pause([{ topic, partition: 1 }]);
    const { records, running } = await collect(consumer, 1);
    expect(records.map((r) => r.partition)).toEqual([0]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(records).toHaveLength(1);
    expect(consumer.paused()).toEqual([{ topic, partition: 1 }]);
    const lag = consumer.lag().find((l) => l.partition === 1)!;
    expect(lag.position).toBe(0);

    await Promise.all(Array.from({ length: 4 }, () => producer.send(topic, { value: 'more', partition: 0 })));
    await waitFor(() => records.length >= 5);
    await waitFor(() => consumer.lag().find((l) => l.partition === 0)?.lag === 0);
    expect(consumer.lag().find((l) => l.partition === 0)).toMatchObject({
      position: 5,
      highWatermark: 5,
      lag: 0,
    });

    consumer.resume([{ topic, partition: 1 }]);
    await waitFor(() => records.some((r) => r.partition === 1));
    await consumer.close();
    await running;
  });

  it('splits partitions between group members; slow handlers do not cause rebalances', async () => {
    const topic = await createTopic(4);
    const groupId = `g-${topic}`;
    const a = stringConsumer({ groupId, clientId: 'a' });
    const b = stringConsumer({ groupId, clientId: 'b' });
    let joins = 0;
    a.on('joined', () => joins++);
    a.subscribe(topic);
    b.subscribe(topic);
    await Promise.all([a.ready(), b.ready()]);
    await waitFor(() => a.assignment().length + b.assignment().length === 4 && a.assignment().length === 2);
    const owners = [...a.assignment(), ...b.assignment()].map((p) => p.partition).sort();
    expect(owners).toEqual([0, 1, 2, 3]);

    // Handlers slower than the session timeout (6 s): heartbeats go on regardless.
    await produce(topic, 8);
    const slow = (record: ConsumerRecord<string, string>) =>
      record.value === 'v0' ? new Promise<void>((r) => setTimeout(r, 7_000)) : undefined;
    const seen: string[] = [];
    const runs = [a, b].map((c) =>
      c.run({
        eachMessage: async (record) => {
          await slow(record);
          seen.push(record.value!);
        },
      }),
    );
    const joinsBefore = joins;
    await waitFor(() => seen.length >= 8, 20_000);
    expect(joins).toBe(joinsBefore);
    await Promise.all([a.close(), b.close()]);
    await Promise.all(runs);
  }, 40_000);

  it.each([
    ['range', new RangeAssignor()],
    ['roundrobin', new RoundRobinAssignor()],
  ])('works with the %s assignor (eager)', async (_name, assignor) => {
    const topic = await createTopic(3);
    const groupId = `g-${topic}`;
    await produce(topic, 12);
    const consumer = stringConsumer({ groupId, assignors: [assignor] });
    const joined: string[] = [];
    consumer.on('joined', (e) => joined.push(e.protocol));
    consumer.subscribe(topic);
    const { records, running } = await collect(consumer, 12);
    expect(records).toHaveLength(12);
    expect(joined[0]).toBe(assignor.name);
    await consumer.close();
    await running;
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the README examples (examples/*.ts)', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const run = (script: string, topic: string) =>
    new Promise<string>((done, fail) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', script, topic],
        { cwd: root, timeout: 60_000, env: { ...process.env, SPOOL_BOOTSTRAP: local.bootstrap.join(',') } },
        (error, stdout, stderr) => (error ? fail(new Error(`${script}: ${stderr}`)) : done(stdout)),
      );
    });

  it('at-least-once applies every payment', async () => {
    const out = await run('examples/at-least-once.ts', `payments-${Date.now().toString(36)}`);
    expect(out).toContain('ledger has 10 payments');
  }, 60_000);

  it('at-most-once sends every notification once', async () => {
    const out = await run('examples/at-most-once.ts', `notifications-${Date.now().toString(36)}`);
    expect(out.match(/^notify /gm)).toHaveLength(10);
    expect(out).toContain('sent 10 notifications');
  }, 60_000);
});
