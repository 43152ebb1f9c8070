import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../../client/admin/index.js';
import { Producer } from '../../../client/producer/index.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';

/**
 * Delivery modes under fire: consumer processes (test/helpers/consumer-worker.ts) are SIGKILLed in
 * the middle of processing, twice, and a third one finishes the topic. atLeastOnce must lose
 * nothing (every record's handler completed at least once); atMostOnce must deliver nothing twice
 * (no handler started twice for a record).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const RECORDS = 600;

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let admin: Admin;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3 });
  admin = new Admin({ bootstrap: local.bootstrap, clientId: 'delivery-it' });
  await admin.connect();
  dir = await mkdtemp(join(tmpdir(), 'spool-delivery-'));
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  admin?.close();
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

function startWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/consumer-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, SPOOL_BOOTSTRAP: local.bootstrap.join(','), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function entries(log: string, kind: 'start' | 'done'): string[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${kind} `))
    .map((line) => line.slice(kind.length + 1));
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

describe.each([
  ['atLeastOnce', { INSTANCE: 'worker' }],
  ['atMostOnce', {}],
] as const)('%s', (mode, membership) => {
  it('keeps its promise when consumers are killed mid-processing', async () => {
    const topic = `delivery-${mode}-${Date.now().toString(36)}`;
    await admin.createTopics([{ topic, partitions: 3, replicationFactor: 3 }]);
    const producer = new Producer({ bootstrap: local.bootstrap });
    const produced = await Promise.all(
      Array.from({ length: RECORDS }, (_, i) => producer.send(topic, { key: `k${i}`, value: `v${i}` })),
    );
    await producer.close();
    const all = produced.map((m) => `${m.partition}:${m.offset}`);

    const log = join(dir, `${topic}.log`);
    const env = { TOPIC: topic, GROUP: `g-${topic}`, MODE: mode, LOG: log, ...membership };
    for (const killAt of [RECORDS / 4, RECORDS / 2]) {
      const worker = startWorker(env);
      await waitUntil(() => entries(log, 'done').length >= killAt, 60_000);
      await kill(worker, 'SIGKILL');
    }
    const last = startWorker(env);
    await waitUntil(async () => {
      const committed = await admin.fetchOffsets(`g-${topic}`, [topic]);
      return committed.reduce((sum, c) => sum + Math.max(0, c.offset), 0) === RECORDS;
    }, 60_000);
    if (mode === 'atLeastOnce') await waitUntil(() => new Set(entries(log, 'done')).size === RECORDS, 10_000);
    await kill(last, 'SIGTERM');

    const started = entries(log, 'start');
    const done = new Set(entries(log, 'done'));
    // (Typical runs: atLeastOnce re-delivers ~15 records after the kills, atMostOnce loses ~20.)
    if (mode === 'atLeastOnce') {
      expect(all.filter((r) => !done.has(r))).toEqual([]);
    } else {
      const twice = started.filter((r, i) => started.indexOf(r) !== i);
      expect(twice).toEqual([]);
      expect(started.every((r) => all.includes(r))).toBe(true);
    }
  }, 150_000);
});
