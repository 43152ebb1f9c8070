/**
 * One replay: downloads the planned parts of every partition in parallel (PartScheduler), and hands
 * out each partition's records in offset order as batches, verified, decompressed, filtered by the
 * window and deserialized. Batches of different partitions interleave.
 */
import { TimestampType } from '../../protocol/record-batch/index.js';
import type { ConsumerRecord } from '../consumer/types.js';
import { toSpoolError } from '../errors.js';
import { type Deserializer, deserializeNullable } from '../serializers.js';
import { ArchiveCorruptSegmentError, ArchiveSegmentMissingError, NoSuchObjectError } from './errors.js';
import { PartScheduler, type Settled } from './part-scheduler.js';
import { RecordWindow, type WindowBounds } from './record-window.js';
import { type SegmentRead, splitRange } from './replay-plan.js';
import { SegmentDecoder } from './segment-decoder.js';

/** Records of one partition, in offset order. */
export interface ReplayBatch<K, V> {
  topic: string;
  partition: number;
  records: ConsumerRecord<K, V>[];
}

export interface ReplayProgress {
  /** False until the replay is planned; the totals are 0 until then. */
  planned: boolean;
  partitions: number;
  partitionsDone: number;
  /** Segment reads planned (a partition that ends early drops its remaining ones). */
  segments: number;
  segmentsDone: number;
  /** Bytes of .log objects planned; shrinks when a partition ends early (a time bound). */
  totalBytes: number;
  /** Bytes downloaded, verified and decoded. */
  bytesDone: number;
  /** Records handed out. */
  records: number;
  /** Since the iteration started. */
  elapsedMs: number;
}

/** A partition's part of a replay, as planned. */
export interface PlannedPartition {
  partition: number;
  logStartOffset: number;
  window: WindowBounds;
  reads: SegmentRead[];
}

export interface PlannedReplay {
  topic: string;
  topicId: string;
  partitions: PlannedPartition[];
}

export interface ReplaySettings<K, V> {
  /** Plans the replay (DynamoDB reads, index downloads); called once. */
  plan: () => Promise<PlannedReplay>;
  /** Bytes [start, end) of an object. */
  fetch: (key: string, start: number, end: number, signal: AbortSignal) => Promise<Buffer>;
  keyDeserializer: Deserializer<K>;
  valueDeserializer: Deserializer<V>;
  concurrency: number;
  partBytes: number;
  maxBufferedBytes: number;
  maxBatchRecords: number;
  onProgress?: (progress: ReplayProgress) => void;
}

interface Job {
  bytes: number;
  run: PartitionRun;
  read: SegmentRead;
  start: number;
  end: number;
  /** The read's last part. */
  last: boolean;
}

interface PartitionRun {
  planned: PlannedPartition;
  window: RecordWindow;
  decoder: SegmentDecoder | undefined;
}

type RawRecord = Omit<ConsumerRecord<Buffer, Buffer>, 'topic' | 'partition'>;

export class ArchiveReplay<K, V> implements AsyncIterable<ReplayBatch<K, V>> {
  private planning: Promise<PlannedReplay> | undefined;
  private iterated = false;
  private startedAt = 0;
  private readonly counters: Omit<ReplayProgress, 'elapsedMs'> = {
    planned: false,
    partitions: 0,
    partitionsDone: 0,
    segments: 0,
    segmentsDone: 0,
    totalBytes: 0,
    bytesDone: 0,
    records: 0,
  };

  constructor(private readonly settings: ReplaySettings<K, V>) {}

  /** The plan: partitions, their offset windows and the segments to read. Planned once. */
  plan(): Promise<PlannedReplay> {
    this.planning ??= this.settings.plan().then((plan) => {
      this.counters.planned = true;
      this.counters.partitions = plan.partitions.length;
      for (const p of plan.partitions) {
        this.counters.segments += p.reads.length;
        for (const read of p.reads) this.counters.totalBytes += read.toPosition - read.fromPosition;
      }
      return plan;
    });
    return this.planning;
  }

  progress(): ReplayProgress {
    return { ...this.counters, elapsedMs: this.startedAt === 0 ? 0 : performance.now() - this.startedAt };
  }

  [Symbol.asyncIterator](): AsyncIterator<ReplayBatch<K, V>> {
    if (this.iterated) throw new TypeError('a replay can be iterated once; start another with replay()');
    this.iterated = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<ReplayBatch<K, V>> {
    this.startedAt = performance.now();
    const plan = await this.plan();
    const { settings } = this;
    const scheduler = new PartScheduler<Job>(
      (job, signal) => settings.fetch(job.read.segment.keys.log, job.start, job.end, signal),
      settings.concurrency,
      settings.maxBufferedBytes,
    );
    try {
      for (const planned of plan.partitions) {
        const run: PartitionRun = { planned, window: new RecordWindow(planned.window), decoder: undefined };
        const jobs = planned.reads.flatMap((read) => {
          const parts = splitRange(read.fromPosition, read.toPosition, settings.partBytes);
          return parts.map((p, i) => ({
            ...p,
            bytes: p.end - p.start,
            run,
            read,
            last: i === parts.length - 1,
          }));
        });
        if (jobs.length === 0 || run.window.done) this.counters.partitionsDone++;
        else scheduler.addLane(jobs);
      }
      for (;;) {
        const settled = await scheduler.next();
        if (!settled) break;
        const records = this.process(settled, scheduler);
        settings.onProgress?.(this.progress());
        for (let i = 0; i < records.length; i += settings.maxBatchRecords)
          yield this.batch(plan.topic, settled.job.run.planned.partition, records, i);
      }
    } finally {
      scheduler.close();
    }
  }

  /** Verifies and decodes one part, returning the records its partition's window takes. */
  private process(settled: Settled<Job>, scheduler: PartScheduler<Job>): RawRecord[] {
    const { job, lane } = settled;
    const { run, read } = job;
    if ('error' in settled) throw downloadError(settled.error, job);
    const data = settled.data;
    run.decoder ??= new SegmentDecoder(read.segment.topic, read);
    if (data.length !== job.end - job.start)
      throw new ArchiveCorruptSegmentError(
        {
          topic: read.segment.topic,
          partition: read.segment.partition,
          segmentBaseOffset: read.segment.baseOffset,
          bytePosition: job.start + data.length,
          objectKey: read.segment.keys.log,
        },
        `the object ends at byte ${job.start + data.length}; its row says ${read.segment.sizeBytes} bytes`,
      );
    const records: RawRecord[] = [];
    const window = run.window;
    const decoder = run.decoder;
    batches: for (const batch of decoder.push(data)) {
      const verdict = window.batch(batch.baseOffset, batch.lastOffset, batch.maxTimestamp);
      if (verdict === 'stop') break;
      if (verdict === 'skip') continue;
      if (batch.isControl) {
        window.pass(batch.lastOffset);
        continue;
      }
      const decoded = decoder.decode(batch);
      const logAppendTime = decoded.timestampType === TimestampType.LogAppendTime;
      for (const record of decoded.records) {
        const offset = decoded.baseOffset + record.offsetDelta;
        const timestamp = logAppendTime
          ? decoded.maxTimestamp
          : decoded.baseTimestamp + record.timestampDelta;
        const take = window.record(offset, timestamp);
        if (take === 'stop') break batches;
        if (take === 'take')
          records.push({
            offset,
            timestamp,
            key: record.key,
            value: record.value,
            headers: record.headers,
            leaderEpoch: decoded.partitionLeaderEpoch,
          });
      }
    }
    // push() verified every whole batch of the part, wanted or not, so the read's end can be
    // checked even when the window ended inside it.
    if (job.last) {
      decoder.finish();
      run.decoder = undefined;
    }
    scheduler.release(job);
    this.counters.bytesDone += job.bytes;
    this.counters.records += records.length;
    if (job.last || window.exhausted) this.counters.segmentsDone++;
    if (window.exhausted && lane.parts.length > 0) {
      // The rest of the plan cannot hold a wanted record: give it up, and its share of the totals.
      const rest = new Set(lane.parts.map((p) => p.job.read));
      rest.delete(read);
      this.counters.segments -= rest.size;
      this.counters.totalBytes -= lane.remainingBytes;
      scheduler.drop(lane);
    }
    if (lane.parts.length === 0) this.counters.partitionsDone++;
    return records;
  }

  private batch(topic: string, partition: number, records: RawRecord[], from: number): ReplayBatch<K, V> {
    const context = { topic };
    const { keyDeserializer, valueDeserializer, maxBatchRecords } = this.settings;
    return {
      topic,
      partition,
      records: records.slice(from, from + maxBatchRecords).map((r) => ({
        topic,
        partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: deserializeNullable(keyDeserializer, r.key, context),
        value: deserializeNullable(valueDeserializer, r.value, context),
        headers: r.headers,
        leaderEpoch: r.leaderEpoch,
      })),
    };
  }
}

function downloadError(error: unknown, job: Job): Error {
  const { segment } = job.read;
  if (error instanceof NoSuchObjectError)
    return new ArchiveSegmentMissingError(segment.topic, segment.partition, segment.baseOffset, error.key, {
      cause: error,
    });
  return toSpoolError(error);
}
