import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster } from '../../helpers/local-cluster.js';
import { spoolCli } from '../../helpers/spool-cli.js';

/** The real `spool` CLI as a child process against a 3-broker cluster (one for the whole file). */

let local: Awaited<ReturnType<typeof startLocalCluster>>;
let bootstrap: string;

beforeAll(async () => {
  local = await startLocalCluster({ brokers: 3 });
  bootstrap = local.bootstrap.join(',');
}, 60_000);

afterAll(async () => {
  await local?.stop();
});

const { spool, ok } = spoolCli(() => bootstrap);

describe('spool CLI', () => {
  it('prints help for the program and for subcommands, exiting 0', async () => {
    const top = await spool(['--help'], { bootstrap: false, entry: 'bin' });
    expect(top.code).toBe(0);
    for (const command of ['dev', 'topic', 'group', 'cluster']) expect(top.stdout).toContain(command);
    const create = await spool(['topic', 'create', '--help'], { bootstrap: false });
    expect(create.code).toBe(0);
    expect(create.stdout).toContain('--replication-factor');
    expect(create.stdout).toContain('--bootstrap');
    const dev = await spool(['dev', '--help'], { bootstrap: false });
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain('--brokers');
  }, 30_000);

  it('describes the cluster as JSON', async () => {
    const cluster = JSON.parse(await ok(['--output', 'json', 'cluster', 'describe']));
    expect(cluster.brokers).toHaveLength(3);
    expect(cluster.brokers.map((b: { nodeId: number }) => b.nodeId)).toContain(cluster.controllerId);
    expect(cluster.clusterId).not.toBe('');
    const text = await ok(['cluster', 'describe']);
    expect(text).toContain(`cluster id:  ${cluster.clusterId}`);
  });

  it('creates, lists, describes, alters and deletes a topic', async () => {
    expect(
      await ok([
        'topic',
        'create',
        'cli-orders',
        '--partitions',
        '2',
        '--replication-factor',
        '3',
        '--config',
        'retention.ms=3600000',
      ]),
    ).toContain('created topic cli-orders');
    expect((await ok(['topic', 'list'])).split('\n')).toContain('cli-orders');

    const text = await ok(['topic', 'describe', 'cli-orders']);
    expect(text).toMatch(/partitions: 2\s+replication factor: 3/);
    expect(text).toContain('retention.ms=3600000');
    const described = JSON.parse(await ok(['topic', 'describe', 'cli-orders', '--output', 'json']));
    expect(described.partitions).toHaveLength(2);
    for (const p of described.partitions) {
      expect(p.replicas).toHaveLength(3);
      expect(p.replicas).toContain(p.leader);
    }

    expect(await ok(['topic', 'alter', 'cli-orders', '--partitions', '4'])).toContain('partitions: 2 -> 4');
    const grown = JSON.parse(await ok(['--output', 'json', 'topic', 'describe', 'cli-orders']));
    expect(grown.partitions).toHaveLength(4);

    const altered = await ok([
      'topic',
      'alter',
      'cli-orders',
      '--config',
      'retention.ms=1000',
      'segment.ms=60000',
    ]);
    expect(altered).toContain('altered topic cli-orders');
    expect(altered).toContain('retention.ms: 3600000 -> 1000');
    expect(altered).toContain(`segment.ms: ${7 * 24 * 3600 * 1000} (default) -> 60000`);
    const withConfigs = await ok(['topic', 'describe', 'cli-orders']);
    expect(withConfigs).toContain('retention.ms=1000');
    expect(withConfigs).toContain('segment.ms=60000');
    const configs = JSON.parse(await ok(['--output', 'json', 'topic', 'describe', 'cli-orders'])).configs;
    expect(configs.find((c: { name: string }) => c.name === 'retention.ms')).toMatchObject({
      value: '1000',
      source: 'topic',
    });

    const dryRun = await ok(['topic', 'alter', 'cli-orders', '--delete-config', 'segment.ms', '--dry-run']);
    expect(dryRun).toMatch(/^dry run, nothing was changed/);
    expect(dryRun).toContain('segment.ms: 60000 -> (default)');
    expect(await ok(['topic', 'describe', 'cli-orders'])).toContain('segment.ms=60000');

    const reset = await ok(['topic', 'alter', 'cli-orders', '--delete-config', 'segment.ms']);
    expect(reset).toContain(`segment.ms: 60000 -> ${7 * 24 * 3600 * 1000} (default)`);
    expect(await ok(['topic', 'describe', 'cli-orders'])).not.toContain('segment.ms=');

    // A bad value: one line, exit 1, and nothing applied (not even the partitions asked for with it).
    const bad = await spool([
      'topic',
      'alter',
      'cli-orders',
      '--partitions',
      '6',
      '--config',
      'retention.ms=soon',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^error: INVALID_CONFIG \[cli-orders\]: .*retention\.ms/);
    const unchanged = JSON.parse(await ok(['--output', 'json', 'topic', 'describe', 'cli-orders']));
    expect(unchanged.partitions).toHaveLength(4);
    const unknown = await spool(['topic', 'alter', 'cli-orders', '--config', 'retention.msec=1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: INVALID_CONFIG .*unknown config retention\.msec/);
    const nothing = await spool(['topic', 'alter', 'cli-orders']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/^error: nothing to alter/);

    expect(await ok(['topic', 'delete', 'cli-orders'])).toContain('deleted topic cli-orders');
    expect(JSON.parse(await ok(['--output', 'json', 'topic', 'list']))).not.toContain('cli-orders');
  }, 180_000);

  it('fails with one clear line and exit 1 for a missing topic, with the stack only under --verbose', async () => {
    const missing = await spool(['topic', 'describe', 'cli-no-such-topic']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^error: UNKNOWN_TOPIC_OR_PARTITION/);
    expect(missing.stderr).not.toMatch(/\bat /);

    const verbose = await spool(['--verbose', 'topic', 'describe', 'cli-no-such-topic']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^error: UNKNOWN_TOPIC_OR_PARTITION/);
    expect(verbose.stderr).toMatch(/\n\s+at /);

    const badTarget = await spool(['group', 'reset-offsets', 'g', '--topic', 't', '--to', 'yesterday']);
    expect(badTarget.code).toBe(1);
    expect(badTarget.stderr).toMatch(/^error: invalid --to 'yesterday'/);
  }, 30_000);

  it('lists and describes a kafkajs group and plans and applies an offset reset', async () => {
    await ok(['topic', 'create', 'cli-events', '--partitions', '3']);
    const kafka = new Kafka({ clientId: 'cli-it', brokers: local.bootstrap, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'cli-events',
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'cli-group', sessionTimeout: 6000, heartbeatInterval: 500 });
    let consumed = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'cli-events', fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        consumed++;
      },
    });
    const deadline = Date.now() + 20_000;
    while (consumed < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(consumed).toBe(30);
    await consumer.disconnect(); // commits the consumed offsets

    const groups = JSON.parse(await ok(['--output', 'json', 'group', 'list']));
    expect(groups.find((g: { groupId: string }) => g.groupId === 'cli-group')).toMatchObject({
      protocolType: 'consumer',
    });
    expect(await ok(['group', 'list'])).toMatch(/cli-group\s+Empty\s+consumer/);

    const group = JSON.parse(await ok(['--output', 'json', 'group', 'describe', 'cli-group']));
    expect(group.state).toBe('Empty');
    const lagTotal = group.offsets.reduce((sum: number, o: { lag: number }) => sum + o.lag, 0);
    const committedTotal = group.offsets.reduce(
      (sum: number, o: { committed: number }) => sum + o.committed,
      0,
    );
    expect(group.offsets).toHaveLength(3);
    expect(lagTotal).toBe(0);
    expect(committedTotal).toBe(30);

    const dry = await ok([
      'group',
      'reset-offsets',
      'cli-group',
      '--topic',
      'cli-events',
      '--to',
      'earliest',
      '--dry-run',
    ]);
    expect(dry).toMatch(/TOPIC\s+PARTITION\s+CURRENT\s+TARGET/);
    expect(dry).toContain('dry run: nothing committed');
    const plan = JSON.parse(
      await ok([
        '--output',
        'json',
        'group',
        'reset-offsets',
        'cli-group',
        '--topic',
        'cli-events',
        '--to',
        'offset:0',
        '--dry-run',
      ]),
    );
    expect(plan.dryRun).toBe(true);
    expect(plan.plan).toHaveLength(3);
    for (const p of plan.plan) expect(p.target).toBe(0);
    expect(plan.plan.reduce((sum: number, p: { current: number }) => sum + p.current, 0)).toBe(30);

    // The dry run committed nothing; a real reset does.
    const before = JSON.parse(await ok(['--output', 'json', 'group', 'describe', 'cli-group']));
    expect(before.offsets.reduce((sum: number, o: { lag: number }) => sum + o.lag, 0)).toBe(0);
    expect(
      await ok(['group', 'reset-offsets', 'cli-group', '--topic', 'cli-events', '--to', 'earliest']),
    ).toContain('committed the new offsets');
    const after = JSON.parse(await ok(['--output', 'json', 'group', 'describe', 'cli-group']));
    expect(after.offsets.reduce((sum: number, o: { lag: number }) => sum + o.lag, 0)).toBe(30);
  }, 60_000);
});
