import { type Command, InvalidArgumentError } from 'commander';
import { Admin } from '../client/admin/index.js';
import { KafkaProtocolError } from '../client/errors.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

/** Options every command inherits from the `spool` program. */
export interface GlobalOptions {
  bootstrap: string;
  output: 'text' | 'json';
  verbose: boolean;
}

/** A mistake in how the CLI was called or an unsupported request: printed as one line, exit 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** `host:port[,host:port]` as the Admin's bootstrap list. */
export function parseBootstrap(value: string): string[] {
  const servers = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const server of servers) {
    if (!/^[^:\s]+:\d+$/.test(server) && !/^\[[^\]]+\]:\d+$/.test(server))
      throw new CliError(`invalid bootstrap server '${server}' (expected host:port)`);
  }
  if (servers.length === 0) throw new CliError('no bootstrap servers given');
  return servers;
}

/** A commander argument parser for integers >= `min`. */
export function integer(min: number): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not an integer.`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`must be at least ${min}.`);
    return n;
  };
}

/** `k=v` pairs (from a variadic option) as a record. */
export function parseConfigs(pairs: readonly string[] | undefined): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid config '${pair}' (expected key=value)`);
    configs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return configs;
}

/** Runs `operation` with a connected Admin for the command's --bootstrap, closing it afterwards. */
export async function withAdmin<T>(command: Command, operation: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({
    bootstrap: parseBootstrap(globalOptions(command).bootstrap),
    clientId: 'spool-cli',
  });
  try {
    await admin.connect();
    return await operation(admin);
  } finally {
    admin.close();
  }
}

/**
 * Every partition of `topics` (only those numbered in `only`, if given), for consumers that
 * assign partitions instead of joining a group.
 */
export async function topicPartitions(
  admin: Admin,
  topics: readonly string[],
  only?: readonly number[],
): Promise<{ topic: string; partition: number }[]> {
  const described = await admin.describeTopics([...topics]);
  const partitions = described.flatMap((t) =>
    t.partitions
      .map((p) => p.partition)
      .filter((p) => only === undefined || only.includes(p))
      .map((partition) => ({ topic: t.name, partition })),
  );
  if (partitions.length === 0) throw new CliError(`no such partitions in ${topics.join(', ')}`);
  return partitions;
}

/** Prints `value` as JSON with --output json, else the text `render` returns. */
export function print(command: Command, value: unknown, render: () => string): void {
  if (globalOptions(command).output === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else {
    const text = render();
    process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
}

/** A left-aligned table with upper-case headers, columns two spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map((c) => String(c ?? '-')))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * One line for `error`: `error: <message>`. KafkaProtocolError messages already start with the
 * Kafka error name; other SDK errors that carry one (errorName) get it prefixed.
 */
export function errorLine(error: unknown): string {
  if (error instanceof KafkaProtocolError) return `error: ${error.message}`;
  if (error instanceof Error) {
    const name = (error as { errorName?: unknown }).errorName;
    const message = error.message.split('\n')[0] ?? '';
    return typeof name === 'string' && !message.includes(name)
      ? `error: ${name}: ${message}`
      : `error: ${message}`;
  }
  return `error: ${String(error)}`;
}
