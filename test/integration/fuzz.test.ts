import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { decodeRecordBatches } from '../../protocol/record-batch/index.js';
import { startLocalCluster } from '../helpers/local-cluster.js';

/**
 * Sends 10,000 random and mutated request frames to a live broker process while a well-behaved
 * kafkajs client keeps producing. The broker must keep serving that client, never crash, and
 * store only valid batches.
 */
const FRAMES = Number(process.env.SPOOL_FUZZ_FRAMES ?? 10_000);
const corpus = (
  JSON.parse(readFileSync(new URL('../golden/client-requests.json', import.meta.url), 'utf8')) as {
    hex: string;
  }[]
).map((s) => Buffer.from(s.hex, 'hex'));

let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  // Every malformed frame is a (deliberate) warning; keep the test output readable.
  env = await startLocalCluster({ logLevel: 'error', leaseMs: 3000 });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

/** A small deterministic PRNG, so a failure can be replayed with SPOOL_FUZZ_SEED. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(random: () => number): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  const base = Buffer.from(corpus[pick(corpus.length)]!);
  switch (pick(8)) {
    case 0: // flip a few bytes anywhere
      for (let i = 0, n = 1 + pick(4); i < n; i++) base[pick(base.length)] = pick(256);
      return base;
    case 1: // truncate
      return base.subarray(0, pick(base.length));
    case 2: // trailing garbage
      return Buffer.concat([base, Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256)))]);
    case 3: // an unknown api key or a version nobody supports
      base.writeInt16BE(pick(2) === 0 ? 1000 + pick(30000) : base.readInt16BE(0), 0);
      base.writeInt16BE(pick(2) === 0 ? 50 + pick(1000) : -1 - pick(100), 2);
      return base;
    case 4: // pure noise
      return Buffer.from(Array.from({ length: pick(200) }, () => pick(256)));
    case 5: // a huge length or count where a small one belongs
      if (base.length > 16) base.writeInt32BE(0x7ffffff0 - pick(1000), 10 + pick(base.length - 14));
      return base;
    default: // a valid frame, unchanged: the broker must still answer it
      return base;
  }
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Sends frames on one connection, pipelined, then waits for the broker to answer or close. */
function sendOnConnection(port: number, frames: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 1500);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => undefined);
    socket.write(Buffer.concat(frames), () => socket.end());
  });
}

describe('fuzzing a live broker', () => {
  it(`survives ${FRAMES} random and mutated frames while serving a real client`, async () => {
    const seed = Number(process.env.SPOOL_FUZZ_SEED ?? Date.now() % 1e9);
    const random = prng(seed);
    // Printed up front so any failure, including a client timeout, can be replayed.
    console.info(`fuzz seed ${seed} (replay with SPOOL_FUZZ_SEED=${seed})`);
    const port = Number(env.bootstrap[0]!.split(':')[1]);
    const kafka = new Kafka({ brokers: env.bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['golden', 'golden2', 'healthy'].map((topic) => ({ topic, numPartitions: 2 })),
    });

    const producer = kafka.producer();
    await producer.connect();
    let healthySent = 0;
    let fuzzing = true;
    const healthy = (async () => {
      while (fuzzing) {
        await producer.send({
          topic: 'healthy',
          acks: -1,
          messages: [{ key: 'h', value: String(healthySent) }],
        });
        healthySent++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    let sent = 0;
    const perConnection = 40;
    while (sent < FRAMES) {
      const batches = Array.from({ length: 4 }, () => {
        const frames = Array.from({ length: perConnection }, () => frame(mutate(random)));
        // Now and then, a size prefix no frame can have: the broker must close the connection.
        if (random() < 0.05) frames.push(Buffer.from([0x80, 0, 0, 0]));
        return frames;
      });
      await Promise.all(batches.map((frames) => sendOnConnection(port, frames)));
      sent += 4 * perConnection;
    }
    fuzzing = false;
    await healthy;

    // The broker process is alive and still serves the well-behaved client.
    const brokerPid = env.cluster.state.brokers[0]!.pid;
    expect(() => process.kill(brokerPid, 0), `seed ${seed}`).not.toThrow();
    expect(healthySent).toBeGreaterThan(10);
    const [offsets] = await admin.fetchTopicOffsets('healthy').then((o) => [o]);
    expect(offsets!.reduce((sum, p) => sum + Number(p.high), 0)).toBe(healthySent);
    await producer.disconnect();
    await admin.disconnect();

    // Everything stored is valid: stop the broker cleanly and read every log back with CRC checks.
    const dataDir = env.cluster.state.brokers[0]!.dataDir;
    await env.cluster.stopBroker(0);
    for (const dir of await readdir(dataDir)) {
      if (!/-\d+$/.test(dir)) continue;
      const log = await PartitionLog.open(join(dataDir, dir));
      let offset = log.logStartOffset;
      while (offset < log.logEndOffset) {
        const read = await log.read(offset, 1 << 20);
        const batches = decodeRecordBatches(read.records, { verifyCrc: true });
        expect(batches.length, `${dir} at ${offset} (seed ${seed})`).toBeGreaterThan(0);
        for (const batch of batches) expect(batch.records.length).toBe(batch.lastOffsetDelta + 1);
        offset = read.nextOffset;
      }
      await log.close();
    }
    await env.cluster.startBroker(0);
  }, 180_000);
});
