import { parseArgs } from 'node:util';
import { DEV_DEFAULTS, runDev } from './run-dev.js';

/**
 * `spool dev` without the CLI: runs a complete local cluster until Ctrl-C.
 *
 *   npm start -- --brokers 3 --data-dir ./.spool --port 9092
 */
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: DEV_DEFAULTS.dataDir },
    brokers: { type: 'string', default: String(DEV_DEFAULTS.brokers) },
    port: { type: 'string', default: String(DEV_DEFAULTS.port) },
    'dynamodb-port': { type: 'string', default: String(DEV_DEFAULTS.dynamoDbPort) },
    's3-port': { type: 'string', default: String(DEV_DEFAULTS.s3Port) },
    'log-level': { type: 'string', default: DEV_DEFAULTS.logLevel },
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

await runDev({
  dataDir: values['data-dir'],
  brokers: Number(values.brokers),
  port: Number(values.port),
  dynamoDbPort: Number(values['dynamodb-port']),
  s3Port: Number(values['s3-port']),
  logLevel: values['log-level'],
});
