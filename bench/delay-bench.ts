/**
 * Delayed-delivery lateness: how long after its due time a scheduled record reaches a consumer.
 *
 *   npm run bench:delay -- [--records N] [--runs N] [--max-delay-ms N] [--brokers N]
 *
 * Starts a local cluster (DynamoDB Local, s3rver, broker processes). Each run schedules N records
 * with the SDK (deliverAt, uniform between 1 s and --max-delay-ms), while an SDK consumer reads
 * the target topic and notes when each arrives. Lateness = arrival - due time, which includes the
 * consumer's own fetch latency, so it is what an application sees. The Markdown report has each
 * run's p50, p99 and max and their medians. Progress goes to stderr, the report to stdout.
 */
import { parseArgs } from 'node:util';
import { Admin, Consumer, Producer } from '../client/index.js';
import { startLocalCluster } from '../test/helpers/local-cluster.js';
import { describeMachine, describeMachineLine } from './machine.js';

const log = (line: string) =>
  process.stderr.write(`[delay ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    'max-delay-ms': { type: 'string', default: '20000' },
    brokers: { type: 'string', default: '1' },
  },
});
const RECORDS = Number(values.records);
const RUNS = Number(values.runs);
const MAX_DELAY_MS = Number(values['max-delay-ms']);
const BROKERS = Number(values.brokers);

interface RunResult {
  p50: number;
  p99: number;
  max: number;
  early: number;
}

async function run(bootstrap: string[], topic: string): Promise<RunResult> {
  const admin = new Admin({ bootstrap });
  await admin.createTopics([{ topic, partitions: 3, replicationFactor: Math.min(3, BROKERS) }]);
  admin.close();
  const due = new Map<string, number>();
  const arrived = new Map<string, number>();
  const consumer = new Consumer<Buffer, string>({
    bootstrap,
    startFrom: 'earliest',
    maxWaitMs: 100,
    valueDeserializer: { deserialize: (b) => b.toString() },
  });
  consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
  const consuming = consumer.run({
    eachMessage: (record) => {
      if (record.value && !arrived.has(record.value)) arrived.set(record.value, Date.now());
    },
  });
  const producer = new Producer<string, string>({ bootstrap, lingerMs: 5 });
  for (let chunk = 0; chunk < RECORDS; chunk += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, RECORDS - chunk) }, async (_, j) => {
        const dueAt = Date.now() + 1000 + Math.floor(Math.random() * (MAX_DELAY_MS - 1000));
        due.set(`r${chunk + j}`, dueAt);
        await producer.send(topic, { value: `r${chunk + j}`, deliverAt: dueAt });
      }),
    );
  }
  await producer.close();
  log(`${RECORDS} scheduled; waiting for deliveries`);
  const deadline = Date.now() + MAX_DELAY_MS + 120_000;
  while (arrived.size < RECORDS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await consumer.close();
  await consuming.catch(() => undefined);
  if (arrived.size < RECORDS) throw new Error(`only ${arrived.size} of ${RECORDS} records arrived`);
  const lateness = [...due].map(([value, dueAt]) => arrived.get(value)! - dueAt).sort((a, b) => a - b);
  const at = (q: number) => lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: lateness.at(-1)!, early: lateness.filter((l) => l < 0).length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const machine = describeMachine();
const env = await startLocalCluster({ brokers: BROKERS, logLevel: 'error' });
const results: RunResult[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    log(`run ${i + 1}/${RUNS}`);
    results.push(await run(env.bootstrap, `delay-bench-${i}`));
    log(`p50 ${results.at(-1)!.p50} ms, p99 ${results.at(-1)!.p99} ms, max ${results.at(-1)!.max} ms`);
  }
} finally {
  await env.stop();
}
const lines = [
  `Delayed delivery lateness: ${RECORDS} records per run, delays uniform in 1 s to ${MAX_DELAY_MS / 1000} s, ${BROKERS} broker(s), ${RUNS} runs.`,
  `Machine: ${describeMachineLine(machine)}.`,
  '',
  '| run | p50 (ms) | p99 (ms) | max (ms) | delivered early |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...results.map((r, i) => `| ${i + 1} | ${r.p50} | ${r.p99} | ${r.max} | ${r.early} |`),
  `| **median** | **${median(results.map((r) => r.p50))}** | **${median(results.map((r) => r.p99))}** | **${median(results.map((r) => r.max))}** | ${results.reduce((s, r) => s + r.early, 0)} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
