import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveObjects, createS3Client } from '../../../archive/archive-objects.js';
import { createDynamoDocumentClient } from '../../../broker/cluster/aws-config.js';
import { STATE_FILE } from '../../../broker/local/dev-cluster.js';
import type { RecordJson } from '../../../cli/commands/consume.js';
import { Admin, Consumer } from '../../../client/index.js';
import { createRecordBatch, encodeRecordBatch } from '../../../protocol/record-batch/index.js';
import {
  type ArchiveTarget,
  archivePartition,
  clusterPartition,
  type StoredRecord,
} from '../../helpers/archive-replay-fixtures.js';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { expectOneLineError, spoolCli } from '../../helpers/spool-cli.js';

/**
 * `spool replay` as a child process. The archive fixtures go into a running local cluster's
 * emulators (segments from a PartitionLog, committed under the cluster's own partition state), for
 * a topic the brokers know but hold no records of: every replayed record comes from S3.
 */

const TOPIC = 'archived-orders';
const PARTITIONS = 2;
const RECORDS = 400;
/** Recent, so retention on the copy's brokers keeps them. */
const T0 = Date.now() - 3600_000;

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let target: ArchiveTarget;
let dir: string;
let devState: string;
const stored: StoredRecord[][] = [];

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 1, retentionIntervalMs: 0 });
  dir = await mkdtemp(join(tmpdir(), 'spool-cli-replay-'));
  const state = local.cluster.state;
  devState = join(local.cluster.options.dataDir, STATE_FILE);
  target = {
    dynamo: createDynamoDocumentClient({
      region: 'us-east-1',
      dynamoDbEndpoint: state.dynamoDbEndpoint,
      tablePrefix: '',
    }),
    objects: new ArchiveObjects(
      createS3Client({ region: 'us-east-1', endpoint: state.s3Endpoint }),
      state.archiveBucket,
    ),
    tablePrefix: state.tablePrefix,
  };
  const admin = new Admin({ bootstrap: local.bootstrap });
  try {
    await admin.createTopics([
      { topic: TOPIC, partitions: PARTITIONS },
      { topic: `${TOPIC}-copy`, partitions: PARTITIONS },
    ]);
  } finally {
    admin.close();
  }
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const batches = Array.from({ length: RECORDS / 10 }, (_, b) =>
      encodeRecordBatch(
        createRecordBatch({
          records: Array.from({ length: 10 }, (_, i) => {
            const n = b * 10 + i;
            return {
              key: Buffer.from(`key-${partition}-${n}`),
              value: Buffer.from(`value ${partition}/${n}`),
              headers: [{ key: 'n', value: Buffer.from(String(n)) }],
              timestamp: T0 + n * 1000,
            };
          }),
        }),
      ),
    );
    const fenced = await clusterPartition(target, TOPIC, partition);
    const { records } = await archivePartition(target, fenced, batches, { dir, segmentBytes: 4096 });
    stored.push(records);
  }
}, 90_000);

afterAll(async () => {
  target?.dynamo.destroy();
  target?.objects.s3.destroy();
  await local?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const { spool, ok } = spoolCli(() => local.bootstrap.join(','));

function endpointFlags(): string[] {
  const state = local.cluster.state;
  return [
    '--s3-endpoint',
    state.s3Endpoint,
    '--dynamodb-endpoint',
    state.dynamoDbEndpoint,
    '--table-prefix',
    state.tablePrefix,
    '--bucket',
    state.archiveBucket,
  ];
}

describe('spool replay', () => {
  it('prints a partition in offset order, as text and as JSON lines, with a summary on stderr', async () => {
    const text = await spool(['replay', TOPIC, '--partition', '1', '--print-key', ...endpointFlags()]);
    expect(text, text.stderr).toMatchObject({ code: 0 });
    expect(text.stdout.trimEnd().split('\n')).toEqual(
      stored[1]!.map((r) => `${r.key!.toString()}\t${r.value!.toString()}`),
    );
    expect(text.stderr).toMatch(new RegExp(`^replayed ${RECORDS} records from 1 partition of ${TOPIC} \\(`));

    const json = await spool(['--output', 'json', 'replay', TOPIC, '--dev-state', devState, '--progress']);
    expect(json, json.stderr).toMatchObject({ code: 0 });
    const records = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RecordJson);
    for (let p = 0; p < PARTITIONS; p++)
      expect(records.filter((r) => r.partition === p)).toEqual(
        stored[p]!.map((r) => ({
          topic: TOPIC,
          partition: p,
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key!.toString(),
          value: r.value!.toString(),
          headers: { n: r.headers[0]!.value!.toString() },
        })),
      );
    // --progress off a terminal: plain progress lines, then the summary.
    expect(json.stderr).toMatch(/\] +\d+\.\d% .* MiB\/s/);
    expect(json.stderr).toContain(`replayed ${PARTITIONS * RECORDS} records from 2 partitions`);
  }, 60_000);

  it('replays offset and time ranges', async () => {
    const offsets = await ok([
      'replay',
      TOPIC,
      '--partition',
      '0',
      '--from-offset',
      '95',
      '--to-offset',
      '105',
      ...endpointFlags(),
    ]);
    expect(offsets.trimEnd().split('\n')).toEqual(stored[0]!.slice(95, 105).map((r) => r.value!.toString()));

    const from = new Date(T0 + 120_000).toISOString();
    const times = await ok([
      'replay',
      TOPIC,
      '--from-time',
      from,
      '--to-time',
      String(T0 + 130_000),
      ...endpointFlags(),
    ]);
    const want = stored.flatMap((records) =>
      records
        .filter((r) => r.timestamp >= T0 + 120_000 && r.timestamp < T0 + 130_000)
        .map((r) => r.value!.toString()),
    );
    expect(times.trimEnd().split('\n').sort()).toEqual(want.sort());
    expect(want).toHaveLength(20);
  }, 60_000);

  it('produces the replay into another topic, keeping keys, values, headers, timestamps and order', async () => {
    const result = await spool([
      'replay',
      TOPIC,
      '--to-topic',
      `${TOPIC}-copy`,
      '--same-partition',
      '--dev-state',
      devState,
    ]);
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(result.stderr).toContain(`to ${TOPIC}-copy`);

    const consumer = new Consumer<Buffer, Buffer>({ bootstrap: local.bootstrap, startFrom: 'earliest' });
    consumer.assign(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: `${TOPIC}-copy`, partition })),
    );
    const copied = new Map<number, string[]>();
    let count = 0;
    for await (const batch of consumer) {
      const list = copied.get(batch.partition) ?? [];
      for (const r of batch.records)
        list.push(
          `${r.offset} ${r.timestamp} ${r.key} ${r.value} ${r.headers.map((h) => `${h.key}=${h.value}`)}`,
        );
      copied.set(batch.partition, list);
      count += batch.records.length;
      if (count >= PARTITIONS * RECORDS) break;
    }
    for (let p = 0; p < PARTITIONS; p++)
      expect(copied.get(p)).toEqual(
        stored[p]!.map(
          (r, i) => `${i} ${r.timestamp} ${r.key} ${r.value} ${r.headers.map((h) => `${h.key}=${h.value}`)}`,
        ),
      );
  }, 60_000);

  it('fails with one line for a topic the archive does not have, or a missing target topic', async () => {
    expectOneLineError(
      await spool(['replay', 'no-such-topic', ...endpointFlags()]),
      /archive has nothing for topic no-such-topic/,
    );
    expectOneLineError(
      await spool(['replay', TOPIC, '--to-topic', 'no-such-copy', ...endpointFlags()]),
      /no-such-copy does not exist/,
    );
  }, 60_000);
});
