/**
 * Replay benchmark: reading a topic back from the S3 archive with the ArchiveReader, next to
 * reading the same records through a broker with the SDK Consumer.
 *
 *   npm run bench:replay -- [--runs N] [--mib N] [--partitions N] [--record-size B]
 *                           [--segment-mib N] [--concurrency N]
 *
 * Starts a local cluster (DynamoDB Local, s3rver, one broker process). The same generated records
 * go to two topics: produced with the SDK Producer into one (so they sit in the broker's local
 * log), and appended to PartitionLogs whose segments are archived into the cluster's s3rver and
 * DynamoDB Local for the other (test/helpers/archive-replay-fixtures.ts; the broker holds none of
 * them). Each run reads all records both ways, each read in a fresh child process
 * (bench/replay/worker.ts), alternating which goes first; the Markdown report has medians and the
 * throughput ratio. Progress goes to stderr, the report to stdout.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ArchiveObjects, createS3Client } from '../archive/archive-objects.js';
import { createDynamoDocumentClient } from '../broker/cluster/aws-config.js';
import { Admin, Producer } from '../client/index.js';
import { createRecordBatch, encodeRecordBatch } from '../protocol/record-batch/index.js';
import { archivePartition, clusterPartition } from '../test/helpers/archive-replay-fixtures.js';
import { startLocalCluster } from '../test/helpers/local-cluster.js';
import { describeMachine } from './machine.js';
import { InFlightLimit } from './perf/in-flight-limit.js';
import { markdownReport, type ReplaySetup, type RunPair } from './replay/report.js';
import type { WorkerInput, WorkerResult } from './replay/worker.js';

const USAGE = `Usage: npm run bench:replay -- [options]

  --runs N          measured runs, each reading the records both ways (default 5)
  --mib N           MiB of record values to write (default 64)
  --partitions N    partitions of each topic (default 4)
  --record-size B   bytes per record value (default 1000)
  --segment-mib N   archived segment size (default 8)
  --concurrency N   ArchiveReader ranged GETs in flight (default 8)`;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH_BYTES = 64 * 1024;
const LIVE = 'replay-live';
const ARCHIVED = 'replay-archived';
const log = (line: string) =>
  process.stderr.write(`[replay ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      mib: { type: 'string', default: '64' },
      partitions: { type: 'string', default: '4' },
      'record-size': { type: 'string', default: '1000' },
      'segment-mib': { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '8' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--${name} must be a positive integer\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  return {
    runs: positive('runs'),
    mib: positive('mib'),
    partitions: positive('partitions'),
    recordSize: positive('record-size'),
    segmentBytes: positive('segment-mib') * 1024 * 1024,
    concurrency: positive('concurrency'),
  };
}

/** One partition's records, as batches of about BATCH_BYTES. */
function generate(partition: number, count: number, recordSize: number) {
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / (recordSize + 20)));
  const records = Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`k${partition}-${i}`),
    value: randomBytes(recordSize),
    timestamp: Date.now(),
  }));
  const batches: Buffer[] = [];
  for (let i = 0; i < count; i += perBatch)
    batches.push(encodeRecordBatch(createRecordBatch({ records: records.slice(i, i + perBatch) })));
  return { records, batches };
}

function runWorker(input: WorkerInput): Promise<WorkerResult> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/replay/worker.ts', JSON.stringify(input)],
      { cwd: ROOT, maxBuffer: 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        if (error) fail(new Error(`${input.path} worker failed: ${stderr || error.message}`));
        else done(JSON.parse(stdout) as WorkerResult);
      },
    );
  });
}

async function main(): Promise<void> {
  const opts = options();
  // The AWS SDK's notice about future Node versions would only clutter the progress output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const perPartition = Math.ceil((opts.mib * 1024 * 1024) / opts.recordSize / opts.partitions);
  const total = perPartition * opts.partitions;
  log(`starting a local cluster`);
  const local = await startLocalCluster({ brokers: 1, logLevel: 'error', retentionIntervalMs: 0 });
  const stop = () => local.stop();
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  const dir = await mkdtemp(join(tmpdir(), 'spool-replay-bench-'));
  const state = local.cluster.state;
  const dynamo = createDynamoDocumentClient({
    region: 'us-east-1',
    dynamoDbEndpoint: state.dynamoDbEndpoint,
    tablePrefix: '',
  });
  const s3 = createS3Client({ region: 'us-east-1', endpoint: state.s3Endpoint });
  const target = {
    dynamo,
    objects: new ArchiveObjects(s3, state.archiveBucket),
    tablePrefix: state.tablePrefix,
  };
  const runs: RunPair[] = [];
  try {
    const admin = new Admin({ bootstrap: local.bootstrap });
    await admin.createTopics([LIVE, ARCHIVED].map((topic) => ({ topic, partitions: opts.partitions })));
    admin.close();

    const producer = new Producer<Buffer, Buffer>({
      bootstrap: local.bootstrap,
      batchSize: BATCH_BYTES,
      lingerMs: 5,
    });
    const limit = new InFlightLimit(2000);
    let archivedBytes = 0;
    let archivedSegments = 0;
    let payloadBytes = 0;
    for (let partition = 0; partition < opts.partitions; partition++) {
      const { records, batches } = generate(partition, perPartition, opts.recordSize);
      log(`partition ${partition}: producing ${records.length} records, archiving ${batches.length} batches`);
      for (const record of records) {
        payloadBytes += record.key.length + record.value.length;
        await limit.acquire();
        producer.send(LIVE, { ...record, partition }).then(
          () => limit.release(),
          (error: unknown) => {
            log(`produce failed: ${String(error)}`);
            process.exit(1);
          },
        );
      }
      const fenced = await clusterPartition(target, ARCHIVED, partition);
      const { segments } = await archivePartition(target, fenced, batches, {
        dir,
        segmentBytes: opts.segmentBytes,
      });
      archivedSegments += segments.length;
      archivedBytes += segments.reduce((sum, s) => sum + s.sizeBytes, 0);
    }
    await limit.drain();
    await producer.close();

    const input = (path: WorkerInput['path']): WorkerInput => ({
      path,
      topic: path === 'broker' ? LIVE : ARCHIVED,
      partitions: opts.partitions,
      records: total,
      bootstrap: local.bootstrap,
      archive: {
        tablePrefix: state.tablePrefix,
        bucket: state.archiveBucket,
        s3Endpoint: state.s3Endpoint,
        dynamoDbEndpoint: state.dynamoDbEndpoint,
        concurrency: opts.concurrency,
      },
    });
    const read = async (path: WorkerInput['path'], label: string) => {
      const result = await runWorker(input(path));
      if (result.records !== total || result.bytes !== payloadBytes)
        throw new Error(
          `${path} read ${result.records} records / ${result.bytes} B, expected ${total} / ${payloadBytes}`,
        );
      log(`${label} ${path}: ${(result.elapsedMs / 1000).toFixed(2)} s`);
      return result;
    };
    log('warm-up (untimed)');
    await read('broker', 'warm-up');
    await read('archive', 'warm-up');
    for (let run = 1; run <= opts.runs; run++) {
      const label = `run ${run}/${opts.runs}`;
      // Alternate which read goes first, so neither always gets the warmer caches.
      if (run % 2 === 1) {
        const broker = await read('broker', label);
        runs.push({ broker, archive: await read('archive', label) });
      } else {
        const archive = await read('archive', label);
        runs.push({ archive, broker: await read('broker', label) });
      }
    }
    const setup: ReplaySetup = {
      runs: opts.runs,
      partitions: opts.partitions,
      records: total,
      recordSize: opts.recordSize,
      payloadBytes,
      archivedBytes,
      archivedSegments,
      segmentBytes: opts.segmentBytes,
      concurrency: opts.concurrency,
    };
    console.log(markdownReport(describeMachine(), setup, runs));
  } finally {
    dynamo.destroy();
    s3.destroy();
    log('stopping the cluster');
    await stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
