import type { Command } from 'commander';
import type { TopicDescription } from '../../client/admin.js';
import { UnsupportedByBrokerError } from '../../client/cluster/index.js';
import { CliError, integer, parseConfigs, print, table, withAdmin } from '../common.js';

interface CreateFlags {
  partitions?: number;
  replicationFactor?: number;
  config?: string[];
}

interface AlterFlags {
  partitions?: number;
  config?: string[];
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
    .description('add partitions to a topic (config changes are not supported by Spool brokers yet)')
    .argument('<name>', 'topic name')
    .option('--partitions <n>', 'the new total partition count (only growing is possible)', integer(1))
    .option('--config <key=value...>', 'config changes: rejected, Spool brokers cannot alter configs yet')
    .action(async (name: string, flags: AlterFlags, command: Command) => {
      const configs = parseConfigs(flags.config);
      if (flags.partitions === undefined && Object.keys(configs).length === 0)
        throw new CliError('nothing to alter: give --partitions N');
      await withAdmin(command, async (admin) => {
        // Configs first, so an unsupported config change does not leave half the request applied.
        if (Object.keys(configs).length > 0) {
          try {
            await admin.alterConfigs(name, configs);
          } catch (error) {
            const detail = error instanceof UnsupportedByBrokerError ? ` (${error.message})` : '';
            throw new CliError(
              `changing topic configs is not supported by Spool brokers yet${detail}; nothing was changed`,
              { cause: error },
            );
          }
        }
        if (flags.partitions !== undefined) await admin.createPartitions(name, flags.partitions);
      });
      print(
        command,
        { topic: name, partitions: flags.partitions },
        () => `topic ${name} now has ${flags.partitions} partitions`,
      );
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
