import { CompressionType, type RecordHeader } from '../../protocol/record-batch/index.js';
import { InvalidTagError, tagsHeader } from '../../protocol/tag-filter/index.js';
import { Cluster } from '../cluster/index.js';
import { ConfigError, KafkaProtocolError, SpoolError, toSpoolError } from '../errors.js';
import { createDefaultPartitioner, type Partitioner } from '../partitioners.js';
import { type Serializer, serializeNullable } from '../serializers.js';
import { IdempotenceState } from './idempotence.js';
import {
  type PendingRecord,
  RecordAccumulator,
  type RecordMetadata,
  recordSize,
} from './record-accumulator.js';
import { cancellationRecord, type DeliveryTime, SCHEDULE_TOPIC, scheduledRecord } from './scheduling.js';
import { Sender } from './sender.js';

export type Acks = 0 | 1 | 'all';
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerOptions<K, V> {
  bootstrap: string[];
  clientId?: string;
  /** Default 'all'. */
  acks?: Acks;
  /** Default true; requires acks 'all'. */
  idempotent?: boolean;
  /** How long a batch waits for more records before it is sent. Default 5 ms. */
  lingerMs?: number;
  /** Bytes per partition batch. Default 16 KiB. */
  batchSize?: number;
  /** Bytes of records buffered (queued or in flight). Default 32 MiB. */
  bufferMemory?: number;
  /** How long send() waits for buffer space (and metadata) before failing. Default 60 s. */
  maxBlockMs?: number;
  /** Default 'none'. */
  compression?: Compression;
  /** Default: Buffers pass through, strings are UTF-8. */
  keySerializer?: Serializer<K>;
  valueSerializer?: Serializer<V>;
  /** Default: Java-compatible murmur2 for keys, sticky for keyless records. */
  partitioner?: Partitioner;
  /** Retries per batch. Default: unlimited within deliveryTimeoutMs. */
  retries?: number;
  /** Upper bound on the time from send() until the record is acknowledged or failed. Default 120 s. */
  deliveryTimeoutMs?: number;
  /** Per request. Default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Produce requests in flight per broker connection, at most 5. Default 5. With idempotence, as
   * many batches of one partition may be in flight (order is kept by sequence numbers); without,
   * one per partition.
   */
  maxInFlight?: number;
  retryBackoffMs?: number;
}

export interface ProducerRecord<K, V> extends DeliveryTime {
  key?: K | null;
  value: V | null;
  headers?: Record<string, string | Buffer> | RecordHeader[];
  partition?: number;
  /** Milliseconds since the epoch. Default: now. */
  timestamp?: number;
  /** Tags for broker-side filtering (the `spool-tags` header; consumers' `tagFilter`). */
  tags?: readonly string[];
}

const COMPRESSION: Record<Compression, CompressionType> = {
  none: CompressionType.None,
  gzip: CompressionType.Gzip,
  snappy: CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  zstd: CompressionType.Zstd,
};

/** Accepts Buffers and strings (UTF-8); anything else must come with a serializer. */
const defaultSerializer: Serializer<unknown> = {
  serialize(value) {
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (typeof value === 'string') return Buffer.from(value, 'utf8');
    throw new TypeError('the default serializer takes Buffers and strings; configure a serializer');
  },
};

function toHeaders(headers: ProducerRecord<unknown, unknown>['headers']): RecordHeader[] {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers;
  return Object.entries(headers).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
  }));
}

/** The record's headers plus its tags header; a copy, since toHeaders may return the caller's array. */
function withTags(headers: RecordHeader[], tags: readonly string[] | undefined): RecordHeader[] {
  if (!tags || tags.length === 0) return headers;
  try {
    return [...headers, tagsHeader(tags)];
  } catch (error) {
    if (error instanceof InvalidTagError) throw new ConfigError(error.message, 'tags');
    throw error;
  }
}

/**
 * Spool's producer. `send` serializes, partitions and appends a record to its partition's batch
 * and resolves with the offset once the broker acknowledged the batch (`acks`), or rejects with a
 * typed SpoolError: the broker's non-retriable KafkaProtocolError, TimeoutError after
 * `deliveryTimeoutMs`, BufferFullError when the buffer stayed full for `maxBlockMs`.
 *
 * Idempotent by default: one InitProducerId at connect, per-partition sequence numbers, and a
 * retried batch is resent byte-for-byte (same sequence) so the broker drops duplicates. Order
 * within a partition is kept across pipelined batches and retries (see Sender).
 */
export class Producer<K = Buffer | string, V = Buffer | string> {
  private readonly cluster: Cluster;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly idempotence: IdempotenceState | undefined;
  private readonly partitioner: Partitioner;
  private readonly keySerializer: Serializer<K>;
  private readonly valueSerializer: Serializer<V>;
  private readonly maxBlockMs: number;
  /** send() calls that have not reached the accumulator yet (metadata, buffer space). */
  private appending = 0;
  private connected: Promise<void> | undefined;
  private closing = false;

  constructor(options: ProducerOptions<K, V>) {
    const acks = options.acks ?? 'all';
    const idempotent = options.idempotent ?? true;
    if (idempotent && acks !== 'all')
      throw new ConfigError("an idempotent producer needs acks 'all' (or set idempotent: false)", 'acks');
    const maxInFlight = options.maxInFlight ?? 5;
    if (maxInFlight < 1 || maxInFlight > 5) throw new ConfigError('maxInFlight must be 1..5', 'maxInFlight');
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxBlockMs = options.maxBlockMs ?? 60_000;
    this.cluster = new Cluster({
      bootstrap: options.bootstrap,
      clientId: options.clientId ?? 'spool-producer',
      // The connection's own deadline leaves the broker its full Produce timeout.
      requestTimeoutMs: requestTimeoutMs + 5_000,
    });
    this.accumulator = new RecordAccumulator({
      batchSize: options.batchSize ?? 16_384,
      lingerMs: options.lingerMs ?? 5,
      bufferMemory: options.bufferMemory ?? 32 * 1024 * 1024,
      maxBlockMs: this.maxBlockMs,
      // Pipelining within a partition is only order-safe with sequence numbers.
      maxInFlightPerPartition: idempotent ? maxInFlight : 1,
    });
    this.idempotence = idempotent ? new IdempotenceState() : undefined;
    this.sender = new Sender(this.cluster, this.accumulator, {
      acks: acks === 'all' ? -1 : acks,
      compression: COMPRESSION[options.compression ?? 'none'],
      requestTimeoutMs,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
      retries: options.retries ?? Number.POSITIVE_INFINITY,
      maxInFlight,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      maxRetryBackoffMs: 1_000,
      clientId: options.clientId ?? 'spool-producer',
      idempotence: this.idempotence,
    });
    this.partitioner = options.partitioner ?? createDefaultPartitioner();
    this.keySerializer = options.keySerializer ?? (defaultSerializer as Serializer<K>);
    this.valueSerializer = options.valueSerializer ?? (defaultSerializer as Serializer<V>);
  }

  /** Loads cluster metadata and, when idempotent, the producer id. Called by send() if needed. */
  connect(): Promise<void> {
    this.connected ??= (async () => {
      await this.cluster.connect();
      await this.idempotence?.init(this.cluster);
    })();
    this.connected.catch(() => {
      this.connected = undefined;
    });
    return this.connected;
  }

  /**
   * With `deliverAfterMs` or `deliverAt` the record is scheduled instead: the broker stores it and
   * delivers it to `topic` at that time, exactly once, with the schedule id in the
   * `spool-schedule-id` header. The result then has `scheduleId` (for cancelScheduled), and
   * offset -1: the record has no offset until it is delivered.
   */
  async send(topic: string, record: ProducerRecord<K, V>): Promise<RecordMetadata> {
    if (this.closing) throw new SpoolError('the producer is closed');
    if (record.deliverAfterMs !== undefined || record.deliverAt !== undefined) {
      const { deliverAfterMs, deliverAt, partition, headers, ...rest } = record;
      const scheduled = scheduledRecord(
        topic,
        {
          ...(deliverAfterMs !== undefined ? { deliverAfterMs } : {}),
          ...(deliverAt !== undefined ? { deliverAt } : {}),
        },
        toHeaders(headers as ProducerRecord<unknown, unknown>['headers']),
        partition,
      );
      await this.send(SCHEDULE_TOPIC, {
        ...rest,
        headers: scheduled.headers,
        partition: scheduled.partition,
      });
      return { topic, partition: partition ?? -1, offset: -1, scheduleId: scheduled.scheduleId };
    }
    this.appending++;
    let appended = false;
    try {
      const context = { topic };
      const key = serializeNullable(this.keySerializer, record.key, context);
      const value = serializeNullable(this.valueSerializer, record.value, context);
      const headers = withTags(
        toHeaders(record.headers as ProducerRecord<unknown, unknown>['headers']),
        record.tags,
      );
      await this.connect();
      const partitionCount = await this.partitionCount(topic);
      const available = this.cluster.metadata
        .topic(topic)!
        .partitions.filter((p) => p.leader >= 0)
        .map((p) => p.partition);
      const partition = this.partitioner(
        { key, partition: record.partition ?? null },
        { topic, partitionCount, availablePartitions: available },
      );
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount)
        throw new KafkaProtocolError(3, { topic, partition, serverMessage: 'partition out of range' });
      const bytes = recordSize(key, value, headers);
      await this.accumulator.reserve(bytes);
      const result = new Promise<RecordMetadata>((resolve, reject) => {
        const pending: PendingRecord = {
          key,
          value,
          headers,
          timestamp: record.timestamp ?? Date.now(),
          resolve,
          reject,
        };
        const { batchFull } = this.accumulator.append(topic, partition, pending, bytes);
        if (batchFull && key === null) this.partitioner.onNewBatch?.(topic, partition);
      });
      appended = true;
      this.appending--;
      this.sender.wake();
      return await result;
    } catch (error) {
      throw toSpoolError(error);
    } finally {
      if (!appended) this.appending--;
    }
  }

  private async partitionCount(topic: string): Promise<number> {
    const deadline = Date.now() + this.maxBlockMs;
    for (;;) {
      await this.cluster.metadata.ensure([topic]);
      const count = this.cluster.metadata.topic(topic)?.partitions.length ?? 0;
      if (count > 0) return count;
      if (Date.now() > deadline)
        throw new KafkaProtocolError(3, {
          topic,
          serverMessage: `topic not found within ${this.maxBlockMs} ms`,
        });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await this.cluster.metadata.refresh([topic]);
    }
  }

  /**
   * Cancels a scheduled record that has not been delivered yet. Rejects with KafkaProtocolError
   * INVALID_RECORD (the message says why) if it was delivered already, is being delivered, or is
   * unknown.
   */
  async cancelScheduled(scheduleId: string): Promise<void> {
    const cancel = cancellationRecord(scheduleId);
    await this.send(SCHEDULE_TOPIC, {
      value: null,
      headers: cancel.headers,
      partition: cancel.partition,
    } as ProducerRecord<K, V>);
  }

  /** Sends everything buffered now (ignoring linger) and waits until every send has settled. */
  async flush(): Promise<void> {
    const endFlush = this.accumulator.beginFlush();
    try {
      this.sender.wake();
      while (this.appending > 0 || !this.accumulator.isEmpty || this.sender.inFlightCount > 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.sender.wake();
      }
    } finally {
      endFlush();
    }
  }

  /** Flushes, then closes connections. Sends after close() reject. */
  async close(): Promise<void> {
    if (this.closing) return;
    try {
      await this.flush();
    } finally {
      this.closing = true;
      this.sender.close(new SpoolError('the producer was closed'));
      this.cluster.close();
    }
  }
}
