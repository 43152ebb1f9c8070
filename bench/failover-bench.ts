/**
 * Failover benchmark: how long a partition is unwritable when its leader dies.
 *
 *   npm run bench:failover -- [--runs N] [--json]      (or SPOOL_FAILOVER_RUNS=N)
 *
 * Starts a local 3-broker cluster (DynamoDB Local, s3rver, broker processes), creates a topic with
 * replication factor 3 and min.insync.replicas 2, and runs a writer that sends acks=all writes one
 * after another (bench/failover/writer.ts). Each run SIGKILLs the partition's current leader and
 * measures the time from the kill to the first write acknowledged by the new leader; then restarts
 * the killed broker, waits for the ISR to be full again and for the writer to be writing, and
 * repeats. Prints a Markdown table with the median, p90 (from 10 runs) and max, and the machine.
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { runningBrokers, waitFor, waitForHealthy } from '../test/chaos/cluster/topology.js';
import { sleep } from '../test/chaos/cluster/wire.js';
import { startLocalCluster } from '../test/helpers/local-cluster.js';
import { type FailoverRun, markdownReport } from './failover/report.js';
import { AcksAllWriter } from './failover/writer.js';

const USAGE = `Usage: npm run bench:failover -- [--runs N] [--json]

Kills the leader of an RF 3 / min.insync.replicas 2 partition N times (default 10, or
SPOOL_FAILOVER_RUNS) under a tight acks=all writer and reports the failover times.`;

const TOPIC = 'failover';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: process.env.SPOOL_FAILOVER_RUNS ?? '10' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs must be a positive integer\n\n${USAGE}`);
    process.exit(2);
  }

  const progress = (line: string) =>
    process.stderr.write(`[failover ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
  const env = await startLocalCluster({ brokers: 3, logLevel: 'error' });
  const { cluster } = env;
  const writer = new AcksAllWriter(TOPIC, () => runningBrokers(cluster));
  const results: FailoverRun[] = [];
  try {
    const kafka = new Kafka({
      clientId: 'failover-bench',
      brokers: env.bootstrap,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: TOPIC,
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
    });
    await admin.disconnect();
    await waitForHealthy(cluster, TOPIC, 1, 3, 60_000);
    writer.start();

    for (let run = 1; run <= runs; run++) {
      // Steady state first: full ISR, and the writer being acknowledged.
      const meta = await waitForHealthy(cluster, TOPIC, 1, 3, 120_000);
      const since = Date.now();
      await waitFor('the writer to be acknowledged', async () => writer.firstAckAfter(since, -1), 30_000);
      await sleep(500);
      const killed = meta.partitions[0]!.leader;

      const killedAt = Date.now();
      const exited = cluster.stopBroker(killed, 'SIGKILL');
      const first = await waitFor(
        'a write acknowledged by a new leader',
        async () => writer.firstAckAfter(killedAt, killed),
        60_000,
        5,
      );
      const seen = writer.firstSightingAfter(killedAt, killed);
      await exited;

      const restartAt = Date.now();
      await cluster.startBroker(killed);
      const readyAt = Date.now();
      await waitForHealthy(cluster, TOPIC, 1, 3, 120_000);
      const row: FailoverRun = {
        run,
        killed,
        newLeader: first.leader,
        newEpoch: seen?.leaderEpoch ?? -1,
        visibleMs: seen ? seen.at - killedAt : -1,
        failoverMs: first.at - killedAt,
        restartMs: readyAt - restartAt,
        isrFullMs: Date.now() - restartAt,
      };
      results.push(row);
      progress(
        `run ${run}/${runs}: killed ${killed}, new leader ${row.newLeader} visible after ${row.visibleMs} ms, first acks=all write after ${row.failoverMs} ms; ISR full ${row.isrFullMs} ms after restart`,
      );
    }
  } finally {
    await writer.stop();
    await env.stop();
  }

  const errors = [...writer.errors].map(([what, n]) => `${what} ×${n}`).join('; ');
  if (values.json) {
    console.log(JSON.stringify({ runs: results, writerErrors: Object.fromEntries(writer.errors) }, null, 2));
  } else {
    console.log(
      markdownReport(results, [
        `Writer: ${writer.acks.length} acks=all writes acknowledged in total; errors seen: ${errors || 'none'}.`,
      ]),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
