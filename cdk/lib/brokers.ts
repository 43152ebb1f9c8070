import { Duration, Size, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { SpoolNetwork } from './network.js';
import { REPO_ROOT } from './spool-function.js';

export interface BrokersProps {
  readonly network: SpoolNetwork;
  readonly tablePrefix: string;
  readonly tables: readonly dynamodb.ITable[];
  readonly bucket: s3.IBucket;
  /** Number of brokers, 1 to 50 (default 3); broker i has node id i and runs in AZ i mod 3. */
  readonly brokerCount?: number;
  /** Kafka port of broker 0; broker i listens, and is reached through the NLB, on basePort + i. */
  readonly basePort?: number;
  /** Fargate task size (defaults 1024 CPU units, 4096 MiB). */
  readonly cpu?: number;
  readonly memoryMiB?: number;
  /** Each broker's EBS data volume (gp3; defaults 100 GiB, 125 MiB/s, the gp3 baseline). */
  readonly volumeSizeGiB?: number;
  readonly volumeThroughputMiBps?: number;
  /** SPOOL_CLUSTER_ID (default: the table prefix). */
  readonly clusterId?: string;
  /** Put the bootstrap NLB in public subnets (default false: Spool has no TLS or SASL yet). */
  readonly internetFacing?: boolean;
  /** The broker image; default: built from the repository's Dockerfile as a CDK asset. */
  readonly image?: ecs.ContainerImage;
  /** CloudWatch namespace the brokers publish replication health to. */
  readonly metricsNamespace: string;
}

const DATA_DIR = '/var/lib/spool';
const METRICS_PORT = 9404;
const BROKER_CONTAINER = 'broker';
/** ECS ignores failing load-balancer checks this long after a task starts: for a broker, always. */
const READINESS_NEVER_KILLS = Duration.days(3650);

/**
 * The brokers: one ECS Fargate service per broker id, so each broker keeps a stable identity
 * (SPOOL_NODE_ID), AZ (SPOOL_RACK) and NLB port across task replacements, plus the bootstrap NLB.
 *
 * Data durability across task replacement: each task gets an ECS-managed EBS volume that ECS
 * creates at launch and deletes when the task stops. A replaced broker therefore starts with an
 * empty data directory and is rebuilt from its peers and the archive:
 * - it registers under the same node id as *rejoining* (no storage marker; broker/storage/
 *   storage-marker.ts), so the controller elects it nowhere and takes it out of the ISRs it held
 *   before it is back (broker/cluster/storage-rejoin.ts): its empty log never becomes a leader's;
 * - followers re-replicate the hot window from partition leaders and rejoin each ISR when caught
 *   up; everything older is served from S3;
 * - replacements are serialized: the services depend on each other, so CloudFormation updates one
 *   broker at a time, and a service is stable only once its NLB target is healthy, i.e. the new
 *   broker's /ready says it is back in every ISR. So a rolling update never takes the last in-sync
 *   copy of a partition down.
 * ECS-managed volumes are chosen over EC2 capacity with persistent volumes because they need no
 * instance and volume-attachment management; the cost is re-replication traffic after every
 * replacement, and data on a single replica (replication factor 1) is lost with its task beyond
 * what was archived. Use replication factor 3 (the default for 3+ brokers).
 *
 * Health: the container health check is liveness (/health; a hung broker is replaced). The NLB
 * target health check is readiness (/ready). The service's grace period is effectively unbounded
 * so that a broker still catching up is never killed for it, which would restart it empty.
 */
export class Brokers extends Construct {
  readonly cluster: ecs.Cluster;
  readonly services: ecs.FargateService[] = [];
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly taskRole: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  /** `host:port` of every broker through the NLB, for bootstrap.servers. */
  readonly bootstrapServers: string[] = [];

  constructor(scope: Construct, id: string, props: BrokersProps) {
    super(scope, id);
    const { vpc } = props.network;
    const brokerCount = props.brokerCount ?? 3;
    const basePort = props.basePort ?? 9092;
    // One NLB listener per broker, and an NLB has at most 50 listeners.
    if (!Number.isInteger(brokerCount) || brokerCount < 1 || brokerCount > 50)
      throw new Error(`brokerCount must be an integer from 1 to 50, got ${brokerCount}`);

    // Container Insights provides RunningTaskCount, which the per-broker alarms watch.
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'BrokerSg', {
      vpc,
      description: 'Spool brokers: Kafka ports from inside the VPC',
      allowAllOutbound: true,
    });
    // The NLB forwards from its own private IPs (IP targets do not preserve the client address),
    // brokers replicate from each other and in-VPC clients connect directly: all from the VPC.
    this.securityGroup.addIngressRule(
      ec2.Peer.ipv4(props.network.cidr),
      ec2.Port.tcpRange(basePort, basePort + brokerCount - 1),
      'Kafka protocol from the NLB, peers and clients in the VPC',
    );
    this.securityGroup.addIngressRule(
      ec2.Peer.ipv4(props.network.cidr),
      ec2.Port.tcp(METRICS_PORT),
      'Readiness checks from the NLB and Prometheus scrapes from the VPC',
    );

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Bootstrap', {
      vpc,
      internetFacing: props.internetFacing ?? false,
      vpcSubnets: {
        subnetType: props.internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS,
      },
      // Each broker lives in one AZ; without cross-zone routing an NLB node in another AZ would
      // have no healthy target for that broker's port.
      crossZoneEnabled: true,
    });

    // One role for all brokers: every broker needs the same tables and bucket, nothing more.
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Spool brokers: the cluster tables and the archive bucket',
    });
    for (const table of props.tables) table.grantReadWriteData(this.taskRole);
    // Replication health (broker/monitoring/cloudwatch-publisher.ts). PutMetricData has no
    // resource-level permissions; the condition limits it to Spool's namespace.
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': props.metricsNamespace } },
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        // Upload (single and multipart), remote reads, and deletion of failed uploads.
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [props.bucket.arnForObjects('*')],
      }),
    );
    // SSE-KMS: a data key per put (and per multipart upload), decryption for reads and for
    // completing multipart uploads. Named actions rather than grantEncryptDecrypt's wildcards.
    props.bucket.encryptionKey?.grant(this.taskRole, 'kms:Decrypt', 'kms:GenerateDataKey');

    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Spool brokers: image pull and logs',
    });
    // ECS uses this role to create, attach and delete the brokers' EBS volumes.
    const volumeRole = new iam.Role(this, 'VolumeRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: "ECS: manage the Spool brokers' EBS data volumes",
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName(
          'service-role/AmazonECSInfrastructureRolePolicyForVolumes',
        ),
      ],
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    const image =
      props.image ??
      // Synth only stages the build context (filtered by .dockerignore); the image is built when
      // the asset is published (cdk deploy), which needs Docker.
      ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'Dockerfile', platform: Platform.LINUX_AMD64 });
    const advertisedHost = this.loadBalancer.loadBalancerDnsName;

    for (let nodeId = 0; nodeId < brokerCount; nodeId++) {
      const port = basePort + nodeId;
      const subnet = props.network.brokerSubnet(nodeId);
      const taskDefinition = new ecs.FargateTaskDefinition(this, `Broker${nodeId}Task`, {
        cpu: props.cpu ?? 1024,
        memoryLimitMiB: props.memoryMiB ?? 4096,
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
        taskRole: this.taskRole,
        executionRole,
      });
      const logging = ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: `broker-${nodeId}` });
      // A fresh EBS volume's root is owned by root; the broker runs as `node` (uid 1000).
      const init = taskDefinition.addContainer('init-data-dir', {
        image,
        essential: false,
        user: '0',
        entryPoint: ['sh', '-c'],
        command: [`chown 1000:1000 ${DATA_DIR}`],
        logging,
      });
      const broker = taskDefinition.addContainer(BROKER_CONTAINER, {
        image,
        essential: true,
        logging,
        portMappings: [{ containerPort: port, protocol: ecs.Protocol.TCP }],
        environment: {
          SPOOL_NODE_ID: String(nodeId),
          SPOOL_HOST: '0.0.0.0',
          SPOOL_PORT: String(port),
          // The address clients and peers must use: the NLB, on this broker's own port.
          SPOOL_ADVERTISED_HOST: advertisedHost,
          SPOOL_ADVERTISED_PORT: String(port),
          SPOOL_METRICS_PORT: String(METRICS_PORT),
          SPOOL_DATA_DIR: DATA_DIR,
          SPOOL_CLUSTER_ID: props.clusterId ?? props.tablePrefix,
          SPOOL_TABLE_PREFIX: props.tablePrefix,
          SPOOL_ARCHIVE_BUCKET: props.bucket.bucketName,
          SPOOL_RACK: subnet.availabilityZone,
          // The stack provisions the tables; brokers need no CreateTable permission.
          SPOOL_ENSURE_TABLES: 'false',
          SPOOL_CLOUDWATCH_NAMESPACE: props.metricsNamespace,
          AWS_REGION: Stack.of(this).region,
        },
        // Liveness: the probe server starts last in Broker.start, so a 200 means the broker serves.
        healthCheck: {
          command: [
            'CMD-SHELL',
            `node -e "fetch('http://127.0.0.1:${METRICS_PORT}/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`,
          ],
          interval: Duration.seconds(15),
          timeout: Duration.seconds(5),
          retries: 4,
          startPeriod: Duration.seconds(120),
        },
        // SIGTERM starts the broker's graceful shutdown (broker/main.ts); give it Fargate's
        // maximum, 120 s, before SIGKILL.
        stopTimeout: Duration.seconds(120),
      });
      broker.addContainerDependencies({
        container: init,
        condition: ecs.ContainerDependencyCondition.SUCCESS,
      });

      const volume = new ecs.ServiceManagedVolume(this, `Broker${nodeId}Data`, {
        name: 'data',
        managedEBSVolume: {
          role: volumeRole,
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          size: Size.gibibytes(props.volumeSizeGiB ?? 100),
          throughput: props.volumeThroughputMiBps ?? 125,
          encrypted: true,
          fileSystemType: ecs.FileSystemType.EXT4,
        },
      });
      volume.mountIn(broker, { containerPath: DATA_DIR, readOnly: false });
      volume.mountIn(init, { containerPath: DATA_DIR, readOnly: false });
      taskDefinition.addVolume(volume);

      const service = new ecs.FargateService(this, `Broker${nodeId}`, {
        cluster: this.cluster,
        taskDefinition,
        desiredCount: 1,
        // Never two tasks with the same node id: the old task stops before its replacement starts.
        minHealthyPercent: 0,
        maxHealthyPercent: 100,
        circuitBreaker: { rollback: true },
        // Readiness (the NLB check on /ready) gates deployments but must never get a broker that
        // is still catching up replaced: it would come back empty and start over.
        healthCheckGracePeriod: READINESS_NEVER_KILLS,
        vpcSubnets: { subnets: [subnet] },
        securityGroups: [this.securityGroup],
        assignPublicIp: false,
      });
      service.addVolume(volume);
      // One broker at a time: CloudFormation updates a service only after the previous one is
      // stable, i.e. its new broker is ready (back in every ISR).
      const previous = this.services.at(-1);
      if (previous) service.node.addDependency(previous);
      this.services.push(service);

      const listener = this.loadBalancer.addListener(`Broker${nodeId}Listener`, {
        port,
        protocol: elbv2.Protocol.TCP,
      });
      listener.addTargets(`Broker${nodeId}Target`, {
        port,
        protocol: elbv2.Protocol.TCP,
        targets: [service.loadBalancerTarget({ containerName: BROKER_CONTAINER, containerPort: port })],
        // Connections of a stopping broker are closed by the broker itself during its drain.
        deregistrationDelay: Duration.seconds(30),
        // Readiness: a replaced broker counts as healthy once it is back in every ISR. An NLB routes
        // to an unhealthy target when it has no healthy one (fail-open), so clients still reach a
        // broker that is catching up.
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          port: String(METRICS_PORT),
          path: '/ready',
          interval: Duration.seconds(10),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      this.bootstrapServers.push(`${advertisedHost}:${port}`);

      NagSuppressions.addResourceSuppressions(taskDefinition, [
        {
          id: 'AwsSolutions-ECS2',
          reason:
            'The environment holds only non-secret configuration (node id, ports, table prefix, bucket ' +
            'name, AZ); AWS credentials come from the task role.',
        },
      ]);
    }

    NagSuppressions.addResourceSuppressions(this.loadBalancer, [
      {
        id: 'AwsSolutions-ELB2',
        reason: 'NLB access logs are only written for TLS listeners; every listener here is plain TCP.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      this.taskRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "Object-level actions on the archive bucket's objects: keys are created at run time per " +
            "topic and segment, so the bucket's object ARN is the narrowest resource.",
          appliesTo: [{ regex: '/^Resource::<.*Bucket.*\\.Arn>\\/\\*$/' }],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'cloudwatch:PutMetricData has no resource-level permissions; the statement is conditioned ' +
            "on Spool's metrics namespace.",
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(
      executionRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'ecr:GetAuthorizationToken, needed to pull the broker image, has no resource-level scope.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(volumeRole, [
      {
        id: 'AwsSolutions-IAM4',
        reason:
          'AmazonECSInfrastructureRolePolicyForVolumes is the AWS-maintained policy for ECS-managed EBS ' +
          'volumes; its actions are conditioned on volumes ECS itself created.',
        appliesTo: [
          'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForVolumes',
        ],
      },
    ]);
  }
}
