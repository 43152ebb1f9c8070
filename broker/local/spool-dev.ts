import { parseArgs } from 'node:util';
import { DevCluster, STATE_FILE } from './dev-cluster.js';

/**
 * `spool dev`: runs a complete local cluster until Ctrl-C.
 *
 *   npm start -- --brokers 3 --data-dir ./.spool --port 9092
 */
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.spool' },
    brokers: { type: 'string', default: '1' },
    port: { type: 'string', default: '9092' },
    'dynamodb-port': { type: 'string', default: '8000' },
    's3-port': { type: 'string', default: '4569' },
    'log-level': { type: 'string', default: 'warn' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(`spool dev: a local Spool cluster on loopback

  --data-dir DIR        where brokers, DynamoDB Local and s3rver keep data (default .spool)
  --brokers N           number of broker processes (default 1)
  --port P              port of broker 0; broker i uses P+i (default 9092)
  --dynamodb-port P     DynamoDB Local port (default 8000)
  --s3-port P           s3rver port (default 4569)
  --log-level LEVEL     broker log level (default warn)
`);
  process.exit(0);
}

// Node 20 is Spool's supported runtime; the SDK's notice about its own future requirement is noise
// in every broker log line stream.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const started = Date.now();
process.stderr.write('starting DynamoDB Local, s3rver and brokers...\n');
const cluster = await DevCluster.start({
  dataDir: values['data-dir'],
  brokers: Number(values.brokers),
  basePort: Number(values.port),
  dynamoDbPort: Number(values['dynamodb-port']),
  s3Port: Number(values['s3-port']),
  logLevel: values['log-level'],
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
    `  state file: ${values['data-dir']}/${STATE_FILE}`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);

// Ctrl-C reaches npm, tsx and this process at once, and npm and tsx forward it, so one keypress can
// arrive as several SIGINTs. Only a signal more than 2 s after the first forces an exit (which
// would orphan DynamoDB Local's JVM).
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
