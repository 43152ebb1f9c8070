import { DevCluster, STATE_FILE } from './dev-cluster.js';

export interface DevOptions {
  /** Where brokers, DynamoDB Local and s3rver keep data. */
  dataDir: string;
  brokers: number;
  /** Port of broker 0; broker i uses port + i. 0 picks free ports. */
  port: number;
  dynamoDbPort: number;
  s3Port: number;
  logLevel: string;
}

export const DEV_DEFAULTS: DevOptions = {
  dataDir: '.spool',
  brokers: 1,
  port: 9092,
  dynamoDbPort: 8000,
  s3Port: 4569,
  logLevel: 'warn',
};

/**
 * `spool dev`: starts DynamoDB Local, s3rver and the brokers, prints where they are, and keeps
 * running until SIGINT or SIGTERM, which stop everything cleanly and exit the process. Resolves
 * once the cluster is up; shared by `npm start` (spool-dev.ts) and the `spool dev` CLI command.
 */
export async function runDev(options: DevOptions): Promise<DevCluster> {
  // Node 20 is Spool's supported runtime; the SDK's notice about its own future requirement is
  // noise in every broker log line stream.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const started = Date.now();
  process.stderr.write('starting DynamoDB Local, s3rver and brokers...\n');
  const cluster = await DevCluster.start({
    dataDir: options.dataDir,
    brokers: options.brokers,
    basePort: options.port,
    dynamoDbPort: options.dynamoDbPort,
    s3Port: options.s3Port,
    logLevel: options.logLevel,
  });
  const state = cluster.state;
  process.stdout.write(
    [
      `Spool is running (${((Date.now() - started) / 1000).toFixed(1)} s).`,
      `  bootstrap:  ${state.bootstrap}`,
      `  dynamodb:   ${state.dynamoDbEndpoint}`,
      `  s3:         ${state.s3Endpoint}`,
      ...state.brokers.map(
        (b) => `  broker ${b.nodeId}:   pid ${b.pid}, metrics http://127.0.0.1:${b.metricsPort}/metrics`,
      ),
      `  state file: ${options.dataDir}/${STATE_FILE}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  // Ctrl-C reaches npm, tsx and this process at once, and npm and tsx forward it, so one keypress
  // can arrive as several SIGINTs. Only a signal more than 2 s after the first forces an exit
  // (which would orphan DynamoDB Local's JVM).
  let stoppingSince = 0;
  async function shutdown(): Promise<void> {
    if (stoppingSince > 0) {
      if (Date.now() - stoppingSince > 2000) process.exit(1);
      return;
    }
    stoppingSince = Date.now();
    process.stderr.write('stopping...\n');
    await cluster.stop();
    process.stderr.write('stopped.\n');
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  return cluster;
}
