import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Consumer, Kafka, logLevel, Partitioners, type PartitionMetadata } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { expectOneLineError, spoolCli } from '../../helpers/spool-cli.js';

/**
 * The data commands of the real `spool` CLI as child processes against a 3-broker cluster (one for
 * the whole file): produce, bench produce and group delete. kafkajs checks what arrived.
 */

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let bootstrap: string;
let kafka: Kafka;
let scratch: string;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3 });
  bootstrap = local.bootstrap.join(',');
  kafka = new Kafka({ clientId: 'cli-data-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
  scratch = await mkdtemp(join(tmpdir(), 'spool-cli-data-'));
}, 60_000);

afterAll(async () => {
  await local?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const { spool, ok } = spoolCli(() => bootstrap);

interface Received {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** Subscribes a kafkajs group member from the beginning and waits for `count` records. */
async function consumeAll(
  topic: string,
  groupId: string,
  count: number,
): Promise<{ consumer: Consumer; received: Received[] }> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500 });
  const received: Received[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      received.push({
        partition,
        offset: Number(message.offset),
        key: message.key === null ? null : message.key.toString(),
        value: message.value?.toString() ?? '',
        headers,
      });
    },
  });
  const deadline = Date.now() + 20_000;
  while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return { consumer, received };
}

describe('spool produce, bench produce and group delete', () => {
  it('prints help for the new commands', async () => {
    const top = await spool(['--help'], { bootstrap: false, entry: 'bin' });
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/\n\s+produce \[options\] <topic>/);
    expect(top.stdout).toMatch(/\n\s+bench\s/);
    const produce = await spool(['produce', '--help'], { bootstrap: false });
    expect(produce.code).toBe(0);
    for (const option of ['--file', '--key-separator', '--strict-keys', '--header', '--partition', '--acks'])
      expect(produce.stdout).toContain(option);
    expect(produce.stdout).toContain('null key');
    const bench = await spool(['bench', 'produce', '--help'], { bootstrap: false });
    expect(bench.code).toBe(0);
    for (const option of ['--records', '--record-size', '--throughput', '--create-topic', '--compression'])
      expect(bench.stdout).toContain(option);
    const del = await spool(['group', 'delete', '--help'], { bootstrap: false });
    expect(del.code).toBe(0);
    expect(del.stdout).toContain('<id...>');
  }, 30_000);

  it('produces keyed lines with headers from stdin; kafkajs sees them on the murmur2 partitions; group delete', async () => {
    const topic = 'data-keyed';
    await ok(['topic', 'create', topic, '--partitions', '3']);
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => `key-${i}:value ${i}`),
      'no separator here',
      'a:b:c',
      '',
    ];
    const summary = JSON.parse(
      await ok(
        [
          '--output',
          'json',
          'produce',
          topic,
          '--key-separator',
          ':',
          '--header',
          'source=cli',
          '--header',
          'expr=a=b',
          '--compression',
          'gzip', // the codec kafkajs reads without plugins
        ],
        `${lines.join('\r\n')}\n`,
      ),
    );
    expect(summary.topic).toBe(topic);
    expect(summary.records).toBe(lines.length);
    const perPartition = summary.partitions as {
      partition: number;
      records: number;
      firstOffset: number;
      lastOffset: number;
    }[];
    expect(perPartition.reduce((sum, p) => sum + p.records, 0)).toBe(lines.length);
    for (const p of perPartition) {
      expect(p.firstOffset).toBe(0);
      expect(p.lastOffset).toBe(p.records - 1);
    }

    const { consumer, received } = await consumeAll(topic, 'data-verify', lines.length);
    try {
      expect(received).toHaveLength(lines.length);
      const partitioner = Partitioners.DefaultPartitioner();
      const partitionMetadata = [0, 1, 2].map(
        (partitionId) =>
          ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }) as PartitionMetadata,
      );
      for (let i = 0; i < 30; i++) {
        const record = received.find((r) => r.key === `key-${i}`);
        expect(record, `key-${i}`).toBeDefined();
        expect(record!.value).toBe(`value ${i}`);
        expect(record!.headers).toEqual({ source: 'cli', expr: 'a=b' });
        const expected = partitioner({ topic, partitionMetadata, message: { key: `key-${i}`, value: null } });
        expect(record!.partition, `partition of key-${i}`).toBe(expected);
      }
      expect(received.find((r) => r.key === null && r.value === 'no separator here')).toBeDefined();
      expect(received.find((r) => r.key === 'a')?.value).toBe('b:c');
      expect(received.find((r) => r.key === null && r.value === '')).toBeDefined();
      for (const p of perPartition)
        expect(received.filter((r) => r.partition === p.partition)).toHaveLength(p.records);

      // The group has a member: deleting it is refused.
      const busy = await spool(['group', 'delete', 'data-verify']);
      expectOneLineError(busy, /^error: NON_EMPTY_GROUP: group data-verify has active members/);
    } finally {
      await consumer.disconnect();
    }

    expect(await ok(['group', 'delete', 'data-verify'])).toBe('deleted group data-verify\n');
    const groups = JSON.parse(await ok(['--output', 'json', 'group', 'list']));
    expect(groups.map((g: { groupId: string }) => g.groupId)).not.toContain('data-verify');

    const unknown = await spool(['group', 'delete', 'data-no-such-group']);
    expectOneLineError(unknown, /^error: GROUP_ID_NOT_FOUND: group data-no-such-group does not exist/);
    const several = await spool(['--output', 'json', 'group', 'delete', 'data-no-1', 'data-no-2']);
    expect(several.code).toBe(1);
    expect(JSON.parse(several.stdout)).toMatchObject([
      { groupId: 'data-no-1', deleted: false, error: 'GROUP_ID_NOT_FOUND' },
      { groupId: 'data-no-2', deleted: false, error: 'GROUP_ID_NOT_FOUND' },
    ]);
    expect(several.stderr).toMatch(
      /^error: 2 of 2 groups were not deleted: data-no-1 \(GROUP_ID_NOT_FOUND\)/,
    );
  }, 90_000);

  it('produces a file to one partition, reports progress, and stops at the first line without a key under --strict-keys', async () => {
    const topic = 'data-file';
    await ok(['topic', 'create', topic, '--partitions', '2']);
    const file = join(scratch, 'records.txt');
    const count = 25_000; // more than the 10 000 sends the CLI keeps outstanding
    await writeFile(file, Array.from({ length: count }, (_, i) => `record ${i}`).join('\n'));
    const result = await spool(
      [
        'produce',
        topic,
        '--file',
        file,
        '--partition',
        '1',
        '--acks',
        '1',
        '--compression',
        'gzip',
        '--progress',
      ],
      { timeoutMs: 60_000 },
    );
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toBe(`produced ${count} records to ${topic}\n`);
    for (const line of result.stderr
      .trim()
      .split('\n')
      .filter((l) => l !== ''))
      expect(line).toMatch(/^\d+ records produced, [\d.]+ records\/sec \([\d.]+ MiB\/sec\)$/);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.find((o) => o.partition === 1)?.high).toBe(String(count));
      expect(offsets.find((o) => o.partition === 0)?.high).toBe('0');
    } finally {
      await admin.disconnect();
    }

    const strict = await spool(['produce', topic, '--key-separator', '=', '--strict-keys'], {
      input: 'a=1\nb=2\nthree\nd=4\n',
    });
    expectOneLineError(
      strict,
      /^error: line 3 has no key separator '=' \(--strict-keys\) \(2 records produced before the failure\)$/,
    );

    const badPartition = await spool(['produce', topic, '--partition', '2'], { input: 'x\n' });
    expectOneLineError(badPartition, /^error: partition 2 does not exist: topic data-file has 2 partitions/);
    const missingFile = await spool(['produce', topic, '--file', join(scratch, 'nope.txt')]);
    expectOneLineError(missingFile, /^error: cannot read --file .*nope\.txt: ENOENT/);
  }, 90_000);

  it('fails with one line and exit 1 for an unknown topic', async () => {
    const result = await spool(['produce', 'data-no-such-topic'], { input: 'hello\n' });
    expectOneLineError(result, /^error: UNKNOWN_TOPIC_OR_PARTITION: topic data-no-such-topic does not exist/);
    const bench = await spool(['bench', 'produce', '--topic', 'data-no-such-topic', '--records', '10']);
    expectOneLineError(bench, /^error: UNKNOWN_TOPIC_OR_PARTITION: topic data-no-such-topic does not exist/);
  }, 30_000);

  it('benchmarks the producer: JSON result and text progress and summary', async () => {
    const json = await spool(
      [
        '--output',
        'json',
        'bench',
        'produce',
        '--topic',
        'data-bench',
        '--create-topic',
        '--partitions',
        '3',
        '--replication-factor',
        '3',
        '--records',
        '2000',
        '--record-size',
        '100',
      ],
      { timeoutMs: 60_000 },
    );
    expect(json, json.stderr).toMatchObject({ code: 0 });
    expect(json.stderr).toContain('created topic data-bench');
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ topic: 'data-bench', records: 2000, recordSize: 100, bytes: 200_000 });
    expect(result.config).toMatchObject({ acks: 'all', compression: 'none', throughput: -1 });
    expect(result.recordsPerSec).toBeGreaterThan(0);
    expect(result.mibPerSec).toBeGreaterThan(0);
    const l = result.latencyMs;
    expect(l.count).toBe(2000);
    expect(l.min).toBeGreaterThan(0);
    expect(l.min).toBeLessThanOrEqual(l.p50);
    expect(l.p50).toBeLessThanOrEqual(l.p95);
    expect(l.p95).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    expect(l.p999).toBeLessThanOrEqual(l.max);
    expect(l.avg).toBeGreaterThan(0);
    expect(l.avg).toBeLessThanOrEqual(l.max);

    // Throttled to ~2 s with a progress window every 400 ms; the topic exists by now.
    const text = await spool(
      [
        'bench',
        'produce',
        '--topic',
        'data-bench',
        '--create-topic',
        '--records',
        '2000',
        '--record-size',
        '100',
        '--throughput',
        '1000',
        '--reporting-interval',
        '400',
        '--acks',
        '1',
        '--compression',
        'zstd',
      ],
      { timeoutMs: 60_000 },
    );
    expect(text, text.stderr).toMatchObject({ code: 0 });
    expect(text.stderr).toContain('topic data-bench exists already (3 partitions); using it');
    const progress = text.stderr.split('\n').filter((line) => line.includes('records/sec'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const line of progress)
      expect(line).toMatch(
        /^\d+ records sent, [\d.]+ records\/sec \([\d.]+ MiB\/sec\)(, [\d.]+ ms avg latency, [\d.]+ ms max latency)?\.$/,
      );
    expect(text.stdout).toMatch(
      /^2000 records sent, [\d.]+ records\/sec \([\d.]+ MiB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.\n$/,
    );
    const rate = Number(/records sent, ([\d.]+) records\/sec/.exec(text.stdout)![1]);
    expect(rate).toBeLessThanOrEqual(1100); // the throttle held
    expect(rate).toBeGreaterThan(300);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets('data-bench');
      expect(offsets.reduce((sum, o) => sum + Number(o.high), 0)).toBe(4000);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
