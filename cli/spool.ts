import { Command, Option } from 'commander';
import { benchCommand } from './commands/bench.js';
import { clusterCommand } from './commands/cluster.js';
import { consumeCommand } from './commands/consume.js';
import { devCommand } from './commands/dev.js';
import { dlqCommand } from './commands/dlq.js';
import { groupCommand } from './commands/group.js';
import { produceCommand } from './commands/produce.js';
import { replayCommand } from './commands/replay.js';
import { topicCommand } from './commands/topic.js';
import { DEFAULT_BOOTSTRAP, errorLine } from './common.js';

/**
 * The `spool` CLI. Run through `cli/bin.js` (npm bin) or `node --import tsx cli/spool.ts`.
 * Failures print one line (`error: ...`) and exit 1; --verbose adds the stack trace.
 */
export function buildProgram(): Command {
  const program = new Command('spool')
    .description('Spool: a Kafka-compatible message broker')
    .addOption(
      new Option('--bootstrap <host:port[,host:port]>', 'brokers to connect to')
        .env('SPOOL_BOOTSTRAP')
        .default(DEFAULT_BOOTSTRAP),
    )
    .addOption(new Option('--output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--verbose', 'print stack traces with errors', false)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: true })
    .showHelpAfterError('(add --help for usage)');
  devCommand(program);
  topicCommand(program);
  groupCommand(program);
  clusterCommand(program);
  produceCommand(program);
  consumeCommand(program);
  replayCommand(program);
  dlqCommand(program);
  benchCommand(program);
  return program;
}

const program = buildProgram();
try {
  await program.parseAsync();
} catch (error) {
  process.stderr.write(`${errorLine(error)}\n`);
  if (program.opts<{ verbose?: boolean }>().verbose || process.argv.includes('--verbose')) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? '') : ''}\n`);
    if (error instanceof Error && error.cause instanceof Error) {
      process.stderr.write(`caused by: ${error.cause.stack ?? error.cause.message}\n`);
    }
  }
  process.exitCode = 1;
}
// Commands are done here (produce and bench have closed their producers); lingering sockets or
// timers must not keep the process alive.
// (`spool dev` never gets here: it runs until a signal stops it.)
process.exit();
