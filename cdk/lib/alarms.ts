import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SpoolAlarmsProps {
  readonly retentionFunction: lambda.IFunction;
  readonly promotionFunction: lambda.IFunction;
  readonly adminFunction: lambda.IFunction;
  readonly tables: readonly dynamodb.ITable[];
  readonly cluster: ecs.ICluster;
  readonly brokerServices: readonly ecs.FargateService[];
  /** Where the brokers publish replication health, and their SPOOL_CLUSTER_ID. */
  readonly metricsNamespace: string;
  readonly clusterId: string;
}

/** The DynamoDB operations Spool's stores issue (broker/, archive/). */
const SPOOL_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.SCAN,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

/**
 * CloudWatch alarms without actions: `alarms` is exposed so a deployment can add an SNS action.
 * Replication alarms read what the brokers publish (broker/monitoring/cloudwatch-publisher.ts),
 * taking the Maximum over brokers: one broker reporting a problem is enough.
 */
export class SpoolAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: SpoolAlarmsProps) {
    super(scope, id);
    // Any failed retention run: retention and the orphan sweep are idempotent and the next run
    // retries, but repeated failures mean the archive grows without bound.
    this.alarms.push(
      props.retentionFunction
        .metricErrors({ period: Duration.minutes(5) })
        .createAlarm(this, 'RetentionErrors', {
          alarmDescription: 'The Spool retention Lambda failed',
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    // A failing promotion run delays schedules that no broker delivered.
    this.alarms.push(
      props.promotionFunction
        .metricErrors({ period: Duration.minutes(5) })
        .createAlarm(this, 'PromotionErrors', {
          alarmDescription: 'The Spool delayed-promotion Lambda failed',
          threshold: 2,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    // The admin handler answers failures as HTTP errors instead of throwing, so Lambda's Errors
    // metric misses them: its own AdminErrors metric (Powertools EMF) counts server-side failures.
    this.alarms.push(
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName: 'AdminErrors',
        dimensionsMap: { service: 'spool-admin' },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }).createAlarm(this, 'AdminErrors', {
        alarmDescription: 'The Spool admin API answered with server errors',
        threshold: 3,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    // Throttling delays lease renewals, so sustained throttling can cost brokers their leases.
    props.tables.forEach((table, index) => {
      this.alarms.push(
        new cloudwatch.Alarm(this, `Throttled${index}`, {
          metric: table.metricThrottledRequestsForOperations({
            operations: SPOOL_OPERATIONS,
            period: Duration.minutes(1),
          }),
          alarmDescription: `DynamoDB throttled requests on ${table.node.path}`,
          threshold: 1,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });
    const brokerHealth = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { Cluster: props.clusterId },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      });
    // Under-replicated for 5 minutes: longer than a broker restart or a rolling replacement step
    // normally takes, so it means a broker is down or cannot keep up.
    this.alarms.push(
      brokerHealth('UnderReplicatedPartitions').createAlarm(this, 'UnderReplicated', {
        alarmDescription: 'Spool partitions have been under-replicated for 5 minutes',
        threshold: 1,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    // Below min.insync.replicas, acks=all producers fail: alarm sooner.
    this.alarms.push(
      brokerHealth('UnderMinIsrPartitions').createAlarm(this, 'UnderMinIsr', {
        alarmDescription: 'Spool partitions are below min.insync.replicas (acks=all writes fail)',
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    this.alarms.push(
      brokerHealth('OfflinePartitions').createAlarm(this, 'Offline', {
        alarmDescription: 'Spool partitions have no leader',
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    // A broker without a running task is a missing replica for all its partitions.
    props.brokerServices.forEach((service, nodeId) => {
      const running = new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: service.serviceName },
        statistic: cloudwatch.Stats.MINIMUM,
        period: Duration.minutes(1),
      });
      this.alarms.push(
        running.createAlarm(this, `Broker${nodeId}Running`, {
          alarmDescription: `Spool broker ${nodeId} has no running task`,
          threshold: 1,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          // No data means no task reported at all.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
    });
  }
}
