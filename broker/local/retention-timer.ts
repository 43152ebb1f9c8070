import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ArchiveMaintenanceSummary, runArchiveMaintenance } from '../../archive/archive-maintenance.js';
import { ArchiveMetadataStore } from '../../archive/archive-metadata-store.js';
import { ArchiveObjects, createS3Client } from '../../archive/archive-objects.js';
import { type AwsSettings, createDynamoDocumentClient } from '../cluster/aws-config.js';
import { tableName } from '../cluster/tables.js';
import { TopicStore } from '../cluster/topic-store.js';
import type { Logger } from '../common/logger.js';

export interface RetentionTimerOptions {
  aws: AwsSettings;
  bucket: string;
  logger: Logger;
  /** Unreferenced objects younger than this are kept by the orphan sweep (default 1 hour). */
  orphanGraceMs?: number;
}

/**
 * `spool dev`'s stand-in for the retention Lambda's EventBridge schedule: runs the same archive
 * maintenance (archive/archive-maintenance.ts) every interval against the local emulators. Runs
 * never overlap (the next is scheduled when one ends), and a failed run is logged and retried on
 * the next tick: every step is idempotent.
 */
export class RetentionTimer {
  private readonly dynamo: DynamoDBDocumentClient;
  private readonly metadata: ArchiveMetadataStore;
  private readonly objects: ArchiveObjects;
  private readonly topics: TopicStore;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> | undefined;
  private stopped = false;
  /** Runs completed so far, and the summary of the last one (for tests and diagnostics). */
  runs = 0;
  lastSummary: ArchiveMaintenanceSummary | undefined;

  constructor(private readonly options: RetentionTimerOptions) {
    this.dynamo = createDynamoDocumentClient(options.aws);
    const s3 = createS3Client({
      region: options.aws.region,
      ...(options.aws.s3Endpoint ? { endpoint: options.aws.s3Endpoint } : {}),
    });
    this.metadata = new ArchiveMetadataStore(this.dynamo, tableName(options.aws.tablePrefix, 'archive'));
    this.objects = new ArchiveObjects(s3, options.bucket);
    this.topics = new TopicStore(this.dynamo, options.aws.tablePrefix);
  }

  /** Runs maintenance every `intervalMs`, the first run one interval from now. */
  start(intervalMs: number): void {
    if (this.timer || this.stopped) throw new Error('the retention timer was started already');
    const tick = () => {
      this.pass = this.runOnce()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'archive maintenance failed; will retry'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  /** One maintenance run now (also what each tick does). */
  async runOnce(): Promise<ArchiveMaintenanceSummary> {
    const summary = await runArchiveMaintenance({
      metadata: this.metadata,
      objects: this.objects,
      topics: this.topics,
      logger: this.options.logger,
      ...(this.options.orphanGraceMs !== undefined ? { orphanGraceMs: this.options.orphanGraceMs } : {}),
    });
    this.runs++;
    this.lastSummary = summary;
    const { retention, orphans } = summary;
    const changed =
      retention.logStartsAdvanced + retention.segmentsDeleted + retention.partitionsRemoved > 0 ||
      orphans.expiredUploads + orphans.orphansDeleted > 0;
    const failed = retention.failures + orphans.failures > 0;
    this.options.logger[failed ? 'warn' : changed ? 'info' : 'debug'](
      { event: 'archive-maintenance', ...summary },
      'archive maintenance run',
    );
    return summary;
  }

  /** Stops the timer and waits for a run in progress; the clients are closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
    this.dynamo.destroy();
    this.objects.s3.destroy();
  }
}
