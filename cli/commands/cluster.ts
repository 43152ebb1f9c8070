import type { Command } from 'commander';
import { print, table, withAdmin } from '../common.js';

export function clusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('inspect the cluster');

  cluster
    .command('describe')
    .description('brokers, controller and cluster id')
    .action(async (_options: unknown, command: Command) => {
      const description = await withAdmin(command, (admin) => admin.describeCluster());
      print(command, description, () =>
        [
          `cluster id:  ${description.clusterId}`,
          `controller:  ${description.controllerId}`,
          '',
          table(
            ['broker', 'host', 'port', 'rack', 'controller'],
            description.brokers.map((b) => [
              b.nodeId,
              b.host,
              b.port,
              b.rack,
              b.nodeId === description.controllerId ? 'yes' : '',
            ]),
          ),
        ].join('\n'),
      );
    });
}
