/** Who this broker is, as advertised in Metadata, FindCoordinator and DescribeCluster. */
export interface BrokerIdentity {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  clusterId: string;
}
