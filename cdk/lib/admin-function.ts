import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SpoolFunction } from './spool-function.js';

export interface AdminFunctionProps {
  readonly vpc: ec2.IVpc;
  /** `host:port` of the brokers (the NLB), for SPOOL_BOOTSTRAP. */
  readonly bootstrapServers: readonly string[];
  readonly metricsNamespace: string;
}

/**
 * The admin Lambda (lambdas/admin/handler.ts): topics and consumer groups over HTTP, behind a
 * Function URL that only IAM-signed requests reach (SigV4, `lambda:InvokeFunctionUrl`). It is a
 * Kafka admin client of the brokers, so it runs in their VPC and needs no table or bucket access.
 */
export class AdminFunction extends Construct {
  readonly fn: SpoolFunction;
  readonly url: lambda.FunctionUrl;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: AdminFunctionProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'Spool admin Lambda: Kafka requests to the brokers',
      // The brokers' group admits the VPC's CIDR on their ports; nothing reaches the function.
      allowAllOutbound: true,
    });
    this.fn = new SpoolFunction(this, 'Function', {
      entry: 'lambdas/admin/handler.ts',
      service: 'spool-admin',
      metricsNamespace: props.metricsNamespace,
      timeout: Duration.seconds(30),
      memorySize: 256,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      environment: {
        SPOOL_BOOTSTRAP: props.bootstrapServers.join(','),
        SPOOL_METRICS_NAMESPACE: props.metricsNamespace,
        // Retriable errors are retried for 20 s, so a caller gets a 503 before the 30 s timeout.
        SPOOL_ADMIN_RETRY_TIMEOUT_MS: '20000',
      },
    });
    this.url = this.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  }
}
