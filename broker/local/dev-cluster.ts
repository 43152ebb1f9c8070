import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ArchiveMaintenanceSummary } from '../../archive/archive-maintenance.js';
import { DEFAULT_ORPHAN_GRACE_MS } from '../../archive/orphan-sweep.js';
import { LOG_LEVELS, type SpoolLogLevel } from '../../lambdas/common/observability.js';
import { createPromotionHandler } from '../../lambdas/delayed-promotion/handler.js';
import { PROMOTION_SCHEDULE } from '../../lambdas/delayed-promotion/schedule.js';
import { createRetentionHandler } from '../../lambdas/retention/handler.js';
import { RETENTION_SCHEDULE } from '../../lambdas/retention/schedule.js';
import { createLogger } from '../common/logger.js';
import type { DueScanSummary } from '../delay/promoter.js';
import { waitForClusterHealth } from './cluster-health.js';
import { type RunningEmulator, startDynamoDbLocal, startS3rver } from './emulators.js';
import { LocalLambdaSchedule } from './lambda-schedule.js';

/** The bucket the local cluster archives to (created in s3rver at start-up). */
export const ARCHIVE_BUCKET = 'spool-archive';

/**
 * A complete local cluster on loopback: DynamoDB Local, s3rver, and N broker processes (separate
 * OS processes, so a test can kill one). Used by `spool dev` and by the integration and
 * compatibility tests. Its state file (`<dataDir>/spool-dev.json`) lists every process and
 * endpoint for tools that attach to a running cluster.
 */
export interface DevClusterOptions {
  dataDir: string;
  brokers?: number;
  /** Port of broker 0; broker i listens on basePort + i. 0 picks free ports. */
  basePort?: number;
  dynamoDbPort?: number;
  s3Port?: number;
  tablePrefix?: string;
  clusterId?: string;
  logLevel?: string;
  /** Keep DynamoDB tables in memory instead of under dataDir (tests). */
  inMemoryMetadata?: boolean;
  /** Extra environment for broker processes. */
  brokerEnv?: Record<string, string>;
  /**
   * How often the retention Lambda's handler runs archive retention and the orphan sweep (its
   * EventBridge schedule in AWS; see lambda-schedule.ts). Default 60 s; 0 turns it off.
   */
  retentionIntervalMs?: number;
  /** How often the delayed-promotion Lambda's handler runs (default 60 s; 0 turns it off). */
  promotionIntervalMs?: number;
}

export interface BrokerProcessState {
  nodeId: number;
  pid: number;
  host: string;
  port: number;
  metricsPort: number | null;
  dataDir: string;
}

export interface DevClusterState {
  clusterId: string;
  bootstrap: string;
  tablePrefix: string;
  dynamoDbEndpoint: string;
  s3Endpoint: string;
  /** The archive's bucket (tiered segments) in the S3 emulator. */
  archiveBucket: string;
  brokers: BrokerProcessState[];
  startedAt: string;
}

export const STATE_FILE = 'spool-dev.json';
const BROKER_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../main.ts');

interface RunningBroker {
  state: BrokerProcessState;
  process: ChildProcess;
  exited: Promise<number | null>;
}

export class DevCluster {
  private readonly brokers = new Map<number, RunningBroker>();
  /** A restarted broker keeps its port, so clients' bootstrap lists stay valid. */
  private readonly lastPorts = new Map<number, number>();
  private retention: LocalLambdaSchedule<ArchiveMaintenanceSummary> | undefined;
  private promotion: LocalLambdaSchedule<DueScanSummary> | undefined;

  private constructor(
    readonly options: Required<Omit<DevClusterOptions, 'brokerEnv'>> & { brokerEnv: Record<string, string> },
    private readonly dynamo: RunningEmulator,
    private readonly s3: RunningEmulator,
  ) {}

  static async start(options: DevClusterOptions): Promise<DevCluster> {
    const resolved = {
      brokers: 1,
      basePort: 9092,
      dynamoDbPort: 0,
      s3Port: 0,
      tablePrefix: 'spool',
      clusterId: 'spool-local',
      logLevel: 'info',
      inMemoryMetadata: false,
      brokerEnv: {},
      retentionIntervalMs: 60_000,
      promotionIntervalMs: PROMOTION_SCHEDULE.rateMinutes * 60_000,
      ...options,
      dataDir: resolve(options.dataDir),
    };
    await mkdir(resolved.dataDir, { recursive: true });
    const dynamoDir = join(resolved.dataDir, 'dynamodb');
    if (!resolved.inMemoryMetadata) await mkdir(dynamoDir, { recursive: true });
    const dynamo = await startDynamoDbLocal({
      ...(resolved.dynamoDbPort ? { port: resolved.dynamoDbPort } : {}),
      ...(resolved.inMemoryMetadata ? {} : { dataDir: dynamoDir }),
    });
    const s3Dir = join(resolved.dataDir, 's3');
    await mkdir(s3Dir, { recursive: true });
    let s3: RunningEmulator;
    try {
      s3 = await startS3rver({
        directory: s3Dir,
        buckets: [ARCHIVE_BUCKET],
        ...(resolved.s3Port ? { port: resolved.s3Port } : {}),
      });
    } catch (error) {
      await dynamo.stop();
      throw error;
    }
    const cluster = new DevCluster(resolved, dynamo, s3);
    try {
      await Promise.all(Array.from({ length: resolved.brokers }, (_, id) => cluster.startBroker(id)));
      await cluster.waitUntilHealthy();
      cluster.startRetention();
      cluster.startPromotion();
      await cluster.writeState();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get state(): DevClusterState {
    const brokers = [...this.brokers.values()].map((b) => b.state).sort((a, b) => a.nodeId - b.nodeId);
    return {
      clusterId: this.options.clusterId,
      bootstrap: brokers.map((b) => `${b.host}:${b.port}`).join(','),
      tablePrefix: this.options.tablePrefix,
      dynamoDbEndpoint: this.dynamo.endpoint,
      s3Endpoint: this.s3.endpoint,
      archiveBucket: ARCHIVE_BUCKET,
      brokers,
      startedAt: new Date().toISOString(),
    };
  }

  get bootstrap(): string {
    return this.state.bootstrap;
  }

  /** Starts broker `nodeId` (again, after a kill or stop), reusing its data directory and port. */
  async startBroker(nodeId: number): Promise<BrokerProcessState> {
    if (this.brokers.has(nodeId)) throw new Error(`broker ${nodeId} is already running`);
    const dataDir = join(this.options.dataDir, `broker-${nodeId}`);
    const previousPort = this.lastPorts.get(nodeId);
    const port = previousPort ?? (this.options.basePort === 0 ? 0 : this.options.basePort + nodeId);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        BROKER_MAIN,
        '--node-id',
        String(nodeId),
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--cluster-id',
        this.options.clusterId,
        '--table-prefix',
        this.options.tablePrefix,
        '--log-level',
        this.options.logLevel,
      ],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_DYNAMODB: this.dynamo.endpoint,
          AWS_ENDPOINT_URL_S3: this.s3.endpoint,
          SPOOL_ARCHIVE_BUCKET: ARCHIVE_BUCKET,
          AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
          // Last, so tests can route a broker's S3 traffic through a fault-injecting proxy.
          ...this.options.brokerEnv,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolveExit) =>
      child.once('exit', (code) => resolveExit(code)),
    );
    const ready = await new Promise<{ port: number; metricsPort: number | null }>((resolveReady, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`broker ${nodeId} did not start within 60 s`)), 60_000);
      lines.on('line', (line) => {
        if (line.includes('"event":"ready"')) {
          clearTimeout(timer);
          resolveReady(JSON.parse(line) as { port: number; metricsPort: number | null });
        } else {
          // Broker logs go to stdout as JSON lines; pass them through.
          process.stdout.write(`${line}\n`);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`broker ${nodeId} exited with code ${code} before it was ready`));
      });
    });
    const state: BrokerProcessState = {
      nodeId,
      pid: child.pid!,
      host: '127.0.0.1',
      port: ready.port,
      metricsPort: ready.metricsPort,
      dataDir,
    };
    this.lastPorts.set(nodeId, ready.port);
    this.brokers.set(nodeId, { state, process: child, exited });
    void exited.then(() => this.brokers.delete(nodeId));
    return state;
  }

  /**
   * Waits until every running broker sees all the others, a controller is known and every partition
   * has a leader and a full ISR (see cluster-health.ts). Call after restarting a broker.
   */
  waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    return waitForClusterHealth(
      [...this.brokers.values()].map(({ state }) => ({
        nodeId: state.nodeId,
        host: state.host,
        port: state.port,
      })),
      timeoutMs,
    );
  }

  /** Kills a broker process with `signal` (SIGKILL for a crash, SIGTERM for a graceful stop). */
  async stopBroker(nodeId: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const broker = this.brokers.get(nodeId);
    if (!broker) return;
    broker.process.kill(signal);
    const timer = setTimeout(() => broker.process.kill('SIGKILL'), 15_000);
    await broker.exited;
    clearTimeout(timer);
    this.brokers.delete(nodeId);
  }

  /** Whether broker `nodeId`'s process is running (it may be paused). */
  isRunning(nodeId: number): boolean {
    return this.brokers.has(nodeId);
  }

  /**
   * Freezes broker `nodeId` with SIGSTOP (a long GC pause or a hung VM, for fault tests): its
   * sockets stay open but it does nothing until `resumeBroker`. Call `resumeBroker` before
   * stopping a paused broker gracefully.
   */
  pauseBroker(nodeId: number): void {
    const broker = this.brokers.get(nodeId);
    if (!broker) throw new Error(`broker ${nodeId} is not running`);
    broker.process.kill('SIGSTOP');
  }

  /** Resumes a broker frozen by `pauseBroker` (SIGCONT). */
  resumeBroker(nodeId: number): void {
    this.brokers.get(nodeId)?.process.kill('SIGCONT');
  }

  /**
   * The retention Lambda's schedule, locally: the handler itself (lambdas/retention/handler.ts)
   * invoked against the emulators, as EventBridge invokes it in AWS.
   */
  private startRetention(): void {
    if (this.options.retentionIntervalMs <= 0) return;
    const level = this.options.logLevel;
    const handler = createRetentionHandler(() => ({
      aws: this.awsSettings(),
      bucket: ARCHIVE_BUCKET,
      orphanGraceMs: DEFAULT_ORPHAN_GRACE_MS,
      logLevel: (LOG_LEVELS as readonly string[]).includes(level) ? (level as SpoolLogLevel) : 'info',
      // EMF lines are for CloudWatch to ingest; locally they would only be noise.
      metrics: false,
    }));
    this.retention = new LocalLambdaSchedule({
      name: 'retention',
      handler,
      timeoutMs: RETENTION_SCHEDULE.timeoutMs,
      logger: createLogger({ name: 'spool-dev', level }),
      dispose: () => handler.dispose(),
    });
    this.retention.start(this.options.retentionIntervalMs);
  }

  /** The delayed-promotion Lambda's schedule, locally: its handler against this cluster. */
  private startPromotion(): void {
    if (this.options.promotionIntervalMs <= 0) return;
    const level = this.options.logLevel;
    const handler = createPromotionHandler(() => ({
      aws: this.awsSettings(),
      bootstrap: this.bootstrap.split(','),
      graceMs: 5000,
      logLevel: (LOG_LEVELS as readonly string[]).includes(level) ? (level as SpoolLogLevel) : 'info',
      metrics: false,
    }));
    this.promotion = new LocalLambdaSchedule({
      name: 'delayed-promotion',
      handler,
      timeoutMs: PROMOTION_SCHEDULE.timeoutMs,
      logger: createLogger({ name: 'spool-dev', level }),
      dispose: () => void handler.dispose(),
    });
    this.promotion.start(this.options.promotionIntervalMs);
  }

  private awsSettings() {
    return {
      region: process.env.AWS_REGION ?? 'us-east-1',
      tablePrefix: this.options.tablePrefix,
      dynamoDbEndpoint: this.dynamo.endpoint,
      s3Endpoint: this.s3.endpoint,
    };
  }

  private writeState(): Promise<void> {
    return writeFile(join(this.options.dataDir, STATE_FILE), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  /** Stops every broker gracefully, then the emulators, and removes the state file. */
  async stop(): Promise<void> {
    await this.retention?.stop();
    this.retention = undefined;
    await this.promotion?.stop();
    this.promotion = undefined;
    await Promise.all([...this.brokers.keys()].map((id) => this.stopBroker(id)));
    await this.s3.stop();
    await this.dynamo.stop();
    await rm(join(this.options.dataDir, STATE_FILE), { force: true });
  }
}
