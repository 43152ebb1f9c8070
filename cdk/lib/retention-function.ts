import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** The repository root (cdk/lib/ is two levels down). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RetentionFunctionProps {
  readonly tablePrefix: string;
  readonly archiveTable: dynamodb.ITable;
  readonly topicsTable: dynamodb.ITable;
  readonly bucket: s3.IBucket;
}

/**
 * The retention Lambda (lambdas/retention/handler.ts): archive retention and the orphan sweep,
 * every 5 minutes. A run that times out is finished by the next one and two overlapping runs
 * converge (see README, "Tiered storage"), so neither retries nor reserved concurrency are needed.
 */
export class RetentionFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RetentionFunctionProps) {
    super(scope, id);
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'lambdas/retention/handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      // Node 20 is the runtime Spool supports and tests on (package.json engines).
      runtime: lambda.Runtime.NODEJS_20_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // The handler stops starting partitions 20 s before its deadline.
      timeout: Duration.minutes(5),
      environment: {
        SPOOL_TABLE_PREFIX: props.tablePrefix,
        SPOOL_ARCHIVE_BUCKET: props.bucket.bucketName,
      },
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
      bundling: {
        // esbuild from node_modules: synth works offline and without Docker.
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node20',
        // Unminified, so stack traces in the logs are readable without source maps.
        minify: false,
        // The SDK is bundled rather than taken from the runtime, so the Lambda runs the exact
        // versions package-lock.json pins (lib-storage is not guaranteed in the runtime at all).
        externalModules: [],
        // Bundled CommonJS dependencies call require() for Node built-ins; ESM output has none.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
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
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.fn, { retryAttempts: 0 })],
    });

    NagSuppressions.addResourceSuppressions(this.fn, [
      {
        id: 'AwsSolutions-L1',
        reason: 'Node.js 20 is the runtime Spool supports and tests on (package.json engines, CI).',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      this.fn.role!,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason: "AWSLambdaBasicExecutionRole only allows writing the function's CloudWatch Logs.",
          appliesTo: [
            'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
          ],
        },
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
