import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { localCredentials } from '../cluster/aws-config.js';
import type { Logger } from '../common/logger.js';

/** Replication health this broker reports, sampled at each publish. */
export interface HealthSample {
  /** Partitions this broker leads whose ISR is smaller than the replica set (Kafka's URP). */
  underReplicated: number;
  /** Partitions this broker leads whose ISR is below min.insync.replicas: acks=all writes fail. */
  underMinIsr: number;
  /** Partitions without a leader, as this broker's metadata shows them (the same on every broker). */
  offline: number;
  /** Partitions this broker leads. */
  leader: number;
}

export interface CloudWatchPublisherOptions {
  namespace: string;
  clusterId: string;
  brokerId: number;
  sample: () => HealthSample;
  logger: Logger;
  intervalMs?: number;
  region?: string;
  /** For tests and LocalStack; normally the regional endpoint. */
  endpoint?: string;
}

/** The metric names, as the CDK alarms reference them (cdk/lib/alarms.ts). */
export const HEALTH_METRICS = {
  underReplicated: 'UnderReplicatedPartitions',
  underMinIsr: 'UnderMinIsrPartitions',
  offline: 'OfflinePartitions',
  leader: 'LeaderPartitions',
} as const satisfies Record<keyof HealthSample, string>;

/**
 * Publishes the broker's replication health to CloudWatch (PutMetricData), so the stack can alarm
 * on it: Prometheus (/metrics) stays the detailed source, but CloudWatch alarms cannot scrape it.
 *
 * Each value goes out twice: with the dimension Cluster, where the alarms read the Maximum over
 * all brokers (a broker reporting a problem is enough; offline counts, the same on every broker,
 * are not summed), and with Cluster and Broker for finding which one. Publishing failures are
 * logged and skipped: metrics must never affect serving.
 */
export class CloudWatchPublisher {
  private readonly client: CloudWatchClient;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: CloudWatchPublisherOptions) {
    const credentials = localCredentials(options.endpoint);
    this.client = new CloudWatchClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
  }

  start(): void {
    const interval = this.options.intervalMs ?? 60_000;
    this.timer = setInterval(() => {
      this.inFlight ??= this.publishOnce()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'publishing CloudWatch metrics failed'),
        )
        .finally(() => {
          this.inFlight = undefined;
        });
    }, interval).unref();
  }

  /** The datums one publish sends (exposed for tests). */
  datums(sample: HealthSample, now: Date): MetricDatum[] {
    const cluster = { Name: 'Cluster', Value: this.options.clusterId };
    const broker = { Name: 'Broker', Value: String(this.options.brokerId) };
    return (Object.keys(HEALTH_METRICS) as (keyof HealthSample)[]).flatMap((key) =>
      [[cluster], [cluster, broker]].map((dimensions) => ({
        MetricName: HEALTH_METRICS[key],
        Dimensions: dimensions,
        Value: sample[key],
        Unit: 'Count' as const,
        Timestamp: now,
      })),
    );
  }

  async publishOnce(): Promise<void> {
    await this.client.send(
      new PutMetricDataCommand({
        Namespace: this.options.namespace,
        MetricData: this.datums(this.options.sample(), new Date()),
      }),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    this.client.destroy();
  }
}
