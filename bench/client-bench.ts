/**
 * Client benchmark: Spool's SDK next to kafkajs, end to end against the same local Spool cluster.
 *
 *   npm run bench:clients -- [--brokers N] [--runs N] [--records N] [--e2e-records N]
 *                            [--e2e-rate N] [--kafkajs-no-idempotence] [--json]
 *
 * Starts a local cluster (DynamoDB Local, s3rver, broker processes) and runs three cases per client,
 * each on a fresh topic: produce throughput (acks=all, 100 B records), consume throughput (the
 * produce run's records, from the earliest offset) and end-to-end latency at a paced rate. Both
 * clients go through the same runners (bench/perf/), adapted in bench/clients/. The machine is
 * assumed noisy: every case runs SDK then kafkajs back to back in each run (ABAB), figures are
 * medians and the headline is the median of the per-run ratios. Progress goes to stderr, the
 * Markdown table (or --json) to stdout.
 */
import { parseArgs } from 'node:util';
import { Admin } from '../client/index.js';
import { waitForHealthy } from '../test/chaos/cluster/topology.js';
import { startLocalCluster } from '../test/helpers/local-cluster.js';
import type { BenchClient, ClientName, TopicLayout } from './clients/client.js';
import { KafkajsClient } from './clients/kafkajs.js';
import { type ClientRun, jsonReport, markdownReport, type RunPair, summarize } from './clients/report.js';
import { SdkClient } from './clients/sdk.js';
import { describeMachine, describeMachineLine } from './machine.js';
import { formatConsumerPerfResult } from './perf/consumer-perf.js';
import { formatEndToEndResult } from './perf/end-to-end-perf.js';
import { formatProducerPerfResult } from './perf/producer-perf.js';

const USAGE = `Usage: npm run bench:clients -- [options]

  --brokers N               brokers in the local cluster (default 3; topics get RF min(3, N))
  --runs N                  measured runs per case and client (default 5)
  --records N               records of 100 B per produce / consume run (default 200000)
  --e2e-records N           records per end-to-end run (default 5000)
  --e2e-rate N              end-to-end send rate, records/s (default 1000)
  --kafkajs-no-idempotence  kafkajs producer with acks -1 but not idempotent
  --json                    print JSON instead of Markdown (use npm run -s for clean stdout)`;

const PARTITIONS = 3;
const RECORD_SIZE = 100;

const progress = (line: string) =>
  process.stderr.write(`[clients ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: '3' },
      runs: { type: 'string', default: '5' },
      records: { type: 'string', default: '200000' },
      'e2e-records': { type: 'string', default: '5000' },
      'e2e-rate': { type: 'string', default: '1000' },
      'kafkajs-no-idempotence': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    brokers: positive('brokers', values.brokers),
    runs: positive('runs', values.runs),
    records: positive('records', values.records),
    e2eRecords: positive('e2e-records', values['e2e-records']),
    e2eRate: positive('e2e-rate', values['e2e-rate']),
    kafkajsIdempotent: !values['kafkajs-no-idempotence'],
    json: values.json,
  };
}

type Options = ReturnType<typeof parseOptions>;

async function main(): Promise<void> {
  const options = parseOptions();
  const replicationFactor = Math.min(3, options.brokers);
  const loadAverageAtStart = describeMachine().loadAverage;
  // The broker processes outlive this one unless stopped: stop them on signals and crashes too,
  // also when one comes while the cluster is still starting.
  let env: Awaited<ReturnType<typeof startLocalCluster>> | undefined;
  let stopped: Promise<void> | undefined;
  const stopCluster = () => {
    stopped ??= env?.stop() ?? Promise.resolve();
    return stopped;
  };
  let aborting = false;
  const abort = (why: string, error?: unknown) => {
    if (aborting) return;
    aborting = true;
    const detail = error === undefined ? '' : `: ${String((error as Error)?.stack ?? error)}`;
    progress(`${why}${detail}; stopping the cluster`);
    if (env) void stopCluster().finally(() => process.exit(1));
  };
  process.on('SIGINT', () => abort('interrupted'));
  process.on('SIGTERM', () => abort('terminated'));
  process.on('unhandledRejection', (error) => abort('unhandled rejection', error));
  process.on('uncaughtException', (error) => abort('uncaught exception', error));

  progress(`starting a ${options.brokers}-broker cluster`);
  env = await startLocalCluster({ brokers: options.brokers, logLevel: 'error' });
  if (aborting) {
    await stopCluster();
    process.exit(1);
  }

  const admin = new Admin({ bootstrap: env.bootstrap, clientId: 'client-bench' });
  const sdk = new SdkClient(env.bootstrap);
  const kafkajs = new KafkajsClient({
    bootstrap: env.bootstrap,
    partitions: PARTITIONS,
    idempotent: options.kafkajsIdempotent,
    onProblem: (line) => progress(line),
  });
  const clients: BenchClient[] = [sdk, kafkajs];
  const runs: RunPair[] = [];
  try {
    await admin.connect();
    progress(`Machine: ${describeMachineLine(describeMachine())}`);
    const createTopic = async (topic: string): Promise<TopicLayout> => {
      await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor }]);
      await waitForHealthy(env.cluster, topic, PARTITIONS, options.brokers, 60_000);
      const [described] = await admin.describeTopics([topic]);
      const partitions = described!.partitions.map((p) => ({ topic, partition: p.partition }));
      return { partitions, leaders: [...new Set(described!.partitions.map((p) => p.leader))] };
    };

    progress('warm-up (untimed)');
    const warmUp = { ...options, records: Math.min(options.records, 20_000), e2eRecords: 1_000 };
    await runOnce('warm-up', clients, warmUp, createTopic);
    for (let run = 1; run <= options.runs; run++) {
      runs.push(await runOnce(`run ${run}/${options.runs}`, clients, options, createTopic));
    }
  } finally {
    admin.close();
    progress('stopping the cluster');
    await stopCluster();
  }

  const machine = describeMachine();
  const summaries = summarize(runs);
  const setup = {
    brokers: options.brokers,
    partitions: PARTITIONS,
    replicationFactor,
    runs: options.runs,
    records: options.records,
    recordSize: RECORD_SIZE,
    e2eRecords: options.e2eRecords,
    e2eRate: options.e2eRate,
    clientSettings: clients.map((c) => c.settings),
    problems: kafkajs.problems,
    loadAverageAtStart,
  };
  console.log(
    options.json ? jsonReport(machine, setup, summaries, runs) : markdownReport(machine, setup, summaries),
  );
}

/** One run: each case for each client, back to back, each on a fresh topic. */
async function runOnce(
  label: string,
  clients: readonly BenchClient[],
  options: Pick<Options, 'records' | 'e2eRecords' | 'e2eRate'>,
  createTopic: (topic: string) => Promise<TopicLayout>,
): Promise<RunPair> {
  const tag = label.replace(/\W+/g, '-');
  const results: Partial<Record<ClientName, Partial<ClientRun>>> = {};
  const layouts = new Map<string, TopicLayout>();
  for (const client of clients) {
    results[client.name] = {};
    for (const kind of ['data', 'e2e'])
      layouts.set(`${client.name}-${kind}`, await createTopic(`clients-${tag}-${client.name}-${kind}`));
  }
  const data = (client: BenchClient) => {
    const layout = layouts.get(`${client.name}-data`)!;
    return {
      layout,
      run: { topic: layout.partitions[0]!.topic, records: options.records, recordSize: RECORD_SIZE },
    };
  };
  for (const client of clients) {
    const result = await client.produce(data(client).run);
    results[client.name]!.produce = result;
    progress(`${label} ${client.name} produce: ${formatProducerPerfResult(result)}`);
  }
  for (const client of clients) {
    const { run, layout } = data(client);
    const result = await client.consume(run, layout);
    results[client.name]!.consume = result;
    progress(`${label} ${client.name} consume: ${formatConsumerPerfResult(result)}`);
  }
  for (const client of clients) {
    const layout = layouts.get(`${client.name}-e2e`)!;
    const run = {
      topic: layout.partitions[0]!.topic,
      records: options.e2eRecords,
      recordSize: RECORD_SIZE,
      rate: options.e2eRate,
    };
    const result = await client.endToEnd(run, layout);
    results[client.name]!.e2e = result;
    progress(`${label} ${client.name} e2e: ${formatEndToEndResult(result)}`);
  }
  return results as RunPair;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
