import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster } from '../helpers/local-cluster.js';

/**
 * librdkafka (through kcat, Debian's build of librdkafka 2.x; .ci/run installs it) against a real
 * `spool dev` cluster: it negotiates its own version ranges, produces with every codec, and
 * consumes in a balanced consumer group that commits offsets.
 */
const TOPIC = 'compat-librdkafka';
let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  env = await startLocalCluster();
  const admin = new Kafka({ brokers: env.bootstrap, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 4 }] });
  await admin.disconnect();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

function kcat(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', env.bootstrap.join(','), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

describe('librdkafka (kcat) against spool dev', () => {
  it('produces keyed records with every codec', async () => {
    for (const [index, codec] of ['none', 'gzip', 'snappy', 'lz4', 'zstd'].entries()) {
      const lines = Array.from({ length: 200 }, (_, i) => `key-${i % 10}:${codec}-${index * 200 + i}`).join(
        '\n',
      );
      const result = await kcat(['-P', '-t', TOPIC, '-K:', '-z', codec, '-X', 'acks=all'], `${lines}\n`);
      expect(result.code, result.stderr).toBe(0);
    }
    const admin = new Kafka({ brokers: env.bootstrap, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1000);
  }, 120_000);

  it('consumes everything in a balanced consumer group, in order per key, and commits', async () => {
    const result = await kcat([
      '-G',
      'compat-rdk-group',
      TOPIC,
      '-o',
      'beginning',
      '-e',
      '-f',
      '%k\t%s\n',
      '-X',
      'auto.offset.reset=earliest',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string]);
    expect(records).toHaveLength(1000);
    const byKey = new Map<string, number[]>();
    for (const [key, value] of records)
      byKey.set(key, [...(byKey.get(key) ?? []), Number(value.split('-')[1])]);
    expect(byKey.size).toBe(10);
    for (const [, seqs] of byKey) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const admin = new Kafka({ brokers: env.bootstrap, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: 'compat-rdk-group', topics: [TOPIC] });
    const ends = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();
    for (const end of ends) {
      expect(committed!.partitions.find((p) => p.partition === end.partition)?.offset).toBe(end.high);
    }
  }, 120_000);
});
