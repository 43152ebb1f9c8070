/**
 * One timed read of the replay benchmark, in a process of its own (so the reading client never
 * shares an event loop with s3rver, which runs in the benchmark's main process, just as the
 * consumer never shares one with the broker):
 *
 *   node --import tsx bench/replay/worker.ts '<WorkerInput as JSON>'
 *
 * Reads every record of the topic, through the broker (SDK Consumer, from earliest, no group) or
 * from the archive (ArchiveReader), and prints a WorkerResult as JSON on stdout.
 */
import { ArchiveReader, Consumer } from '../../client/index.js';

export interface WorkerInput {
  path: 'broker' | 'archive';
  topic: string;
  partitions: number;
  records: number;
  bootstrap: string[];
  archive: {
    tablePrefix: string;
    bucket: string;
    s3Endpoint: string;
    dynamoDbEndpoint: string;
    concurrency: number;
  };
}

export interface WorkerResult {
  records: number;
  /** Key and value bytes. */
  bytes: number;
  /** From creating the client to the last record. */
  elapsedMs: number;
  firstRecordMs: number;
  /** CPU time (user + system) the reading process spent, from creating the client on. */
  cpuMs: number;
}

interface Batch {
  records: readonly { key: Buffer | null; value: Buffer | null }[];
}

async function read(
  batches: AsyncIterable<Batch>,
  expected: number,
  startedAt: number,
  cpuAtStart: NodeJS.CpuUsage,
): Promise<WorkerResult> {
  let records = 0;
  let bytes = 0;
  let firstRecordMs = -1;
  for await (const batch of batches) {
    if (firstRecordMs < 0) firstRecordMs = performance.now() - startedAt;
    for (const r of batch.records) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    records += batch.records.length;
    if (records >= expected) break;
  }
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    records,
    bytes,
    elapsedMs: performance.now() - startedAt,
    firstRecordMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

async function main(input: WorkerInput): Promise<WorkerResult> {
  const startedAt = performance.now();
  const cpu = process.cpuUsage();
  if (input.path === 'archive') {
    const reader = new ArchiveReader({ ...input.archive });
    try {
      return await read(reader.replay({ topic: input.topic }), input.records, startedAt, cpu);
    } finally {
      reader.close();
    }
  }
  const consumer = new Consumer<Buffer, Buffer>({
    bootstrap: input.bootstrap,
    clientId: 'replay-bench',
    startFrom: 'earliest',
  });
  consumer.assign(
    Array.from({ length: input.partitions }, (_, partition) => ({ topic: input.topic, partition })),
  );
  try {
    return await read(consumer, input.records, startedAt, cpu);
  } finally {
    await consumer.close();
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The reader loads the AWS SDK on first use; load it before the clock starts, as the consumer's
// modules are: module loading is not what either path is measured for.
await import('../../client/archive/archive-access.js');
const result = await main(JSON.parse(process.argv[2] ?? '{}') as WorkerInput);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
