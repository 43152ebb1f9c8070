import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { AdminFunction } from './admin-function.js';
import { SpoolAlarms } from './alarms.js';
import { ArchiveBucket } from './archive-bucket.js';
import { Brokers } from './brokers.js';
import { DelayedPromotionFunction } from './delayed-promotion-function.js';
import { SpoolNetwork } from './network.js';
import { RetentionFunction } from './retention-function.js';
import { DEFAULT_METRICS_NAMESPACE } from './spool-function.js';
import { SpoolTables } from './tables.js';

export interface SpoolStackProps extends StackProps {
  /** Table name prefix and SPOOL_TABLE_PREFIX (default "spool"). */
  readonly prefix?: string;
  /** Number of brokers (default 3). */
  readonly brokerCount?: number;
  /** NAT gateways (default 1). */
  readonly natGateways?: number;
  /** Customer-managed key for the archive bucket (default SSE-S3). */
  readonly archiveKey?: kms.IKey;
  /** S3 server access logs for the archive bucket (default false). */
  readonly archiveAccessLogs?: boolean;
  /** Broker image (default: the repository's Dockerfile as an asset). */
  readonly brokerImage?: ecs.ContainerImage;
  /** Internet-facing bootstrap NLB (default false). */
  readonly internetFacing?: boolean;
  /** Broker EBS volume size in GiB (default 100) and throughput in MiB/s (default 125). */
  readonly volumeSizeGiB?: number;
  readonly volumeThroughputMiBps?: number;
  /** Broker Fargate task size: CPU units (default 1024) and memory in MiB (default 4096). */
  readonly brokerCpu?: number;
  readonly brokerMemoryMiB?: number;
  /** CloudWatch namespace of Spool's metrics (default "Spool"). */
  readonly metricsNamespace?: string;
  /**
   * The three AZs to use, e.g. ["eu-west-1a", "eu-west-1b", "eu-west-1c"]. Default: the first
   * three of the deployment region, resolved at deploy time, so synth needs no account lookup.
   */
  readonly availabilityZones?: string[];
}

/** A complete Spool cluster: network, tables, archive bucket, retention Lambda, brokers, alarms. */
export class SpoolStack extends Stack {
  readonly tables: SpoolTables;
  readonly archive: ArchiveBucket;
  readonly retention: RetentionFunction;
  readonly brokers: Brokers;
  readonly admin: AdminFunction;
  readonly promotion: DelayedPromotionFunction;
  readonly alarms: SpoolAlarms;
  private readonly azs: string[] | undefined;

  constructor(scope: Construct, id: string, props: SpoolStackProps = {}) {
    super(scope, id, props);
    this.azs = props.availabilityZones;
    const prefix = props.prefix ?? 'spool';
    if (!/^[A-Za-z0-9_.-]{1,200}$/.test(prefix))
      throw new Error(`prefix must be 1-200 letters, digits, "_", "." or "-", got "${prefix}"`);

    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const network = new SpoolNetwork(this, 'Network', { natGateways: props.natGateways ?? 1 });
    this.tables = new SpoolTables(this, 'Tables', { prefix });
    this.archive = new ArchiveBucket(this, 'Archive', {
      ...(props.archiveKey ? { encryptionKey: props.archiveKey } : {}),
      serverAccessLogs: props.archiveAccessLogs ?? false,
    });
    this.retention = new RetentionFunction(this, 'Retention', {
      tablePrefix: prefix,
      archiveTable: this.tables.tables.archive,
      topicsTable: this.tables.tables.topics,
      bucket: this.archive.bucket,
      metricsNamespace,
    });
    this.brokers = new Brokers(this, 'Brokers', {
      network,
      tablePrefix: prefix,
      tables: this.tables.all(),
      bucket: this.archive.bucket,
      brokerCount: props.brokerCount ?? 3,
      internetFacing: props.internetFacing ?? false,
      metricsNamespace,
      ...(props.brokerCpu ? { cpu: props.brokerCpu } : {}),
      ...(props.brokerMemoryMiB ? { memoryMiB: props.brokerMemoryMiB } : {}),
      ...(props.brokerImage ? { image: props.brokerImage } : {}),
      ...(props.volumeSizeGiB ? { volumeSizeGiB: props.volumeSizeGiB } : {}),
      ...(props.volumeThroughputMiBps ? { volumeThroughputMiBps: props.volumeThroughputMiBps } : {}),
    });
    this.admin = new AdminFunction(this, 'Admin', {
      vpc: network.vpc,
      bootstrapServers: this.brokers.bootstrapServers,
      metricsNamespace,
    });
    this.promotion = new DelayedPromotionFunction(this, 'DelayedPromotion', {
      vpc: network.vpc,
      tablePrefix: prefix,
      schedulesTable: this.tables.tables.schedules,
      bootstrapServers: this.brokers.bootstrapServers,
      metricsNamespace,
    });
    this.alarms = new SpoolAlarms(this, 'Alarms', {
      retentionFunction: this.retention.fn,
      promotionFunction: this.promotion.fn,
      adminFunction: this.admin.fn,
      tables: this.tables.all(),
      cluster: this.brokers.cluster,
      brokerServices: this.brokers.services,
      metricsNamespace,
      clusterId: prefix,
    });

    new CfnOutput(this, 'BootstrapServers', {
      description: 'bootstrap.servers for Kafka clients (the NLB, one port per broker)',
      value: Fn.join(',', this.brokers.bootstrapServers),
    });
    for (const [table, resource] of Object.entries(this.tables.tables)) {
      new CfnOutput(this, `${table[0]?.toUpperCase()}${table.slice(1)}TableName`, {
        description: `DynamoDB table "${table}"`,
        value: resource.tableName,
      });
    }
    new CfnOutput(this, 'AdminUrl', {
      description: 'Admin API (IAM-authenticated Function URL; sign requests with SigV4, service "lambda")',
      value: this.admin.url.url,
    });
    new CfnOutput(this, 'ArchiveBucketName', {
      description: 'SPOOL_ARCHIVE_BUCKET',
      value: this.archive.bucket.bucketName,
    });
  }

  /**
   * Three AZs even for an environment-agnostic stack (CDK's own default there is two); explicit
   * ones when given. Either way synth never looks the AZs up.
   */
  override get availabilityZones(): string[] {
    return this.azs ?? [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs()));
  }
}
