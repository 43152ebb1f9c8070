import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface SpoolNetworkProps {
  /**
   * NAT gateways (default 1). Brokers only need egress for ECR pulls and CloudWatch Logs (S3 and
   * DynamoDB go through gateway endpoints), so one NAT keeps cost down; use 3 to survive an AZ
   * outage without losing image pulls in the other AZs.
   */
  readonly natGateways?: number;
  /** The VPC's IPv4 range (default 10.0.0.0/16). */
  readonly cidr?: string;
}

/**
 * A VPC across three AZs: brokers are spread over them (one broker per AZ for the default three),
 * so a replication factor of 3 with rack-aware placement survives the loss of an AZ.
 */
export class SpoolNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /**
   * The VPC's range as a literal (not the vpcCidrBlock token), so security group rules built from
   * it can be checked by cdk-nag at synth time.
   */
  readonly cidr: string;

  constructor(scope: Construct, id: string, props: SpoolNetworkProps = {}) {
    super(scope, id);
    this.cidr = props.cidr ?? '10.0.0.0/16';
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(this.cidr),
      maxAzs: 3,
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      // Gateway endpoints are free and keep the bulk traffic (segment uploads, remote reads, lease
      // renewals) off the NAT gateway, which bills per GB.
      gatewayEndpoints: {
        s3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        dynamodb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    // Rejected traffic only: enough to debug security groups, far cheaper than logging ALL.
    this.vpc.addFlowLog('RejectedFlows', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
    });
  }

  /** The private subnet that broker `index` runs in: broker i goes to AZ i mod 3. */
  brokerSubnet(index: number): ec2.ISubnet {
    const subnets = this.vpc.privateSubnets;
    const subnet = subnets[index % subnets.length];
    if (!subnet) throw new Error('the VPC has no private subnets');
    return subnet;
  }
}
