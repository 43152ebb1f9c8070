import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { PROMOTION_SCHEDULE } from '../../lambdas/delayed-promotion/schedule.js';
import { SpoolFunction } from './spool-function.js';

export interface DelayedPromotionFunctionProps {
  readonly vpc: ec2.IVpc;
  readonly tablePrefix: string;
  readonly schedulesTable: dynamodb.ITable;
  /** `host:port` of the brokers (the NLB), for SPOOL_BOOTSTRAP. */
  readonly bootstrapServers: readonly string[];
  readonly metricsNamespace: string;
}

/**
 * The delayed-promotion Lambda (lambdas/delayed-promotion/handler.ts), every minute: delivers due
 * schedules no broker delivered (brokers promote on time from their timing wheels). It reads and
 * claims schedules in DynamoDB and produces through the brokers, so it runs in their VPC.
 */
export class DelayedPromotionFunction extends Construct {
  readonly fn: SpoolFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: DelayedPromotionFunctionProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'Spool delayed-promotion Lambda: Kafka requests to the brokers, DynamoDB',
      allowAllOutbound: true,
    });
    this.fn = new SpoolFunction(this, 'Function', {
      entry: 'lambdas/delayed-promotion/handler.ts',
      service: 'spool-delayed-promotion',
      metricsNamespace: props.metricsNamespace,
      timeout: Duration.millis(PROMOTION_SCHEDULE.timeoutMs),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      environment: {
        SPOOL_TABLE_PREFIX: props.tablePrefix,
        SPOOL_BOOTSTRAP: props.bootstrapServers.join(','),
      },
    });
    // Claims and delivery records are conditional updates of schedule items: the schedules table
    // only.
    props.schedulesTable.grantReadWriteData(this.fn);
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Spool delayed-message promotion',
      schedule: events.Schedule.rate(Duration.minutes(PROMOTION_SCHEDULE.rateMinutes)),
      // A failed run is simply the next minute's: promotions are idempotent.
      targets: [new targets.LambdaFunction(this.fn, { retryAttempts: 0 })],
    });
  }
}
