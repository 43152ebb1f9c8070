import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of tiered storage, registered on the broker's registry. */
export class TieringMetrics {
  readonly segmentsUploaded: Counter;
  readonly uploadedBytes: Counter;
  readonly uploadFailures: Counter;
  readonly localSegmentsDeleted: Counter;
  readonly remoteReads: Counter;
  readonly remoteReadBytes: Counter;

  constructor(registry: Registry, remoteReadsQueued: () => number) {
    const registers = [registry];
    this.segmentsUploaded = new Counter({
      name: 'spool_tiering_segments_uploaded_total',
      help: 'Segments uploaded to the archive and committed',
      registers,
    });
    this.uploadedBytes = new Counter({
      name: 'spool_tiering_uploaded_bytes_total',
      help: 'Log bytes of committed uploads',
      registers,
    });
    this.uploadFailures = new Counter({
      name: 'spool_tiering_upload_failures_total',
      help: 'Uploads that failed (S3 or DynamoDB errors, lost leadership); they are retried',
      registers,
    });
    this.localSegmentsDeleted = new Counter({
      name: 'spool_tiering_local_segments_deleted_total',
      help: 'Archived local segments deleted past local retention',
      registers,
    });
    this.remoteReads = new Counter({
      name: 'spool_tiering_remote_reads_total',
      help: 'Consumer reads served from the archive',
      registers,
    });
    this.remoteReadBytes = new Counter({
      name: 'spool_tiering_remote_read_bytes_total',
      help: 'Bytes served to consumers from the archive',
      registers,
    });
    const queued: Gauge = new Gauge({
      name: 'spool_tiering_remote_reads_queued',
      help: 'Remote reads waiting for a slot in the bounded pool',
      registers,
      collect: () => queued.set(remoteReadsQueued()),
    });
  }
}
