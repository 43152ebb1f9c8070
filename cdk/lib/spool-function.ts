import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { NATIVE_MODULES } from '../../protocol/native-modules.js';

/** The repository root (cdk/lib/ is two levels down). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CloudWatch namespace of Spool's own metrics: broker health and the Lambdas' Powertools metrics. */
export const DEFAULT_METRICS_NAMESPACE = 'Spool';

export interface SpoolFunctionProps {
  /** The handler module, relative to the repository root, e.g. "lambdas/retention/handler.ts". */
  readonly entry: string;
  /** Powertools service name (logs and metrics). */
  readonly service: string;
  readonly metricsNamespace: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * A Spool Lambda: one NodejsFunction per handler entry, bundled by the local esbuild (synth works
 * offline and without Docker), Node 22 on arm64, with its own log group and the Powertools
 * settings. Every Spool Lambda is built the same way, so they differ only in entry and grants.
 */
export class SpoolFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: SpoolFunctionProps) {
    super(scope, id, {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      // Lambda deprecated nodejs20.x in April 2026. The bundle targets Node 20 (what Spool is
      // built and tested on, package.json engines), which Node 22 runs unchanged.
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.service,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        ...props.environment,
      },
      ...(props.vpc ? { vpc: props.vpc } : {}),
      ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
      ...(props.securityGroups ? { securityGroups: props.securityGroups } : {}),
      logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node20',
        // Unminified, so stack traces in the logs are readable without source maps.
        minify: false,
        // The SDK is bundled rather than taken from the runtime, so the Lambda runs the exact
        // versions package-lock.json pins (lib-storage is not guaranteed in the runtime at all).
        // Native modules are left out: a bundle would carry the building machine's binaries, not
        // the Lambda's (protocol/native-modules.ts; CRC-32C falls back to JavaScript).
        externalModules: [...NATIVE_MODULES],
        // Bundled CommonJS dependencies call require() for Node built-ins; ESM output has none.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    NagSuppressions.addResourceSuppressions(this, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22: the newest runtime whose behaviour the Node 20 bundle (what Spool is tested on) is known to match.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      this.role!,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason: props.vpc
            ? 'AWSLambdaBasicExecutionRole (logs) and AWSLambdaVPCAccessExecutionRole (ENIs in the VPC) are the AWS-maintained minimum for a Lambda in a VPC.'
            : "AWSLambdaBasicExecutionRole only allows writing the function's CloudWatch Logs.",
          appliesTo: [
            'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
            'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
          ],
        },
      ],
      true,
    );
  }
}
