import type { Command } from 'commander';
import type { Admin, GroupDescription, OffsetResetPlan, ResetTarget } from '../../client/admin/index.js';
import { ErrorCode, KafkaProtocolError } from '../../client/errors.js';
import { CliError, globalOptions, print, table, withAdmin } from '../common.js';

interface ResetFlags {
  topic: string;
  to: string;
  dryRun?: boolean;
}

interface PartitionLag {
  topic: string;
  partition: number;
  /** null when nothing is committed. */
  committed: number | null;
  logEnd: number;
  lag: number | null;
  memberId: string | null;
}

export function groupCommand(program: Command): void {
  const group = program.command('group').description('list, describe, delete and reset consumer groups');

  group
    .command('list')
    .description('every group in the cluster')
    .action(async (_flags: unknown, command: Command) => {
      const groups = await withAdmin(command, (admin) => admin.listGroups());
      print(command, groups, () =>
        groups.length === 0
          ? 'no groups'
          : table(
              ['group', 'state', 'protocol type', 'coordinator'],
              groups.map((g) => [g.groupId, g.state || '-', g.protocolType || '-', g.coordinator]),
            ),
      );
    });

  group
    .command('describe')
    .description('state, members and committed offsets with lag of a group')
    .argument('<id>', 'group id')
    .action(async (groupId: string, _flags: unknown, command: Command) => {
      const { description, offsets } = await withAdmin(command, async (admin) => {
        const [description] = await admin.describeGroups([groupId]);
        if (!description) throw new CliError(`group ${groupId} was not described`);
        return { description, offsets: await groupLag(admin, description) };
      });
      print(command, { ...description, offsets }, () => renderGroup(description, offsets));
    });

  group
    .command('delete')
    .description('delete empty groups and their committed offsets (groups with members are refused)')
    .argument('<id...>', 'group ids')
    .action(async (groupIds: string[], _flags: unknown, command: Command) => {
      const results = await withAdmin(command, (admin) => deleteGroups(admin, groupIds));
      const deleted = results.filter((r) => r.deleted);
      const failed = results.filter((r) => !r.deleted);
      if (deleted.length > 0 || globalOptions(command).output === 'json')
        print(command, results, () => deleted.map((r) => `deleted group ${r.groupId}`).join('\n'));
      if (failed.length === 1) throw new CliError(failed[0]!.message!);
      if (failed.length > 1)
        throw new CliError(
          `${failed.length} of ${results.length} groups were not deleted: ${failed.map((r) => `${r.groupId} (${r.error})`).join(', ')}`,
        );
    });

  group
    .command('reset-offsets')
    .description("move a group's committed offsets on every partition of a topic (the group must be empty)")
    .argument('<id>', 'group id')
    .requiredOption('--topic <topic>', 'the topic whose offsets move')
    .requiredOption('--to <target>', 'earliest | latest | timestamp:<ms since epoch> | offset:<n>')
    .option('--dry-run', 'print the plan without committing it')
    .action(async (groupId: string, flags: ResetFlags, command: Command) => {
      const target = parseResetTarget(flags.to);
      const dryRun = flags.dryRun ?? false;
      const plan = await withAdmin(command, async (admin) => {
        try {
          return await admin.resetOffsets(groupId, flags.topic, target, { dryRun });
        } catch (error) {
          if (error instanceof KafkaProtocolError && error.code === ErrorCode.UNKNOWN_MEMBER_ID) {
            throw new CliError(
              `${error.errorName}: group ${groupId} has active members; stop its consumers before resetting offsets (or use --dry-run)`,
              { cause: error },
            );
          }
          throw error;
        }
      });
      print(command, { groupId, topic: flags.topic, dryRun, plan }, () => renderPlan(groupId, plan, dryRun));
    });
}

interface DeleteResult {
  groupId: string;
  deleted: boolean;
  /** The Kafka error name (e.g. NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND) when not deleted. */
  error: string | null;
  message: string | null;
}

/** Deletes each group on its own, so one failure does not hide the others' results. */
async function deleteGroups(admin: Admin, groupIds: string[]): Promise<DeleteResult[]> {
  return Promise.all(
    groupIds.map(async (groupId): Promise<DeleteResult> => {
      try {
        await admin.deleteGroups([groupId]);
        return { groupId, deleted: true, error: null, message: null };
      } catch (error) {
        if (!(error instanceof KafkaProtocolError)) throw error;
        return { groupId, deleted: false, error: error.errorName, message: deleteFailure(groupId, error) };
      }
    }),
  );
}

function deleteFailure(groupId: string, error: KafkaProtocolError): string {
  switch (error.code) {
    case ErrorCode.NON_EMPTY_GROUP:
      return `${error.errorName}: group ${groupId} has active members; stop its consumers before deleting it`;
    case ErrorCode.GROUP_ID_NOT_FOUND:
      return `${error.errorName}: group ${groupId} does not exist`;
    default:
      return `${error.message} (group ${groupId})`;
  }
}

export function parseResetTarget(value: string): ResetTarget {
  if (value === 'earliest' || value === 'latest') return value;
  const match = /^(timestamp|offset):(\d+)$/.exec(value);
  if (!match)
    throw new CliError(
      `invalid --to '${value}' (expected earliest, latest, timestamp:<ms since epoch> or offset:<n>)`,
    );
  const n = Number(match[2]);
  return match[1] === 'timestamp' ? { timestamp: n } : { offset: n };
}

/** Committed offset, log-end offset and lag for every partition the group has committed. */
async function groupLag(admin: Admin, group: GroupDescription): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets(group.groupId);
  const topics = [...new Set(committed.map((c) => c.topic))].sort();
  const owner = new Map<string, string>();
  for (const member of group.members) {
    for (const a of member.assignment) {
      for (const p of a.partitions) owner.set(`${a.topic}/${p}`, member.memberId);
    }
  }
  const rows: PartitionLag[] = [];
  for (const topic of topics) {
    // A dry-run reset to latest reports both the committed and the log-end offset of each partition.
    const plan = await admin.resetOffsets(group.groupId, topic, 'latest', { dryRun: true });
    for (const p of plan) {
      rows.push({
        topic,
        partition: p.partition,
        committed: p.current,
        logEnd: p.target,
        lag: p.current === null ? null : Math.max(0, p.target - p.current),
        memberId: owner.get(`${topic}/${p.partition}`) ?? null,
      });
    }
  }
  return rows;
}

function renderGroup(g: GroupDescription, offsets: PartitionLag[]): string {
  const lines = [
    `group: ${g.groupId}  state: ${g.state}  protocol: ${g.protocolType || '-'}/${g.protocol || '-'}  coordinator: ${g.coordinator}`,
    '',
  ];
  lines.push(
    g.members.length === 0
      ? 'members: none'
      : table(
          ['member', 'client id', 'host', 'assignment'],
          g.members.map((m) => [
            m.memberId,
            m.clientId,
            m.clientHost,
            m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-',
          ]),
        ),
    '',
  );
  lines.push(
    offsets.length === 0
      ? 'offsets: none committed'
      : table(
          ['topic', 'partition', 'committed', 'log end', 'lag', 'member'],
          offsets.map((o) => [o.topic, o.partition, o.committed, o.logEnd, o.lag, o.memberId]),
        ),
  );
  return lines.join('\n');
}

function renderPlan(groupId: string, plan: OffsetResetPlan[], dryRun: boolean): string {
  return [
    table(
      ['topic', 'partition', 'current', 'target'],
      plan.map((p) => [p.topic, p.partition, p.current, p.target]),
    ),
    '',
    dryRun
      ? `dry run: nothing committed for group ${groupId}`
      : `committed the new offsets for group ${groupId}`,
  ].join('\n');
}
