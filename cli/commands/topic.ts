import type { Command } from 'commander';
import type { ConfigSource, TopicDescription } from '../../client/admin/index.js';
import { CliError, integer, parseConfigs, print, table, withAdmin } from '../common.js';

interface CreateFlags {
  partitions?: number;
  replicationFactor?: number;
  config?: string[];
}

interface AlterFlags {
  partitions?: number;
  config?: string[];
  deleteConfig?: string[];
  dryRun?: boolean;
}

/** One config of an alter report: its value and source before and after (or as requested, in a dry run). */
interface ConfigChangeReport {
  name: string;
  from: string | null;
  fromSource: ConfigSource;
  to: string | null;
  toSource: ConfigSource;
}

interface AlterReport {
  topic: string;
  dryRun: boolean;
  configs: ConfigChangeReport[];
  partitions?: { from: number; to: number };
}

export function topicCommand(program: Command): void {
  const topic = program.command('topic').description('create, list, describe, alter and delete topics');

  topic
    .command('create')
    .description('create a topic')
    .argument('<name>', 'topic name')
    .option('--partitions <n>', 'partition count (default: the broker default)', integer(1))
    .option('--replication-factor <n>', 'replicas per partition (default: min(3, live brokers))', integer(1))
    .option('--config <key=value...>', 'topic configs, e.g. retention.ms=3600000 (repeatable)')
    .action(async (name: string, flags: CreateFlags, command: Command) => {
      const configs = parseConfigs(flags.config);
      await withAdmin(command, (admin) =>
        admin.createTopics([
          { topic: name, partitions: flags.partitions, replicationFactor: flags.replicationFactor, configs },
        ]),
      );
      print(command, { topic: name, created: true }, () => `created topic ${name}`);
    });

  topic
    .command('list')
    .description('list topics (internal topics excluded)')
    .action(async (_flags: unknown, command: Command) => {
      const names = await withAdmin(command, (admin) => admin.listTopics());
      print(command, names, () => names.join('\n'));
    });

  topic
    .command('describe')
    .description('partitions (leader, replicas, ISR) and configs of a topic')
    .argument('<name>', 'topic name')
    .option('--all-configs', 'also list configs left at their defaults')
    .action(async (name: string, flags: { allConfigs?: boolean }, command: Command) => {
      const [description] = await withAdmin(command, (admin) => admin.describeTopics([name]));
      if (!description) throw new CliError(`topic ${name} was not described`);
      print(command, description, () => renderTopic(description, flags.allConfigs ?? false));
    });

  topic
    .command('alter')
    .description('change configs of a topic and/or add partitions, printing what changed')
    .argument('<name>', 'topic name')
    .option('--config <key=value...>', 'set topic configs, e.g. retention.ms=3600000 (repeatable)')
    .option('--delete-config <key...>', 'reset topic configs to their defaults (repeatable)')
    .option('--partitions <n>', 'the new total partition count (only growing is possible)', integer(1))
    .option('--dry-run', 'have the brokers validate the changes and show them, without applying them')
    .action(async (name: string, flags: AlterFlags, command: Command) => {
      const changes = configChanges(flags);
      if (flags.partitions === undefined && Object.keys(changes).length === 0)
        throw new CliError(
          'nothing to alter: give --config key=value, --delete-config key or --partitions N',
        );
      const dryRun = flags.dryRun ?? false;
      const report = await withAdmin(command, async (admin) => {
        const [before] = await admin.describeTopics([name]);
        if (!before) throw new CliError(`topic ${name} was not described`);
        // Everything is validated before anything is applied, so a bad config never leaves the
        // partitions grown (or the other way round).
        if (Object.keys(changes).length > 0) await admin.alterConfigs(name, changes, { validateOnly: true });
        if (flags.partitions !== undefined)
          await admin.createPartitions(name, flags.partitions, { validateOnly: true });
        if (dryRun) return alterReport(before, undefined, changes, flags.partitions);
        if (Object.keys(changes).length > 0) await admin.alterConfigs(name, changes);
        if (flags.partitions !== undefined) await admin.createPartitions(name, flags.partitions);
        const [after] = await admin.describeTopics([name]);
        return alterReport(before, after, changes, flags.partitions);
      });
      print(command, report, () => renderAlterReport(report));
    });

  topic
    .command('delete')
    .description('delete a topic and its data')
    .argument('<name>', 'topic name')
    .action(async (name: string, _flags: unknown, command: Command) => {
      await withAdmin(command, (admin) => admin.deleteTopics([name]));
      print(command, { topic: name, deleted: true }, () => `deleted topic ${name}`);
    });
}

function renderTopic(t: TopicDescription, allConfigs: boolean): string {
  const configs = t.configs.filter((c) => allConfigs || !c.isDefault);
  const replicationFactor = t.partitions[0]?.replicas.length ?? 0;
  return [
    `topic: ${t.name}  id: ${t.topicId}  partitions: ${t.partitions.length}  replication factor: ${replicationFactor}`,
    '',
    table(
      ['partition', 'leader', 'epoch', 'replicas', 'isr', 'offline'],
      t.partitions.map((p) => [
        p.partition,
        p.leader < 0 ? 'none' : p.leader,
        p.leaderEpoch,
        p.replicas.join(','),
        p.isr.join(','),
        p.offlineReplicas.join(',') || '-',
      ]),
    ),
    '',
    configs.length === 0
      ? `configs: ${allConfigs ? 'none' : 'all defaults (--all-configs lists them)'}`
      : [
          `configs${allConfigs ? '' : ' (non-default; --all-configs lists all)'}:`,
          ...configs.map((c) => `  ${c.name}=${c.sensitive ? '(sensitive)' : (c.value ?? '(null)')}`),
        ].join('\n'),
  ].join('\n');
}

/** --config and --delete-config as one Admin.alterConfigs argument (null deletes). */
function configChanges(flags: AlterFlags): Record<string, string | null> {
  const changes: Record<string, string | null> = parseConfigs(flags.config);
  for (const key of flags.deleteConfig ?? []) {
    if (key === '' || key.includes('='))
      throw new CliError(`invalid --delete-config '${key}' (expected a key)`);
    if (typeof changes[key] === 'string') throw new CliError(`config ${key} is both set and deleted`);
    changes[key] = null;
  }
  return changes;
}

function alterReport(
  before: TopicDescription,
  after: TopicDescription | undefined,
  changes: Record<string, string | null>,
  partitions: number | undefined,
): AlterReport {
  const configs = Object.entries(changes).map(([name, requested]): ConfigChangeReport => {
    const old = before.configs.find((c) => c.name === name);
    const now = after?.configs.find((c) => c.name === name);
    return {
      name,
      from: old?.value ?? null,
      fromSource: old?.source ?? 'unknown',
      // A dry run can only show what was asked for; a deleted key's default is not known yet.
      to: after ? (now?.value ?? null) : requested,
      toSource: after ? (now?.source ?? 'unknown') : requested === null ? 'default' : 'topic',
    };
  });
  const report: AlterReport = { topic: before.name, dryRun: after === undefined, configs };
  if (partitions !== undefined) report.partitions = { from: before.partitions.length, to: partitions };
  return report;
}

function renderAlterReport(report: AlterReport): string {
  const shown = (value: string | null, source: ConfigSource) => {
    if (value === null) return source === 'default' ? '(default)' : '(null)';
    return source === 'default' ? `${value} (default)` : value;
  };
  const lines = report.configs.map((c) => {
    const from = shown(c.from, c.fromSource);
    const to = shown(c.to, c.toSource);
    return from === to ? `  ${c.name}: ${from} (unchanged)` : `  ${c.name}: ${from} -> ${to}`;
  });
  if (report.partitions) lines.push(`  partitions: ${report.partitions.from} -> ${report.partitions.to}`);
  const head = report.dryRun
    ? `dry run, nothing was changed; topic ${report.topic} would be altered:`
    : `altered topic ${report.topic}:`;
  return [head, ...lines].join('\n');
}
