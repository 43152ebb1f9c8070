import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface ArchiveBucketProps {
  /** Encrypt with this customer-managed KMS key instead of S3-managed keys (SSE-S3, the default). */
  readonly encryptionKey?: kms.IKey;
  /** Write S3 server access logs to a separate bucket (default false: they cost per request). */
  readonly serverAccessLogs?: boolean;
}

/**
 * The archive bucket (tiered storage): sealed segments, indexes and snapshots. Its object keys are
 * recorded in the archive table, so it is retained when the stack is deleted.
 */
export class ArchiveBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket | undefined;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    this.accessLogs = props.serverAccessLogs
      ? new s3.Bucket(this, 'AccessLogs', {
          encryption: s3.BucketEncryption.S3_MANAGED,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          enforceSSL: true,
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
          lifecycleRules: [{ expiration: Duration.days(90) }],
          removalPolicy: RemovalPolicy.RETAIN,
        })
      : undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Objects are immutable and deleted on purpose by retention and the orphan sweep; versions
      // would keep every deleted segment (and its cost) around.
      versioned: false,
      lifecycleRules: [
        // Multipart uploads (segments above 8 MiB) interrupted by a broker crash leave invisible,
        // billed parts that no sweep can see.
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      ...(this.accessLogs
        ? { serverAccessLogsBucket: this.accessLogs, serverAccessLogsPrefix: 'archive/' }
        : {}),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (this.accessLogs) {
      NagSuppressions.addResourceSuppressions(this.accessLogs, [
        {
          id: 'AwsSolutions-S1',
          reason: 'This is the access-log bucket itself; logging its own requests would recurse.',
        },
      ]);
    } else {
      NagSuppressions.addResourceSuppressions(this.bucket, [
        {
          id: 'AwsSolutions-S1',
          reason:
            'Server access logs are opt-in (archiveAccessLogs): brokers issue many ranged GETs and each ' +
            'would be logged and billed; CloudTrail data events are the alternative for audits.',
        },
      ]);
    }
  }
}
