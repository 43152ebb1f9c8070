import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { TagFilter, TagFilterSyntaxError } from '../../protocol/tag-filter/index.js';
import { Cluster } from '../cluster/index.js';
import { ConfigError, InvalidTagFilterError, type SpoolError, toSpoolError } from '../errors.js';
import { buffer, type Deserializer, deserializeNullable } from '../serializers.js';
import { CooperativeStickyAssignor } from './assignors/cooperative-sticky.js';
import { CoordinatorLink } from './coordinator-link.js';
import { Fetcher } from './fetcher.js';
import { GroupMembership } from './group-membership.js';
import { GroupOffsets } from './group-offsets.js';
import { OffsetCommitter } from './offset-committer.js';
import { PartitionHandover } from './partition-handover.js';
import { ConsumerRetries } from './retry/consumer-retries.js';
import type { RoutedFailure } from './retry/retry-router.js';
import { keyOf, SubscriptionState, type TakenBatch } from './subscription-state.js';
import type {
  ConsumerBatch,
  ConsumerOptions,
  ConsumerRecord,
  PartitionLag,
  RebalanceListener,
  StartPosition,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';

/** Lets an eachBatch handler report partial progress and notice that its batch went stale. */
export interface BatchControl<K = Buffer, V = Buffer> {
  /** Records up to and including `offset` are processed (committable under atLeastOnce). */
  markProcessed(offset: number): void;
  /** True once the partition was revoked, seeked or the consumer is closing: stop early. */
  isStale(): boolean;
  /**
   * With the consumer's `retry` option: sends `record` (one of this batch) to its retry topic, or
   * to the dead-letter topic after its last attempt, and resolves once that is acknowledged. The
   * record then counts as processed as soon as the handler marks it (or the batch) processed.
   * Without `retry` it rejects with a ConfigError.
   */
  retry(record: ConsumerRecord<K, V>, error: unknown): Promise<void>;
}

export interface RunOptions<K, V> {
  eachMessage?: (record: ConsumerRecord<K, V>) => Promise<void> | void;
  /** The whole batch counts as processed when this resolves (unless it marked less and threw). */
  eachBatch?: (batch: ConsumerBatch<K, V>, control: BatchControl<K, V>) => Promise<void> | void;
  /** Partitions processed at the same time (order within a partition is always kept). Default 1. */
  concurrency?: number;
}

/** Events for observability; none of them needs a listener. */
export interface ConsumerEvents {
  rebalancing: { reason: string };
  joined: { generationId: number; memberId: string; leader: boolean; protocol: string };
  committed: { offsets: { topic: string; partition: number; offset: number }[] };
  /** Something failed and is being retried (fetch errors, auto-commit failures). */
  warning: { error: SpoolError };
  /** With `retry`: a record failed and was sent to its retry or dead-letter topic. */
  handlerFailed: RoutedFailure;
}

/**
 * Spool's consumer. Subscribe (with a group) or assign partitions, then consume with
 * `for await (const batch of consumer)` or `run({ eachMessage | eachBatch })`.
 *
 * The fetcher keeps one Fetch in flight per leader and buffers one response per partition; batches
 * are handed out one partition at a time, round-robin, and a partition is never with two handlers
 * at once. Group membership (heartbeats included) runs on its own timers.
 */
export class Consumer<K = Buffer, V = Buffer> {
  private readonly options: ConsumerOptions<K, V>;
  private readonly cluster: Cluster;
  private readonly state = new SubscriptionState();
  private readonly fetcher: Fetcher;
  private readonly membership: GroupMembership | undefined;
  private readonly offsets: GroupOffsets | undefined;
  private readonly committer: OffsetCommitter;
  private readonly handover: PartitionHandover;
  private readonly events = new EventEmitter();
  private readonly keyDeserializer: Deserializer<K>;
  private readonly valueDeserializer: Deserializer<V>;
  private readonly maxBatchRecords: number;
  /** What the group membership subscribes to: the subscribed topics and their retry topics. */
  private topics: string[] = [];
  /** The topics subscribe() was given. */
  private sourceTopics: string[] = [];
  /** With the `retry` option: failed records are sent on through this. */
  private readonly retries: ConsumerRetries | undefined;
  private mode: 'none' | 'subscribe' | 'assign' = 'none';
  private started: Promise<void> | undefined;
  private fatalError: SpoolError | undefined;
  private stopping = false;
  private closed: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  /**
   * The batch a run() handler is processing (and, for eachMessage, the record), so that close()
   * called from inside a handler does not wait on itself.
   */
  private readonly handlerContext = new AsyncLocalStorage<{ batch: TakenBatch; record: number }>();
  /** Batches held by for-await loop bodies: close() cannot wait for them (it may be called from one). */
  private readonly iteratorBatches = new Set<TakenBatch>();

  constructor(options: ConsumerOptions<K, V>) {
    if (options.deliveryMode === 'exactlyOnce')
      throw new ConfigError(
        'exactlyOnce needs transactions, which Spool does not support yet; use atLeastOnce with idempotent processing',
        'deliveryMode',
      );
    if (options.groupInstanceId !== undefined && options.groupId === undefined)
      throw new ConfigError('groupInstanceId needs a groupId', 'groupInstanceId');
    const tagFilter = options.tagFilter === undefined ? undefined : parseTagFilter(options.tagFilter);
    this.options = options;
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const maxWaitMs = options.maxWaitMs ?? 500;
    this.cluster = new Cluster({
      bootstrap: options.bootstrap,
      clientId: options.clientId ?? 'spool-consumer',
      requestTimeoutMs: requestTimeoutMs + maxWaitMs,
      retryTimeoutMs: options.retryTimeoutMs ?? 30_000,
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? 5_000,
    });
    this.keyDeserializer = options.keyDeserializer ?? (buffer as unknown as Deserializer<K>);
    this.valueDeserializer = options.valueDeserializer ?? (buffer as unknown as Deserializer<V>);
    this.maxBatchRecords = options.maxBatchRecords ?? 500;
    this.retries = options.retry
      ? new ConsumerRetries(
          {
            retry: options.retry,
            groupId: options.groupId,
            bootstrap: options.bootstrap,
            clientId: options.clientId ?? 'spool-consumer',
          },
          this.cluster,
        )
      : undefined;
    const retryBackoffMs = 200;
    let offsets: GroupOffsets | undefined;
    if (options.groupId !== undefined) {
      const link = new CoordinatorLink(this.cluster, options.groupId);
      const membership = new GroupMembership(
        this.cluster,
        link,
        {
          groupId: options.groupId,
          groupInstanceId: options.groupInstanceId ?? null,
          sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
          rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
          heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
          requestTimeoutMs,
          retryBackoffMs,
          metadataMaxAgeMs: options.metadataMaxAgeMs ?? 5_000,
          assignors: options.assignors ?? [new CooperativeStickyAssignor()],
        },
        {
          topics: () => this.topics,
          owned: () => this.state.assigned(),
          revoke: (partitions) => this.handover.revoke(partitions),
          lose: (partitions) => this.handover.lose(partitions),
          assign: (partitions) => this.handover.assign(partitions),
          fatal: (error) => this.fail(error),
          event: (name: 'rebalancing' | 'joined', detail: ConsumerEvents['rebalancing' | 'joined']) =>
            this.events.emit(name, detail),
        },
      );
      this.membership = membership;
      offsets = new GroupOffsets(
        this.cluster,
        link,
        () => membership,
        () => membership.requestRejoin('a commit found the generation over'),
      );
    }
    this.offsets = offsets;
    this.committer = new OffsetCommitter(offsets, this.state, {
      committed: (list) => this.events.emit('committed', { offsets: list }),
      warn: (error) => this.warn(error),
    });
    this.handover = new PartitionHandover(this.state, {
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
      commitOnRevoke: this.commitsAfterProcessing && this.membership !== undefined,
      commit: (offsets) => this.committer.commit(offsets),
      waitForChange: (ms) => this.waitForChange(ms),
      onAssigned: () => this.fetcher.wake(),
      warn: (error) => this.warn(error),
    });
    this.fetcher = new Fetcher(
      this.cluster,
      this.state,
      {
        maxWaitMs,
        minBytes: options.minBytes ?? 1,
        maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
        maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
        startFrom: options.startFrom ?? 'latest',
        retryBackoffMs,
        tagFilter: tagFilter?.matchesEverything ? undefined : tagFilter,
      },
      {
        onRecords: () => this.notify(),
        fetchCommitted: (partitions) => this.committer.committedFor(partitions),
        onError: (error) => this.warn(toSpoolError(error)),
      },
    );
  }

  private get deliveryMode() {
    return this.options.deliveryMode ?? 'atLeastOnce';
  }

  /** atLeastOnce with auto commit: processed offsets are committed on a timer, on revoke and on close. */
  private get commitsAfterProcessing(): boolean {
    return this.deliveryMode === 'atLeastOnce' && (this.options.autoCommit ?? true);
  }

  on<E extends keyof ConsumerEvents>(event: E, listener: (detail: ConsumerEvents[E]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  /** Subscribes the group member to `topics`; partitions come from the group's assignment. */
  subscribe(topics: string | readonly string[], listener?: RebalanceListener): void {
    if (!this.membership)
      throw new ConfigError('subscribe() needs a groupId; use assign() without one', 'groupId');
    if (this.mode === 'assign')
      throw new ConfigError('this consumer uses assign(); it cannot also subscribe()');
    const sources = [...new Set(typeof topics === 'string' ? [topics] : topics)].sort();
    const subscribed = this.retries ? this.retries.subscription(sources) : sources;
    this.mode = 'subscribe';
    this.sourceTopics = sources;
    this.topics = subscribed;
    if (listener) this.handover.listener = listener;
    if (!this.started) return;
    const membership = this.membership;
    const rejoin = () => membership.requestRejoin('the subscription changed');
    if (!this.retries) {
      rejoin();
      return;
    }
    // The new retry topics should exist before the group is asked to assign them.
    void this.retries.ensureTopics(sources).then(rejoin, (error) => {
      this.warn(toSpoolError(error));
      rejoin();
    });
  }

  /**
   * Consumes exactly these partitions, without group membership. With a groupId they start at the
   * group's committed offsets (and commits go to that group); otherwise at `startFrom`.
   */
  assign(partitions: readonly TopicPartition[]): void {
    if (this.mode === 'subscribe')
      throw new ConfigError('this consumer uses subscribe(); it cannot also assign()');
    if (this.retries)
      throw new ConfigError('retry needs subscribe(): retried records come back through the group', 'retry');
    this.mode = 'assign';
    const wanted = new Set(partitions.map((p) => keyOf(p.topic, p.partition)));
    this.state.unassign(this.state.assigned().filter((p) => !wanted.has(keyOf(p.topic, p.partition))));
    this.state.assign(partitions, this.membership ? 'committed' : (this.options.startFrom ?? 'latest'));
    this.fetcher.wake();
  }

  /** The partitions assigned now. */
  assignment(): TopicPartition[] {
    return this.state.assigned();
  }

  /** Connects, joins the group (if subscribed) and starts fetching. run() and iteration call it. */
  start(): Promise<void> {
    this.started ??= (async () => {
      if (this.mode === 'none') throw new ConfigError('call subscribe() or assign() before consuming');
      await this.cluster.connect();
      // Before joining, so that the first assignment includes the retry topics.
      if (this.retries) await this.retries.ensureTopics(this.sourceTopics);
      this.fetcher.start();
      if (this.mode === 'subscribe') this.membership!.start();
      if (this.commitsAfterProcessing && this.membership) {
        const membership = this.membership;
        this.committer.startAutoCommit(
          this.options.autoCommitIntervalMs ?? 5_000,
          // Mid-rebalance commits would only bounce; revocation commits what it gives up.
          () => this.mode === 'assign' || membership.isStable,
        );
      }
    })();
    return this.started;
  }

  /** Resolves when the group assigned this member its partitions (right away for assign()). */
  async ready(): Promise<void> {
    await this.start();
    await this.membership?.waitUntilStable();
  }

  /**
   * Processes records until close() (resolves) or until a handler throws: then the consumer
   * commits what was processed before the failure (under atLeastOnce), closes, and run() rejects
   * with the handler's error, so the failed record is delivered again to the next consumer.
   * With the `retry` option, an eachMessage handler's failure instead sends the record to a retry
   * or dead-letter topic and processing goes on (see ConsumerOptions.retry).
   */
  async run(handlers: RunOptions<K, V>): Promise<void> {
    if (!handlers.eachMessage === !handlers.eachBatch)
      throw new ConfigError('run() takes exactly one of eachMessage and eachBatch');
    await this.start();
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined) {
        const batch = await this.nextBatch();
        if (!batch) return;
        try {
          await this.handlerContext.run({ batch, record: -1 }, () => this.process(batch, handlers));
        } finally {
          this.settle(batch);
        }
      }
    };
    const workers = Array.from({ length: Math.max(1, handlers.concurrency ?? 1) }, () =>
      worker().catch((error) => {
        failure ??= error;
        this.stopping = true;
        this.notify();
      }),
    );
    await Promise.all(workers);
    if (failure !== undefined) {
      await this.close();
      throw failure;
    }
  }

  /**
   * Batch iteration. A batch counts as processed when the loop body finishes and asks for the
   * next one. Leaving the loop (break, return, throw) closes the consumer, and the batch in hand
   * is not counted: a throw and a break look the same from here, so it is delivered again unless
   * the body committed it (`await consumer.commit(consumer.offsetsAfter(batch))`) before leaving.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerBatch<K, V>, void, undefined> {
    await this.start();
    let current: TakenBatch | undefined;
    try {
      for (;;) {
        current = await this.nextBatch();
        if (!current) return;
        this.iteratorBatches.add(current);
        yield this.toConsumerBatch(current);
        this.state.markProcessed(current, current.nextOffset);
        this.iteratorBatches.delete(current);
        this.settle(current);
        current = undefined;
      }
    } finally {
      if (current) {
        this.iteratorBatches.delete(current);
        this.settle(current);
      }
      await this.close();
    }
  }

  private async process(batch: TakenBatch, handlers: RunOptions<K, V>): Promise<void> {
    const stale = () => this.stopping || !this.state.isCurrent(batch) || this.handover.isRevoking(batch);
    if (handlers.eachMessage) {
      const context = this.handlerContext.getStore();
      for (const record of batch.records) {
        if (stale()) return;
        if (context) context.record = record.offset;
        if (this.retries) {
          const routed = await this.retries.handle(
            { topic: batch.topic, partition: batch.partition, ...record },
            () => this.toConsumerRecord(batch, record),
            handlers.eachMessage,
          );
          if (routed) this.events.emit('handlerFailed', routed);
        } else await handlers.eachMessage(this.toConsumerRecord(batch, record));
        this.state.markProcessed(batch, record.offset + 1);
      }
      // Every record is processed: so are the skipped offsets after the last one.
      this.state.markProcessed(batch, batch.nextOffset);
      return;
    }
    await handlers.eachBatch!(this.toConsumerBatch(batch), {
      markProcessed: (offset) => this.state.markProcessed(batch, offset + 1),
      isStale: stale,
      retry: async (record, error) => {
        const fetched = batch.records.find((r) => r.offset === record.offset);
        if (!fetched || record.topic !== batch.topic || record.partition !== batch.partition)
          throw new ConfigError('control.retry() takes a record of the batch it was given with');
        if (!this.retries) throw new ConfigError('control.retry() needs the retry option', 'retry');
        const routed = await this.retries.route(
          { topic: batch.topic, partition: batch.partition, ...fetched },
          error,
        );
        this.events.emit('handlerFailed', routed);
      },
    });
    this.state.markProcessed(batch, batch.nextOffset);
  }

  /** The next batch to hand out, waiting for one; undefined once the consumer is stopping. */
  private async nextBatch(): Promise<TakenBatch | undefined> {
    for (;;) {
      if (this.fatalError) throw this.fatalError;
      if (this.stopping) return undefined;
      const batch = this.state.take(this.maxBatchRecords);
      if (!batch) {
        await this.waitForChange(1_000);
        continue;
      }
      this.fetcher.wake(); // its buffer may be empty now: fetch the next records while these are processed
      if (this.deliveryMode === 'atMostOnce' && !(await this.commitBeforeDelivery(batch))) continue;
      return batch;
    }
  }

  /**
   * atMostOnce: the batch's offsets are committed before anyone sees it. If that fails, the batch
   * is not delivered; the partition goes back to the batch's first offset (unless it was revoked).
   */
  private async commitBeforeDelivery(batch: TakenBatch): Promise<boolean> {
    const next = batch.nextOffset;
    try {
      if (this.options.groupId !== undefined)
        await this.committer.commit([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      if (this.state.isCurrent(batch)) return true;
    } catch (error) {
      this.warn(toSpoolError(error));
      const partition = this.state.get(batch.topic, batch.partition);
      if (partition && this.state.isCurrent(batch)) this.state.seek(partition, batch.records[0]!.offset);
    }
    this.settle(batch);
    this.fetcher.wake();
    return false;
  }

  private settle(batch: TakenBatch): void {
    this.state.release(batch);
    this.notify();
  }

  private toConsumerRecord(batch: TakenBatch, record: TakenBatch['records'][number]): ConsumerRecord<K, V> {
    const context = { topic: batch.topic };
    return {
      topic: batch.topic,
      partition: batch.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: deserializeNullable(this.keyDeserializer, record.key, context),
      value: deserializeNullable(this.valueDeserializer, record.value, context),
      headers: record.headers,
      leaderEpoch: record.leaderEpoch,
    };
  }

  private toConsumerBatch(batch: TakenBatch): ConsumerBatch<K, V> {
    return {
      topic: batch.topic,
      partition: batch.partition,
      records: batch.records.map((r) => this.toConsumerRecord(batch, r)),
      highWatermark: batch.highWatermark,
      lag: Math.max(0, batch.highWatermark - batch.nextOffset),
    };
  }

  /**
   * Moves a partition: to an offset, or to 'earliest', 'latest' or the first record at or after a
   * timestamp. Buffered records are dropped; a batch being processed finishes, but its progress no
   * longer counts.
   */
  seek(partition: TopicPartition, to: number | StartPosition): void {
    const state = this.state.get(partition.topic, partition.partition);
    if (!state)
      throw new ConfigError(`${partition.topic}[${partition.partition}] is not assigned to this consumer`);
    if (typeof to === 'number') this.state.seek(state, to);
    else this.state.requestReset(state, to);
    this.fetcher.wake();
  }

  /** Stops handing out (and fetching) records of these partitions until resume(). */
  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.state.get(p.topic, p.partition);
      if (state) state.paused = true;
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.state.get(p.topic, p.partition);
      if (state) state.paused = false;
    }
    this.fetcher.wake();
    this.notify();
  }

  paused(): TopicPartition[] {
    return this.state
      .states()
      .filter((s) => s.paused)
      .map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * Commits `offsets` (each the next offset to read), or, without arguments, everything processed
   * and not yet committed. Rejects with a typed error (e.g. ILLEGAL_GENERATION after a rebalance).
   */
  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.options.groupId === undefined) throw new ConfigError('commit() needs a groupId', 'groupId');
    await this.committer.commit(offsets ?? this.state.uncommitted());
  }

  /** The offset to commit once `batch` is processed: its partition, after its last record. */
  offsetsAfter(batch: Pick<ConsumerBatch<K, V>, 'topic' | 'partition' | 'records'>): TopicPartitionOffset[] {
    const last = batch.records[batch.records.length - 1];
    return last ? [{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }] : [];
  }

  /** The group's committed offsets (-1 where none) for these partitions (default: the assignment). */
  async committed(
    partitions: readonly TopicPartition[] = this.assignment(),
  ): Promise<TopicPartitionOffset[]> {
    if (!this.offsets) throw new ConfigError('committed() needs a groupId', 'groupId');
    await this.start();
    const offsets = await this.offsets.fetchCommitted(partitions);
    return partitions.map((p) => ({ ...p, offset: offsets.get(`${p.topic}:${p.partition}`) ?? -1 }));
  }

  /** Lag per assigned partition, from the high watermarks of the latest fetches. */
  lag(): PartitionLag[] {
    return this.state.states().map((s) => {
      const known = s.reset === null && s.highWatermark >= 0;
      return {
        topic: s.topic,
        partition: s.partition,
        position: s.reset === null ? s.position : -1,
        committed: s.committed,
        highWatermark: s.highWatermark,
        lag: known ? Math.max(0, s.highWatermark - s.position) : -1,
      };
    });
  }

  /**
   * Stops consuming: handlers finish the record in hand, processed offsets are committed
   * (atLeastOnce with auto commit), the revoke listener runs, and the member leaves the group.
   * From inside an eachMessage handler it counts that handler's record as processed (the handler
   * chose to stop after it); from a for-await body, the batch in hand is not counted.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping = true;
      this.notify();
      this.committer.stopAutoCommit();
      // Called from a handler or a loop body: that batch ends here. An eachMessage handler that
      // closes the consumer is done with its record: it counts as processed.
      const own = this.handlerContext.getStore();
      if (own) {
        if (own.record >= 0) this.state.markProcessed(own.batch, own.record + 1);
        this.settle(own.batch);
      }
      for (const batch of this.iteratorBatches) this.settle(batch);
      this.iteratorBatches.clear();
      try {
        if (this.started) {
          await this.started.catch(() => {});
          await this.handover.revokeAll(this.mode === 'subscribe');
        }
      } finally {
        this.fetcher.stop();
        await this.membership?.close();
        this.cluster.close();
        // Last: handlers that finished above may have been sending failed records through it.
        await this.retries?.close();
      }
    })();
    return this.closed;
  }

  private fail(error: SpoolError): void {
    this.fatalError ??= error;
    this.notify();
  }

  private warn(error: SpoolError): void {
    this.events.emit('warning', { error });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify() (new records, a settled batch, close) or after `ms`. */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}

/** Validates the consumer's tag filter up front, with the SDK's error class. */
function parseTagFilter(text: string): TagFilter {
  try {
    return TagFilter.parse(text);
  } catch (error) {
    if (error instanceof TagFilterSyntaxError)
      throw new InvalidTagFilterError(text, error.position, error.reason);
    throw error;
  }
}
