import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordJson } from '../../../cli/commands/consume.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { expectOneLineError, spoolCli } from '../../helpers/spool-cli.js';

/**
 * `spool consume`, `spool bench consume` and `spool bench e2e` as child processes against a
 * 2-broker cluster (one for the whole file). Records are written with `spool produce` or kafkajs.
 */

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let bootstrap: string;
let kafka: Kafka;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 2 });
  bootstrap = local.bootstrap.join(',');
  kafka = new Kafka({ clientId: 'cli-consume-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  await local?.stop();
});

const { spool, ok } = spoolCli(() => bootstrap);

function jsonLines(stdout: string): RecordJson[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RecordJson);
}

async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

describe('spool consume', () => {
  it('prints every partition from the earliest offset: values, keys, headers and metadata; JSON lines', async () => {
    const topic = 'consume-all';
    await ok(['topic', 'create', topic, '--partitions', '3', '--replication-factor', '2']);
    const lines = Array.from({ length: 30 }, (_, i) => `key-${i}:value ${i}`);
    await ok(['produce', topic, '--key-separator', ':', '--header', 'source=test'], `${lines.join('\n')}\n`);

    const text = await spool(
      ['consume', topic, '--from', 'earliest', '--max-messages', '30', '--print-key', '--print-headers'],
      { timeoutMs: 30_000 },
    );
    expect(text, text.stderr).toMatchObject({ code: 0 });
    expect(text.stderr).toContain('consumed 30 records');
    const printed = text.stdout.trimEnd().split('\n');
    expect(printed.sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `source=test\tkey-${i}\tvalue ${i}`).sort(),
    );

    const json = await spool([
      '--output',
      'json',
      'consume',
      topic,
      '--from',
      'earliest',
      '--max-messages',
      '30',
    ]);
    expect(json, json.stderr).toMatchObject({ code: 0 });
    const records = jsonLines(json.stdout);
    expect(records).toHaveLength(30);
    expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
    for (const record of records) {
      expect(record.topic).toBe(topic);
      expect(record.value).toBe(`value ${record.key!.slice('key-'.length)}`);
      expect(record.headers).toEqual({ source: 'test' });
      expect(record.timestamp).toBeGreaterThan(Date.now() - 120_000);
    }
    // Per partition, offsets are handed out in order from 0 without gaps.
    for (const partition of new Set(records.map((r) => r.partition))) {
      const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }

    const metadata = await ok([
      'consume',
      topic,
      '--from',
      'earliest',
      '--max-messages',
      '1',
      '--print-metadata',
    ]);
    expect(metadata).toMatch(/^consume-all\[\d\]@0 \d{4}-\d\d-\d\dT[\d:.]+Z\tvalue \d+\n$/);
  }, 90_000);

  it('reads only the chosen partitions, from a timestamp, and stops after a quiet --timeout-ms', async () => {
    const topic = 'consume-partition';
    await ok(['topic', 'create', topic, '--partitions', '2']);
    const producer = kafka.producer();
    await producer.connect();
    try {
      const base = Date.now() - 60_000;
      await producer.send({
        topic,
        messages: Array.from({ length: 10 }, (_, i) => ({
          partition: i % 2,
          value: `m${i}`,
          timestamp: String(base + i * 1000),
        })),
      });
      const one = await spool([
        'consume',
        topic,
        '--from',
        'earliest',
        '--partition',
        '1',
        '--timeout-ms',
        '1500',
      ]);
      expect(one, one.stderr).toMatchObject({ code: 0 });
      expect(one.stdout.trimEnd().split('\n')).toEqual(['m1', 'm3', 'm5', 'm7', 'm9']);
      expect(one.stderr).toContain('consumed 5 records');

      // From the 6th record's timestamp on: m6..m9 across both partitions.
      const since = new Date(base + 6000).toISOString();
      const late = await spool(['consume', topic, '--from', since, '--timeout-ms', '1500']);
      expect(late, late.stderr).toMatchObject({ code: 0 });
      expect(late.stdout.trimEnd().split('\n').sort()).toEqual(['m6', 'm7', 'm8', 'm9']);

      const quiet = await spool(['consume', topic, '--timeout-ms', '1000']);
      expect(quiet, quiet.stderr).toMatchObject({ code: 0, stdout: '' });
      expect(quiet.stderr).toContain('consumed 0 records');
    } finally {
      await producer.disconnect();
    }
  }, 90_000);

  it('consumes as a group member: commits what it printed, and the next run goes on from there', async () => {
    const topic = 'consume-group';
    await ok(['topic', 'create', topic, '--partitions', '1']);
    const values = Array.from({ length: 10 }, (_, i) => `g${i}`);
    await ok(['produce', topic], `${values.join('\n')}\n`);

    const first = await spool([
      'consume',
      topic,
      '--group',
      'cli-g',
      '--from',
      'earliest',
      '--max-messages',
      '4',
    ]);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    expect(first.stdout.trimEnd().split('\n')).toEqual(values.slice(0, 4));
    expect(await committedOffsets('cli-g', topic)).toEqual([4]);

    // The member left on exit, so the group is empty and the next run joins at once.
    const group = JSON.parse(await ok(['--output', 'json', 'group', 'describe', 'cli-g']));
    expect(group.members).toEqual([]);

    const second = await spool(['consume', topic, '--group', 'cli-g', '--timeout-ms', '1500']);
    expect(second, second.stderr).toMatchObject({ code: 0 });
    expect(second.stdout.trimEnd().split('\n')).toEqual(values.slice(4));
    expect(await committedOffsets('cli-g', topic)).toEqual([10]);
  }, 90_000);

  it('stops cleanly on SIGINT, committing what it printed', async () => {
    const topic = 'consume-sigint';
    await ok(['topic', 'create', topic, '--partitions', '1']);
    await ok(['produce', topic], 'x\ny\nz\n');
    let output = '';
    const result = await spool(['consume', topic, '--group', 'cli-sigint', '--from', 'earliest'], {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.split('\n').length > 3) child.kill('SIGINT');
        });
      },
    });
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: 'x\ny\nz\n' });
    expect(result.stderr).toContain('consumed 3 records');
    expect(await committedOffsets('cli-sigint', topic)).toEqual([3]);
  }, 90_000);

  it('fails with one line and exit 1 on an unknown topic or conflicting flags', async () => {
    expectOneLineError(
      await spool(['consume', 'consume-no-such-topic', '--timeout-ms', '1000']),
      /^error: UNKNOWN_TOPIC_OR_PARTITION\b.*consume-no-such-topic/,
    );
    expectOneLineError(
      await spool(['consume', 'consume-all', '--group', 'g', '--partition', '0']),
      /^error: --partition reads without a group/,
    );
    // Usage errors from the argument parser add a hint to --help on a second line.
    const badFrom = await spool(['consume', 'consume-all', '--from', 'yesterday-ish']);
    expect(badFrom).toMatchObject({ code: 1, stdout: '' });
    expect(badFrom.stderr).toMatch(
      /^error: option '--from <position>' argument 'yesterday-ish' is invalid\. .*not earliest, latest/,
    );
  }, 60_000);
});

describe('spool bench consume and bench e2e', () => {
  it('reads a backlog and reports throughput as JSON; stops on the idle timeout with exit 1 when short', async () => {
    const topic = 'bench-consume';
    await ok([
      'bench',
      'produce',
      '--topic',
      topic,
      '--create-topic',
      '--partitions',
      '2',
      '--records',
      '3000',
    ]);
    const json = await spool(['--output', 'json', 'bench', 'consume', '--topic', topic, '--records', '3000']);
    expect(json, json.stderr).toMatchObject({ code: 0 });
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ topic, records: 3000, bytes: 300_000, timedOut: false });
    expect(result.recordsPerSec).toBeGreaterThan(0);
    expect(result.firstRecordMs).toBeGreaterThan(0);
    expect(result.pollWaitMs.p50).toBeLessThanOrEqual(result.pollWaitMs.max);

    const short = await spool(
      ['bench', 'consume', '--topic', topic, '--records', '5000', '--idle-timeout-ms', '1000'],
      { timeoutMs: 30_000 },
    );
    expect(short.code).toBe(1);
    expect(short.stdout).toMatch(/^3000 records consumed \(0\.29 MiB\) in .*stopped: no records arrived/);
  }, 90_000);

  it('measures produce-to-consume latency for every record', async () => {
    const topic = 'bench-e2e';
    const json = await spool(
      [
        '--output',
        'json',
        'bench',
        'e2e',
        '--topic',
        topic,
        '--create-topic',
        '--partitions',
        '2',
        '--replication-factor',
        '2',
        '--records',
        '400',
        '--throughput',
        '400',
        '--reporting-interval',
        '300',
      ],
      { timeoutMs: 60_000 },
    );
    expect(json, json.stderr).toMatchObject({ code: 0 });
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ topic, records: 400, recordSize: 100, missing: 0 });
    expect(result.config).toMatchObject({ acks: 'all', throughput: 400 });
    const l = result.latencyMs;
    expect(l.count).toBe(400);
    expect(l.min).toBeGreaterThan(0);
    expect(l.p50).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.max);
    expect(
      json.stderr.split('\n').filter((line) => line.includes('records/sec')).length,
    ).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
