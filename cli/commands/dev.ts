import type { Command } from 'commander';
import { DEV_DEFAULTS, runDev } from '../../broker/local/run-dev.js';
import { integer } from '../common.js';

interface DevFlags {
  dataDir: string;
  brokers: number;
  port: number;
  dynamodbPort: number;
  s3Port: number;
  logLevel: string;
}

export function devCommand(program: Command): void {
  program
    .command('dev')
    .description('run a local cluster (DynamoDB Local, s3rver and brokers on loopback) until Ctrl-C')
    .option('--data-dir <dir>', 'where brokers, DynamoDB Local and s3rver keep data', DEV_DEFAULTS.dataDir)
    .option('--brokers <n>', 'number of broker processes', integer(1), DEV_DEFAULTS.brokers)
    .option(
      '--port <port>',
      'port of broker 0; broker i uses port+i (0: free ports)',
      integer(0),
      DEV_DEFAULTS.port,
    )
    .option(
      '--dynamodb-port <port>',
      'DynamoDB Local port (0: a free port)',
      integer(0),
      DEV_DEFAULTS.dynamoDbPort,
    )
    .option('--s3-port <port>', 's3rver port (0: a free port)', integer(0), DEV_DEFAULTS.s3Port)
    .option('--log-level <level>', 'broker log level (pino levels)', DEV_DEFAULTS.logLevel)
    .action(async (flags: DevFlags) => {
      await runDev({
        dataDir: flags.dataDir,
        brokers: flags.brokers,
        port: flags.port,
        dynamoDbPort: flags.dynamodbPort,
        s3Port: flags.s3Port,
        logLevel: flags.logLevel,
      });
      // Keeps running: runDev's signal handlers stop the cluster and exit.
      await new Promise<never>(() => {});
    });
}
