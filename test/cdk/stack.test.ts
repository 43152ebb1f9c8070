import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITIONS, type TableName } from '../../broker/cluster/tables.js';
import { SpoolStack } from '../../cdk/lib/spool-stack.js';
import {
  actionsOf,
  logicalId,
  newApp,
  referencedIds,
  removeOutdirs,
  resourcesOf,
  type Statement,
  SYNTH_TIMEOUT_MS,
  statementsOfRole,
  synthTemplate,
} from './synth.js';

afterAll(removeOutdirs);

const TABLES = Object.keys(TABLE_DEFINITIONS) as TableName[];

describe('Spool stack (defaults)', () => {
  let template: Template;
  let tableIds: Record<TableName, string>;
  let bucketId: string;
  beforeAll(() => {
    template = synthTemplate();
    tableIds = Object.fromEntries(
      TABLES.map((t) => [t, logicalId(template, 'AWS::DynamoDB::Table', { TableName: `spool-${t}` })]),
    ) as Record<TableName, string>;
    const buckets = Object.keys(template.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(1);
    bucketId = buckets[0]!;
  }, SYNTH_TIMEOUT_MS);

  /** Every statement granting DynamoDB or S3 actions, by role. */
  const dataStatements = (role: RegExp): Statement[] =>
    statementsOfRole(template, role).filter((s) => actionsOf(s).some((a) => /^(dynamodb|s3):/.test(a)));

  /** The actions granted on a resource (by logical id, optionally only object ARNs "<arn>/*"). */
  const actionsOn = (statements: Statement[], id: string, objects = false): Set<string> => {
    const actions = new Set<string>();
    for (const s of statements)
      for (const r of resourcesOf(s))
        if (referencedIds(r).includes(id) && JSON.stringify(r).includes('/*') === objects)
          for (const a of actionsOf(s)) actions.add(a);
    return actions;
  };

  it('has a VPC over three AZs with one NAT gateway and S3 and DynamoDB gateway endpoints', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet'));
    const azs = new Set(subnets.map((s) => JSON.stringify(s.Properties.AvailabilityZone)));
    expect(azs.size).toBe(3);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoints.map((e) => e.Properties.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
    const services = JSON.stringify(endpoints.map((e) => e.Properties.ServiceName));
    expect(services).toContain('.s3');
    expect(services).toContain('.dynamodb');
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('has an encrypted, private, TLS-only, unversioned, retained archive bucket that aborts stale uploads', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            }),
          ]),
        },
        VersioningConfiguration: Match.absent(),
        LoggingConfiguration: Match.absent(),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('runs the retention Lambda on Node 22 every 5 minutes with the prefix and bucket', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          SPOOL_TABLE_PREFIX: 'spool',
          SPOOL_ARCHIVE_BUCKET: { Ref: bucketId },
          POWERTOOLS_SERVICE_NAME: 'spool-retention',
          POWERTOOLS_METRICS_NAMESPACE: 'Spool',
        }),
      },
    });
    const fnId = logicalId(template, 'AWS::Lambda::Function', { Timeout: 300 });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
  });

  it('serves the admin API from a Lambda in the VPC behind an IAM-authenticated Function URL', () => {
    const adminId = logicalId(template, 'AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'spool-admin' }) },
    });
    const admin = template.findResources('AWS::Lambda::Function')[adminId]!.Properties!;
    expect(admin.Runtime).toBe('nodejs22.x');
    expect(admin.VpcConfig).toMatchObject({
      SubnetIds: expect.any(Array),
      SecurityGroupIds: expect.any(Array),
    });
    const env = (admin.Environment as { Variables: Record<string, unknown> }).Variables;
    const bootstrap = JSON.stringify(env.SPOOL_BOOTSTRAP);
    for (const port of [9092, 9093, 9094]) expect(bootstrap).toContain(`:${port}`);
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [adminId, 'Arn'] },
    });
    // No permission grants public invocation of the URL.
    for (const permission of Object.values(template.findResources('AWS::Lambda::Permission')))
      expect(permission.Properties.Principal).not.toBe('*');
    // A Kafka client of the brokers: no table or bucket access of its own.
    expect(dataStatements(/^AdminFunctionServiceRole/)).toEqual([]);
    expect(Object.keys(template.findOutputs('AdminUrl'))).toEqual(['AdminUrl']);
  });

  it('runs the delayed-promotion Lambda every minute in the VPC, with the schedules table only', () => {
    const fnId = logicalId(template, 'AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'spool-delayed-promotion' }) },
    });
    const fn = template.findResources('AWS::Lambda::Function')[fnId]!.Properties!;
    expect(fn.VpcConfig).toBeDefined();
    expect(
      JSON.stringify((fn.Environment as { Variables: Record<string, unknown> }).Variables.SPOOL_BOOTSTRAP),
    ).toContain(':9092');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    const statements = dataStatements(/^DelayedPromotionFunctionServiceRole/);
    const tablesTouched = new Set(statements.flatMap((s) => referencedIds(s.Resource)));
    expect(tablesTouched).toEqual(new Set([tableIds.schedules]));
  });

  it('scopes every DynamoDB and S3 permission to specific tables and the bucket (no "*")', () => {
    const statements = dataStatements(/.*/);
    expect(statements.length).toBeGreaterThan(0);
    const allowed = new Set([...Object.values(tableIds), bucketId]);
    for (const statement of statements) {
      for (const resource of resourcesOf(statement)) {
        expect(resource).not.toBe('*');
        const ids = referencedIds(resource);
        expect(ids.length).toBeGreaterThan(0);
        for (const id of ids) expect(allowed).toContain(id);
      }
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/^(dynamodb|s3):\*$/);
    }
  });

  it('gives the retention Lambda the archive table, read-only topics and list/get/delete on the bucket', () => {
    const statements = dataStatements(/^RetentionFunctionServiceRole/);
    expect([...actionsOn(statements, tableIds.archive)]).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
      ]),
    );
    const topics = [...actionsOn(statements, tableIds.topics)];
    expect(topics).toEqual(expect.arrayContaining(['dynamodb:Scan', 'dynamodb:Query', 'dynamodb:GetItem']));
    expect(topics.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    for (const t of ['partitions', 'groups', 'cluster'] as const)
      expect(actionsOn(statements, tableIds[t]).size).toBe(0);
    expect([...actionsOn(statements, bucketId)]).toEqual(['s3:ListBucket']);
    expect([...actionsOn(statements, bucketId, true)].sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
  });

  it('gives the brokers read/write on every table and put/get/list/delete on the bucket', () => {
    const statements = dataStatements(/^BrokersTaskRole/);
    for (const table of TABLES) {
      expect([...actionsOn(statements, tableIds[table])]).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
        ]),
      );
    }
    // Tables are provisioned by the stack and brokers run with SPOOL_ENSURE_TABLES=false.
    const brokerActions = statementsOfRole(template, /^BrokersTaskRole/).flatMap(actionsOf);
    expect(brokerActions.filter((a) => /CreateTable|DeleteTable|UpdateTable/.test(a))).toEqual([]);
    const putMetrics = statementsOfRole(template, /^BrokersTaskRole/).filter((s) =>
      actionsOf(s).includes('cloudwatch:PutMetricData'),
    );
    expect(putMetrics).toHaveLength(1);
    expect(putMetrics[0]).toMatchObject({
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'Spool' } },
    });
    expect([...actionsOn(statements, bucketId)]).toEqual(['s3:ListBucket']);
    expect([...actionsOn(statements, bucketId, true)].sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetObject',
      's3:PutObject',
    ]);
  });

  it('runs one Fargate service per broker with a distinct node id, its own AZ, port and EBS volume', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::ECS::Service', 3);
    template.resourceCountIs('AWS::ECS::TaskDefinition', 3);
    const services = Object.values(template.findResources('AWS::ECS::Service'));
    const subnets = new Set<string>();
    for (const service of services) {
      expect(service.Properties.DesiredCount).toBe(1);
      expect(service.Properties.LaunchType).toBe('FARGATE');
      expect(service.Properties.DeploymentConfiguration).toMatchObject({
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
      });
      // A broker catching up (NLB target unhealthy) is never replaced for it.
      expect(service.Properties.HealthCheckGracePeriodSeconds).toBeGreaterThanOrEqual(365 * 24 * 3600);
      const serviceSubnets = service.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets;
      expect(serviceSubnets).toHaveLength(1);
      subnets.add(JSON.stringify(serviceSubnets[0]));
      expect(service.Properties.VolumeConfigurations).toEqual([
        {
          Name: 'data',
          ManagedEBSVolume: expect.objectContaining({
            VolumeType: 'gp3',
            SizeInGiB: 100,
            Throughput: 125,
            Encrypted: true,
            FilesystemType: 'ext4',
          }),
        },
      ]);
    }
    expect(subnets.size).toBe(3);

    const nodeIds: string[] = [];
    const ports: number[] = [];
    for (const taskDefinition of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
      const containers = taskDefinition.Properties.ContainerDefinitions as {
        Name: string;
        Environment?: { Name: string; Value: unknown }[];
        StopTimeout?: number;
        HealthCheck?: unknown;
        MountPoints?: { ContainerPath: string; SourceVolume: string }[];
      }[];
      const broker = containers.find((c) => c.Name === 'broker')!;
      const env = Object.fromEntries((broker.Environment ?? []).map((e) => [e.Name, e.Value]));
      nodeIds.push(env.SPOOL_NODE_ID as string);
      ports.push(Number(env.SPOOL_PORT));
      expect(env.SPOOL_ADVERTISED_PORT).toBe(env.SPOOL_PORT);
      expect(env.SPOOL_TABLE_PREFIX).toBe('spool');
      expect(env.SPOOL_DATA_DIR).toBe('/var/lib/spool');
      expect(env.SPOOL_RACK).toBeDefined();
      expect(env.SPOOL_ENSURE_TABLES).toBe('false');
      expect(env.SPOOL_CLOUDWATCH_NAMESPACE).toBe('Spool');
      expect(JSON.stringify(broker.HealthCheck)).toContain('/health');
      expect(broker.StopTimeout).toBe(120);
      expect(broker.HealthCheck).toBeDefined();
      expect(broker.MountPoints).toEqual([
        { ContainerPath: '/var/lib/spool', ReadOnly: false, SourceVolume: 'data' },
      ]);
      expect(taskDefinition.Properties.Volumes).toEqual([{ Name: 'data', ConfiguredAtLaunch: true }]);
    }
    expect(nodeIds.sort()).toEqual(['0', '1', '2']);
    expect(ports.sort()).toEqual([9092, 9093, 9094]);
  });

  it('replaces brokers one at a time: each service depends on the previous one', () => {
    const services = template.findResources('AWS::ECS::Service');
    const ids = Object.keys(services);
    const byNode = new Map<string, string>();
    for (const id of ids) {
      const node = /^BrokersBroker(\d+)[A-Z0-9]/.exec(id)?.[1];
      expect(node).toBeDefined();
      byNode.set(node!, id);
    }
    expect([...byNode.keys()].sort()).toEqual(['0', '1', '2']);
    const dependsOn = (id: string) => (services[id]!.DependsOn as string[] | undefined) ?? [];
    expect(dependsOn(byNode.get('0')!).filter((d) => ids.includes(d))).toEqual([]);
    expect(dependsOn(byNode.get('1')!)).toContain(byNode.get('0'));
    expect(dependsOn(byNode.get('2')!)).toContain(byNode.get('1'));
  });

  it('bootstraps through an internal NLB with one listener per broker port', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
    });
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'));
    expect(listeners.map((l) => l.Properties.Port).sort()).toEqual([9092, 9093, 9094]);
    for (const port of [9092, 9093, 9094])
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: port,
        Protocol: 'TCP',
        TargetType: 'ip',
        // Readiness on the probe port: healthy once the broker is back in every ISR.
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: '9404',
        HealthCheckPath: '/ready',
      });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ FromPort: 9404, ToPort: 9404 })]),
    });
  });

  it('has alarms for Lambda errors, DynamoDB throttling per table, running tasks per broker and replication', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2 + TABLES.length + 3 + 3 + 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'AdminErrors',
      Namespace: 'Spool',
      Dimensions: [{ Name: 'service', Value: 'spool-admin' }],
    });
    for (const metric of ['UnderReplicatedPartitions', 'UnderMinIsrPartitions', 'OfflinePartitions'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'Spool',
        Dimensions: [{ Name: 'Cluster', Value: 'spool' }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const throttled = alarms.filter((a) => JSON.stringify(a.Properties).includes('ThrottledRequests'));
    const throttledTables = new Set(throttled.flatMap((a) => referencedIds(a.Properties.Metrics)));
    expect(throttledTables).toEqual(new Set(Object.values(tableIds)));
    const running = alarms.filter((a) => a.Properties.MetricName === 'RunningTaskCount');
    expect(running).toHaveLength(3);
    for (const alarm of running) {
      expect(alarm.Properties.Namespace).toBe('ECS/ContainerInsights');
      expect(alarm.Properties.ComparisonOperator).toBe('LessThanThreshold');
    }
  });

  it('outputs the bootstrap servers, table names and bucket name', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'BootstrapServers',
        'ArchiveBucketName',
        ...TABLES.map((t) => `${t[0]!.toUpperCase()}${t.slice(1)}TableName`),
      ]),
    );
    expect(outputs.ArchiveBucketName!.Value).toEqual({ Ref: bucketId });
    const bootstrap = JSON.stringify(outputs.BootstrapServers!.Value);
    for (const port of [9092, 9093, 9094]) expect(bootstrap).toContain(`:${port}`);
  });
});

describe('Spool stack (options)', () => {
  it(
    'honours brokerCount, natGateways, prefix, pinned AZs and an internet-facing NLB',
    () => {
      const template = synthTemplate({
        prefix: 'prod',
        brokerCount: 5,
        natGateways: 3,
        internetFacing: true,
        availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      });
      template.resourceCountIs('AWS::ECS::Service', 5);
      template.resourceCountIs('AWS::EC2::NatGateway', 3);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internet-facing',
      });
      const racks = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map((td) => {
        const broker = td.Properties.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'broker');
        const env = Object.fromEntries(
          broker.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
        );
        return [Number(env.SPOOL_NODE_ID), env.SPOOL_RACK] as const;
      });
      const azs = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
      for (const [nodeId, rack] of racks) expect(rack).toBe(azs[nodeId % 3]);
      template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'prod-archive' });
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'encrypts the archive with a given KMS key and grants only the key actions each role needs',
    () => {
      const app = newApp();
      const keys = new Stack(app, 'Keys');
      const key = new kms.Key(keys, 'ArchiveKey', { enableKeyRotation: true });
      const template = Template.fromStack(new SpoolStack(app, 'SpoolKms', { archiveKey: key }));
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
            }),
          ],
        },
      });
      const kmsActions = (role: RegExp) =>
        statementsOfRole(template, role)
          .flatMap(actionsOf)
          .filter((a) => a.startsWith('kms:'))
          .sort();
      expect(kmsActions(/^BrokersTaskRole/)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(kmsActions(/^RetentionFunctionServiceRole/)).toEqual(['kms:Decrypt']);
    },
    SYNTH_TIMEOUT_MS,
  );
});
