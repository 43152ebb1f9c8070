import { APIS } from '../../protocol/messages/index.js';
import { CLIENT_VERSIONS, type Cluster } from '../cluster/index.js';
import { throwIfError } from '../cluster/protocol-error.js';
import type { ClusterDescription } from './types.js';

/** DescribeCluster at any broker: cluster id, controller and live brokers (sorted by node id). */
export async function describeCluster(cluster: Cluster): Promise<ClusterDescription> {
  const { response } = await cluster.retry(async () => {
    const broker = await cluster.anyBroker();
    return broker.send(APIS.DescribeCluster, CLIENT_VERSIONS.DescribeCluster, {
      includeClusterAuthorizedOperations: false,
    });
  });
  throwIfError(response.errorCode, { serverMessage: response.errorMessage });
  return {
    clusterId: response.clusterId,
    controllerId: response.controllerId,
    brokers: response.brokers
      .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
      .sort((a, b) => a.nodeId - b.nodeId),
  };
}
