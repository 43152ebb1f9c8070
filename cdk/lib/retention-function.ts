import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { RETENTION_SCHEDULE } from '../../lambdas/retention/schedule.js';
import { SpoolFunction } from './spool-function.js';

export interface RetentionFunctionProps {
  readonly tablePrefix: string;
  readonly archiveTable: dynamodb.ITable;
  readonly topicsTable: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly metricsNamespace: string;
}

/**
 * The retention Lambda (lambdas/retention/handler.ts): archive retention and the orphan sweep,
 * every 5 minutes. A run that times out is finished by the next one and two overlapping runs
 * converge (see README, "Tiered storage"), so neither retries nor reserved concurrency are needed.
 */
export class RetentionFunction extends Construct {
  readonly fn: SpoolFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RetentionFunctionProps) {
    super(scope, id);
    this.fn = new SpoolFunction(this, 'Function', {
      entry: 'lambdas/retention/handler.ts',
      service: 'spool-retention',
      metricsNamespace: props.metricsNamespace,
      // The handler stops starting partitions 20 s before its deadline.
      timeout: Duration.millis(RETENTION_SCHEDULE.timeoutMs),
      environment: {
        SPOOL_TABLE_PREFIX: props.tablePrefix,
        SPOOL_ARCHIVE_BUCKET: props.bucket.bucketName,
      },
    });

    // Least privilege: the archive table is read and written (heads, rows, markers), topics are
    // only listed (retention settings, deleted topics), and objects are listed, read (indexes of
    // segments being retired) and deleted, never written.
    props.archiveTable.grantReadWriteData(this.fn);
    props.topicsTable.grantReadData(this.fn);
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }),
    );
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [props.bucket.arnForObjects('*')],
      }),
    );
    props.bucket.encryptionKey?.grantDecrypt(this.fn);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Spool archive retention and orphan sweep',
      schedule: events.Schedule.rate(Duration.minutes(RETENTION_SCHEDULE.rateMinutes)),
      targets: [new targets.LambdaFunction(this.fn, { retryAttempts: 0 })],
    });

    NagSuppressions.addResourceSuppressions(
      this.fn.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "Object-level actions (get, delete) on the archive bucket's objects: keys are created at run " +
            "time per topic and segment, so the bucket's object ARN is the narrowest resource.",
          appliesTo: [{ regex: '/^Resource::<.*Bucket.*\\.Arn>\\/\\*$/' }],
        },
      ],
      true,
    );
  }
}
