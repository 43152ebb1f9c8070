import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { startLocalCluster } from '../helpers/local-cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { compareToLeader, readReplicaLog } from './cluster/replica-logs.js';
import { clusterMetadata, waitFor, waitForHealthy } from './cluster/topology.js';
import {
  decodeProduce,
  errorName,
  guarded,
  metadataFromAny,
  produceOnce,
  readPartition,
  sendProduce,
  sleep,
  valuesBatch,
} from './cluster/wire.js';

/**
 * A leader frozen (SIGSTOP) for longer than its lease wakes up as a zombie: the controller has
 * elected another leader and that leader has taken writes. The zombie must acknowledge no acks=all
 * write, neither one that was in flight when it froze nor ones that reached it while frozen or
 * just after it woke; and when it rejoins as a follower its log must be a prefix of, then equal
 * to, the new leader's, with every acknowledged record present exactly once.
 */
const TOPIC = 'zombie';
const BROKERS = 3;
/** Longer than lease (3 s) + clock-skew margin (0.5 s) + election, so a new leader takes over. */
const MIN_PAUSE_MS = 5000;

let env: Awaited<ReturnType<typeof startLocalCluster>>;

beforeAll(async () => {
  env = await startLocalCluster({ brokers: BROKERS, leaseMs: 3000 });
  const kafka = new Kafka({ clientId: 'zombie-admin', brokers: env.bootstrap, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: TOPIC,
        numPartitions: 1,
        replicationFactor: BROKERS,
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      },
    ],
  });
  await admin.disconnect();
  await waitForHealthy(env.cluster, TOPIC, 1, BROKERS, 60_000);
}, 180_000);

afterAll(async () => {
  for (let id = 0; id < BROKERS; id++) env?.cluster.resumeBroker(id);
  await env?.stop();
}, 120_000);

const portOf = (id: number): number => env.cluster.state.brokers.find((b) => b.nodeId === id)!.port;

interface ZombieRequest {
  label: string;
  values: string[];
  sentAt: number;
  outcome: Promise<{ at: number; result: string; errorCode?: number; baseOffset?: number }>;
}

/** Sends a produce on `client` and captures its answer (or why there was none) without throwing. */
function sendTracked(client: RawClient, label: string, values: string[]): ZombieRequest {
  const frame = client.nextFrame();
  const sentAt = Date.now();
  sendProduce(client, TOPIC, 0, valuesBatch(values), { acks: -1, timeoutMs: 30_000 });
  const outcome = guarded(client, frame, 40_000, label).then(
    (f) => {
      const { errorCode, baseOffset } = decodeProduce(f);
      return { at: Date.now(), result: errorName(errorCode), errorCode, baseOffset };
    },
    (error: Error) => ({ at: Date.now(), result: `no response (${error.name})` }),
  );
  return { label, values, sentAt, outcome };
}

describe('zombie leader', () => {
  it('a leader paused past its lease never acknowledges acks=all writes and rejoins without divergence', {
    timeout: 180_000,
  }, async () => {
    const log = (line: string) => console.log(`[zombie ${new Date().toISOString().slice(11, 23)}] ${line}`);
    const before = await clusterMetadata(env.cluster, TOPIC);
    const zombie = before.partitions[0]!.leader;
    const others = env.cluster.state.brokers
      .filter((b) => b.nodeId !== zombie)
      .map((b) => ({ nodeId: b.nodeId, port: b.port }));
    log(`leader ${zombie} epoch ${before.partitions[0]!.leaderEpoch}, ISR [${before.partitions[0]!.isr}]`);

    // Acknowledged writes, and where the cluster said it put them.
    const acked = new Map<string, number>();
    const ackBatch = (values: string[], baseOffset: number) => {
      values.forEach((v, i) => {
        acked.set(v, baseOffset + i);
      });
    };

    const toZombie = await RawClient.connect(portOf(zombie));
    for (let i = 0; i < 5; i++) {
      const values = [`before-${i}-0`, `before-${i}-1`];
      const r = await produceOnce(toZombie, TOPIC, 0, valuesBatch(values), {
        acks: -1,
        timeoutMs: 10_000,
        deadlineMs: 15_000,
      });
      expect(errorName(r.errorCode)).toBe('NONE');
      ackBatch(values, r.baseOffset);
    }

    // In flight as it freezes: writes it has appended but could not replicate, because its
    // followers were frozen for that moment. Its log now has a tail no other replica has.
    const dataDir = env.cluster.options.dataDir;
    const endBefore = (await readReplicaLog(dataDir, zombie, TOPIC, 0)).endOffset;
    for (const f of others) env.cluster.pauseBroker(f.nodeId);
    const inFlight = [0, 1, 2].map((i) => sendTracked(toZombie, `in-flight ${i}`, [`inflight-${i}`]));
    const frozenLog = await waitFor(
      'the leader to append the in-flight writes',
      async () => {
        const l = await readReplicaLog(dataDir, zombie, TOPIC, 0);
        return l.endOffset >= endBefore + inFlight.length ? l : undefined;
      },
      10_000,
      20,
    ).finally(() => {
      env.cluster.pauseBroker(zombie);
      for (const f of others) env.cluster.resumeBroker(f.nodeId);
    });
    const pausedAt = Date.now();
    log(`paused broker ${zombie}; its log ends at ${frozenLog.endOffset}, the followers' at ${endBefore}`);

    // While frozen: one more on the old connection, one on a connection opened now.
    await sleep(500);
    const duringPause = [sendTracked(toZombie, 'during pause (old connection)', ['paused-old-conn'])];
    const lateConnection = await RawClient.connect(portOf(zombie));
    duringPause.push(sendTracked(lateConnection, 'during pause (new connection)', ['paused-new-conn']));

    // The controller elects a new leader once the zombie's lease has certainly lapsed.
    const elected = await waitFor(
      'a new leader',
      async () => {
        const m = await metadataFromAny(others, TOPIC);
        const p = m.partitions[0]!;
        return p.leader >= 0 && p.leader !== zombie ? p : undefined;
      },
      30_000,
    );
    log(
      `new leader ${elected.leader} epoch ${elected.leaderEpoch} ISR [${elected.isr}] after ${Date.now() - pausedAt} ms`,
    );

    // The new leader takes acks=all writes with the zombie still frozen.
    const toLeader = await RawClient.connect(portOf(elected.leader));
    const newLeaderWrite = async (values: string[]): Promise<void> => {
      await waitFor(
        `the new leader to acknowledge ${values[0]}`,
        async () => {
          const r = await produceOnce(toLeader, TOPIC, 0, valuesBatch(values), {
            acks: -1,
            timeoutMs: 10_000,
            deadlineMs: 15_000,
          });
          if (r.errorCode === ErrorCode.NONE) {
            ackBatch(values, r.baseOffset);
            return true;
          }
          log(`new leader answered ${errorName(r.errorCode)} for ${values[0]}; retrying`);
          return undefined;
        },
        20_000,
        200,
      );
    };
    for (let i = 0; i < 5; i++) await newLeaderWrite([`after-${i}-0`, `after-${i}-1`]);
    log(`new leader acknowledged writes ${Date.now() - pausedAt} ms into the pause`);

    await sleep(Math.max(0, pausedAt + MIN_PAUSE_MS - Date.now()));
    env.cluster.resumeBroker(zombie);
    const resumedAt = Date.now();
    log(`resumed broker ${zombie} after ${resumedAt - pausedAt} ms`);
    // Right after waking, before it can have heard of the new leader.
    const afterResume = [sendTracked(toZombie, 'just after resume', ['resumed-0'])];

    const zombieRequests = [...inFlight, ...duringPause, ...afterResume];
    const outcomes = await Promise.all(zombieRequests.map((r) => r.outcome));
    const zombieAcks: string[] = [];
    zombieRequests.forEach((r, i) => {
      const o = outcomes[i]!;
      log(
        `zombie request "${r.label}": ${o.result} after ${o.at - r.sentAt} ms (${o.at - resumedAt} ms after resume)`,
      );
      if (o.errorCode !== ErrorCode.NONE) return;
      // A success written before SIGSTOP landed is a legitimate acknowledgement by a live leader.
      if (r.sentAt < pausedAt && o.at < pausedAt + 100) {
        ackBatch(r.values, o.baseOffset!);
      } else {
        zombieAcks.push(`${r.label} acknowledged ${o.at - pausedAt} ms after the pause began`);
      }
    });
    toZombie.close();
    lateConnection.close();

    // The zombie rejoins as a follower, truncates what it alone had, and catches up.
    await waitForHealthy(env.cluster, TOPIC, 1, BROKERS, 60_000);
    for (let i = 0; i < 3; i++) await newLeaderWrite([`rejoined-${i}`]);
    const logs = await waitFor(
      'every replica to reach the leader log end',
      async () => {
        const m = await clusterMetadata(env.cluster, TOPIC);
        const leader = m.partitions[0]!.leader;
        const all = await Promise.all(
          Array.from({ length: BROKERS }, (_, b) => readReplicaLog(dataDir, b, TOPIC, 0)),
        );
        const leaderLog = all[leader]!;
        return all.every((l) => l.endOffset === leaderLog.endOffset) ? { leader, all } : undefined;
      },
      60_000,
      500,
    );
    const leaderLog = logs.all[logs.leader]!;
    const comparisons = logs.all
      .filter((l) => l.broker !== logs.leader)
      .map((l) => compareToLeader(leaderLog, l));
    const firstNewEpoch = leaderLog.batches.find((b) => b.leaderEpoch >= elected.leaderEpoch)!.baseOffset;
    log(
      `the frozen zombie had ${frozenLog.endOffset - firstNewEpoch} records past offset ${firstNewEpoch}, where the new leader's epoch ${elected.leaderEpoch} begins`,
    );
    for (const c of comparisons)
      log(
        `broker ${c.broker} vs leader ${logs.leader}: prefix ${c.prefix}, equal ${c.equal} ${c.divergence ?? ''}`,
      );

    // The leader learns its followers' log ends on their next fetch: give the HW a moment.
    const final = await waitFor(
      'the high watermark to reach the leader log end',
      async () => {
        const read = await readPartition(portOf(logs.leader), TOPIC, 0);
        return read.highWatermark >= leaderLog.endOffset ? read : undefined;
      },
      10_000,
      250,
    );
    const count = new Map<string, number[]>();
    for (const r of final.records) count.set(r.value, [...(count.get(r.value) ?? []), r.offset]);
    const lost = [...acked].filter(([v]) => !count.has(v)).map(([v, o]) => `${v}@${o}`);
    const misplaced = [...acked]
      .filter(([v, o]) => count.has(v) && !count.get(v)!.includes(o))
      .map(([v, o]) => `${v} acked @${o}, found @${count.get(v)}`);
    const duplicated = [...count].filter(([, offsets]) => offsets.length > 1).map(([v, o]) => `${v}@${o}`);
    // Writes sent to the zombie once it was frozen cannot have reached any other replica.
    const leaked = [...duringPause, ...afterResume].flatMap((r) => r.values).filter((v) => count.has(v));
    log(
      `final log: ${final.records.length} records, high watermark ${final.highWatermark}; acked ${acked.size}, lost ${lost.length}, duplicated ${duplicated.length}, zombie writes in log ${leaked.length}`,
    );

    // The scenario really had a divergent tail to cut.
    expect(frozenLog.endOffset).toBeGreaterThan(firstNewEpoch);
    expect(zombieAcks, 'the zombie acknowledged acks=all writes').toEqual([]);
    expect(lost, 'acknowledged records missing').toEqual([]);
    expect(misplaced, 'acknowledged records at another offset').toEqual([]);
    expect(duplicated, 'records present more than once').toEqual([]);
    expect(leaked, 'writes sent to the frozen zombie that reached the log').toEqual([]);
    expect(comparisons.map((c) => ({ broker: c.broker, prefix: c.prefix, equal: c.equal }))).toEqual(
      comparisons.map((c) => ({ broker: c.broker, prefix: true, equal: true })),
    );
  });
});
