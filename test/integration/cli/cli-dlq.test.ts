import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DlqReplaySummary } from '../../../cli/commands/dlq.js';
import { Admin, Consumer, type ConsumerRecord, Producer } from '../../../client/index.js';
import { waitFor } from '../../helpers/compat-checks.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { expectOneLineError, spoolCli } from '../../helpers/spool-cli.js';

/**
 * `spool dlq replay` as a child process, on a dead-letter topic filled by a real consumer with the
 * retry option (maxAttempts 1: failed records go straight to the dead-letter topic).
 */

const DLQ = 'billing-orders-dlq';
let local: Awaited<ReturnType<typeof startLocalCluster>>;
let bootstrap: string;
const { spool, ok } = spoolCli(() => bootstrap);

/** Every record of `topic` (from the beginning), waiting until there are `count`. */
async function readAll(topic: string, count: number): Promise<ConsumerRecord<Buffer, Buffer>[]> {
  const admin = new Admin({ bootstrap: local.bootstrap });
  const [description] = await admin.describeTopics([topic]).finally(() => admin.close());
  const consumer = new Consumer({ bootstrap: local.bootstrap, startFrom: 'earliest' });
  const seen: ConsumerRecord<Buffer, Buffer>[] = [];
  consumer.assign(description!.partitions.map((p) => ({ topic, partition: p.partition })));
  const done = consumer.run({ eachMessage: (record) => void seen.push(record) });
  try {
    await waitFor(() => seen.length >= count, 15_000, `${count} records on ${topic}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await consumer.close();
    await done;
  }
  return seen;
}

beforeAll(async () => {
  local = await startLocalCluster();
  bootstrap = local.bootstrap.join(',');
  const admin = new Admin({ bootstrap: local.bootstrap });
  await admin.createTopics([
    { topic: 'orders', partitions: 2 },
    { topic: 'orders-copy', partitions: 1 },
  ]);
  admin.close();
  const producer = new Producer<string, string>({ bootstrap: local.bootstrap, lingerMs: 0 });
  for (let i = 0; i < 3; i++)
    await producer.send('orders', { key: `k${i}`, value: `order ${i}`, headers: { trace: `t${i}` } });

  // A consumer that fails on every record: all three go to billing-orders-dlq.
  const consumer = new Consumer({
    bootstrap: local.bootstrap,
    groupId: 'billing',
    startFrom: 'earliest',
    retry: { maxAttempts: 1 },
  });
  let failures = 0;
  consumer.on('handlerFailed', () => failures++);
  consumer.subscribe('orders');
  const running = consumer.run({
    eachMessage: () => {
      throw new Error('rejected by the test');
    },
  });
  try {
    await waitFor(() => failures >= 3, 30_000, 'three dead letters');
  } finally {
    await consumer.close();
  }
  await running;
  // And one record in the dead-letter topic that did not come from a consumer's retry.
  await producer.send(DLQ, { key: 'stray', value: 'no origin' });
  await producer.close();
}, 120_000);

afterAll(async () => {
  await local?.stop();
});

describe('spool dlq replay', () => {
  it('dry run: counts per target and skipped, producing and committing nothing', async () => {
    const summary = JSON.parse(
      await ok(['--output', 'json', 'dlq', 'replay', DLQ, '--dry-run', '--group', 'replayer']),
    ) as DlqReplaySummary;
    expect(summary).toEqual({
      topic: DLQ,
      group: 'replayer',
      dryRun: true,
      read: 4,
      replayed: 3,
      targets: { orders: 3 },
      skipped: 1,
    });
    expect(await readAll('orders', 3)).toHaveLength(3);
  }, 60_000);

  it('replays into the original topic without the retry headers, once per group', async () => {
    const result = await spool(['dlq', 'replay', DLQ, '--group', 'replayer', '--progress']);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toBe(
      `replayed 3 of 4 records read from ${DLQ} (3 to orders)\nskipped 1 record without a spool-retry-original-topic header\n`,
    );
    expect(result.stderr).toMatch(/\[#+\] 100\.0%\s+4\/4 records\s+3 replayed\s+1 skipped/);

    const orders = await readAll('orders', 6);
    expect(orders).toHaveLength(6);
    const byValue = new Map<string, ConsumerRecord<Buffer, Buffer>[]>();
    for (const r of orders)
      byValue.set(r.value!.toString(), [...(byValue.get(r.value!.toString()) ?? []), r]);
    for (let i = 0; i < 3; i++) {
      const copies = byValue.get(`order ${i}`)!;
      expect(copies).toHaveLength(2); // the original and the replayed copy
      for (const copy of copies) {
        expect(copy.key!.toString()).toBe(`k${i}`);
        expect(copy.headers.map((h) => [h.key, h.value?.toString()])).toEqual([['trace', `t${i}`]]);
      }
      // Same key, same partition.
      expect(copies[0]!.partition).toBe(copies[1]!.partition);
    }

    // The group's offsets are committed: a second run has nothing left.
    const again = JSON.parse(
      await ok(['--output', 'json', 'dlq', 'replay', DLQ, '--group', 'replayer']),
    ) as DlqReplaySummary;
    expect(again).toMatchObject({ read: 0, replayed: 0, skipped: 0 });
  }, 60_000);

  it('--to-topic and --limit: the first records, all into one topic', async () => {
    const summary = JSON.parse(
      await ok(['--output', 'json', 'dlq', 'replay', DLQ, '--to-topic', 'orders-copy', '--limit', '2']),
    ) as DlqReplaySummary;
    expect(summary).toMatchObject({ group: null, read: 2, replayed: 2, targets: { 'orders-copy': 2 } });
    const copies = await readAll('orders-copy', 2);
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect(copy.headers.every((h) => !h.key.startsWith('spool-'))).toBe(true);
  }, 60_000);

  it('fails with one line for a missing dead-letter or target topic', async () => {
    expectOneLineError(await spool(['dlq', 'replay', 'no-such-dlq']), /topic no-such-dlq does not exist/);
    expectOneLineError(
      await spool(['dlq', 'replay', DLQ, '--to-topic', 'no-such-target']),
      /stopped after 0 records: .*topic no-such-target does not exist/,
    );
  }, 60_000);
});
