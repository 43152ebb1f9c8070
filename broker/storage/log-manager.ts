import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../common/logger.js';
import { LogClosedError, LogConfigError } from './errors.js';
import { FileHandlePool } from './file-handle-pool.js';
import type { LogConfigInput } from './log-config.js';
import { PartitionLog } from './partition-log.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface LogManagerOptions {
  /** Config for logs that have no topic-specific config. */
  defaults?: LogConfigInput;
  /** Topic-level overrides, consulted when a log is opened. */
  configFor?: (topicPartition: TopicPartition) => LogConfigInput | undefined;
  /** Upper bound on open file descriptors across all logs (segments and indexes). */
  maxOpenFiles?: number;
  logger?: Logger;
}

/** Kafka's legal topic names: 1-249 characters from [a-zA-Z0-9._-]. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const PARTITION_DIR = /^(.+)-(\d+)$/;

export function partitionDirName({ topic, partition }: TopicPartition): string {
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new LogConfigError(`illegal topic name "${topic}"`, [`topic: ${topic}`]);
  }
  if (!Number.isInteger(partition) || partition < 0) {
    throw new LogConfigError(`illegal partition ${partition}`, [`partition: ${partition}`]);
  }
  return `${topic}-${partition}`;
}

function key(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/**
 * All partition logs of one broker under one data directory (`<dataDir>/<topic>-<partition>/`).
 *
 * Logs found on disk are only listed at start-up; each is opened (and, after a crash, recovered)
 * on first use. All logs share one bounded file-handle pool, and sealed segments open their files
 * only when read, so the number of partitions is not limited by file descriptors.
 */
export class LogManager {
  private readonly known = new Set<string>();
  private readonly open = new Map<string, Promise<PartitionLog>>();
  /** Per-directory chain of opens and deletes, so they never overlap on one partition. */
  private readonly lifecycle = new Map<string, Promise<void>>();
  private closed = false;

  private constructor(
    readonly dataDir: string,
    private readonly options: LogManagerOptions,
    readonly pool: FileHandlePool,
    private readonly logger: Logger,
  ) {}

  static async open(dataDir: string, options: LogManagerOptions = {}): Promise<LogManager> {
    await mkdir(dataDir, { recursive: true });
    const logger = options.logger ?? silentLogger();
    const manager = new LogManager(
      dataDir,
      options,
      new FileHandlePool(options.maxOpenFiles ?? 1024),
      logger,
    );
    for (const entry of await readdir(dataDir, { withFileTypes: true })) {
      if (entry.isDirectory() && PARTITION_DIR.test(entry.name)) manager.known.add(entry.name);
    }
    logger.info({ dataDir, partitions: manager.known.size }, 'log manager started');
    return manager;
  }

  /** Every partition that has a log on disk or open. */
  partitions(): TopicPartition[] {
    return [...this.known].sort().map((name) => {
      const [, topic, partition] = PARTITION_DIR.exec(name)!;
      return { topic: topic!, partition: Number(partition) };
    });
  }

  has(tp: TopicPartition): boolean {
    return this.known.has(key(tp));
  }

  /** The partition's log, opening it if needed, or undefined if it does not exist. */
  async get(tp: TopicPartition): Promise<PartitionLog | undefined> {
    return this.has(tp) ? this.openLog(tp) : undefined;
  }

  /** The partition's log, creating it if needed. */
  async getOrCreate(tp: TopicPartition): Promise<PartitionLog> {
    partitionDirName(tp);
    return this.openLog(tp);
  }

  private openLog(tp: TopicPartition): Promise<PartitionLog> {
    if (this.closed) return Promise.reject(new LogClosedError(this.dataDir));
    const name = partitionDirName(tp);
    let pending = this.open.get(name);
    if (!pending) {
      const config = { ...this.options.defaults, ...this.options.configFor?.(tp) };
      // Opening waits for any deletion of the same directory to finish first.
      pending = this.serialized(name, () =>
        PartitionLog.open(join(this.dataDir, name), { config, pool: this.pool, logger: this.logger }),
      );
      this.open.set(name, pending);
      this.known.add(name);
      pending.catch(() => {
        if (this.open.get(name) === pending) this.open.delete(name);
      });
    }
    return pending;
  }

  /** Runs `task` after every earlier open or delete of the same partition has settled. */
  private serialized<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.lifecycle.get(name) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.lifecycle.set(name, settled);
    void settled.then(() => {
      if (this.lifecycle.get(name) === settled) this.lifecycle.delete(name);
    });
    return next;
  }

  /** Closes the partition's log and deletes its directory. */
  delete(tp: TopicPartition): Promise<void> {
    const name = partitionDirName(tp);
    const pending = this.open.get(name);
    this.open.delete(name);
    this.known.delete(name);
    return this.serialized(name, async () => {
      const log = pending ? await pending.catch(() => undefined) : undefined;
      await log?.close();
      await rm(join(this.dataDir, name), { recursive: true, force: true });
      this.logger.info({ partition: name }, 'deleted partition log');
    });
  }

  /** fsyncs every open log. */
  async flushAll(): Promise<void> {
    for (const pending of this.open.values()) await (await pending).flush();
  }

  /** Closes every open log cleanly, then the handle pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const logs = await Promise.allSettled(this.open.values());
    for (const result of logs) if (result.status === 'fulfilled') await result.value.close();
    this.open.clear();
    await this.pool.closeAll();
  }
}
