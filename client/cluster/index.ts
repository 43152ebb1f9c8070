import { APIS } from '../../protocol/messages/index.js';
import { KafkaProtocolError, SpoolError, toSpoolError } from '../errors.js';
import { type BrokerConnection, BrokerPool, parseEndpoint } from './broker-pool.js';
import { CLIENT_VERSIONS } from './client-versions.js';
import { ClusterMetadata } from './cluster-metadata.js';
import { throwIfError } from './protocol-error.js';
import { withRetry } from './retry.js';

export type { ApiVersionTable, BrokerConnection, Endpoint, VersionRange } from './broker-pool.js';
export { BrokerPool, negotiateVersion, parseEndpoint } from './broker-pool.js';
export { CLIENT_VERSIONS } from './client-versions.js';
export type { BrokerInfo, PartitionMetadata, TopicMetadata } from './cluster-metadata.js';
export { ClusterMetadata } from './cluster-metadata.js';
export { type ListOffsetsSpec, listOffsets, OffsetSpec, type PartitionOffset } from './list-offsets.js';
export { isRetriable, throwIfError, UnsupportedByBrokerError } from './protocol-error.js';
export { backoffMs, type RetryOptions, withRetry } from './retry.js';

export interface ClusterOptions {
  /** `host:port` addresses of some brokers; the rest are learned from Metadata. */
  bootstrap: readonly string[];
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Cached metadata older than this is refreshed before use. Default 30 s. */
  metadataMaxAgeMs?: number;
  /** How long an operation keeps retrying retriable errors. Default 30 s. */
  retryTimeoutMs?: number;
}

/**
 * The client's cluster core, shared by the admin, producer and consumer: a broker pool and the
 * metadata cache that tells it where brokers and partition leaders are.
 */
export class Cluster {
  readonly pool: BrokerPool;
  readonly metadata: ClusterMetadata;
  private readonly retryTimeoutMs: number;

  constructor(options: ClusterOptions) {
    this.pool = new BrokerPool({
      clientId: options.clientId ?? 'spool-client',
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    });
    this.metadata = new ClusterMetadata(
      this.pool,
      options.bootstrap.map(parseEndpoint),
      options.metadataMaxAgeMs ?? 30_000,
    );
    this.retryTimeoutMs = options.retryTimeoutMs ?? 30_000;
  }

  /** Loads the broker list; retries while no bootstrap broker is reachable, up to the retry time. */
  async connect(): Promise<void> {
    await this.retry(() => this.metadata.refresh());
  }

  /** The connection to broker `nodeId` (on `lane`, see BrokerPool.forNode), learning its endpoint from Metadata first if needed. */
  async broker(nodeId: number, lane?: string): Promise<BrokerConnection> {
    if (this.pool.endpointOf(nodeId) === undefined) await this.metadata.refresh();
    return this.pool.forNode(nodeId, lane);
  }

  /**
   * Any live broker, for requests every broker serves (CreateTopics, DescribeConfigs, ...). The
   * controller is preferred only because it is a stable choice; any node would do in Spool.
   */
  async anyBroker(): Promise<BrokerConnection> {
    if (this.metadata.brokers.length === 0) await this.metadata.refresh();
    const ids = this.metadata.brokers.map((b) => b.nodeId);
    const id = ids.includes(this.metadata.controllerId) ? this.metadata.controllerId : ids[0];
    if (id === undefined) throw new SpoolError('the cluster reported no brokers', { retriable: true });
    return this.broker(id);
  }

  /**
   * Runs `operation`, retrying retriable errors (NOT_COORDINATOR, NOT_LEADER_OR_FOLLOWER,
   * lost connections, ...) with backoff, refreshing metadata before each retry so the next
   * attempt routes to the new leader or coordinator.
   */
  async retry<T>(
    operation: (attempt: number) => Promise<T>,
    options: { shouldRetry?: (error: unknown) => boolean } = {},
  ): Promise<T> {
    try {
      return await withRetry(operation, {
        maxRetryTimeMs: this.retryTimeoutMs,
        onRetry: () => this.metadata.refresh(),
        ...options,
      });
    } catch (error) {
      // Callers only ever see SpoolErrors (the transport's ConnectionError included).
      throw toSpoolError(error);
    }
  }

  /** The node id of the broker coordinating `groupId` (one FindCoordinator round trip). */
  async findCoordinator(groupId: string): Promise<number> {
    const connection = await this.anyBroker();
    const { version, response } = await connection.send(
      APIS.FindCoordinator,
      CLIENT_VERSIONS.FindCoordinator,
      {
        key: groupId,
        keyType: 0,
        coordinatorKeys: [groupId],
      },
    );
    // v4+ batches keys; earlier versions answer at the top level.
    const answer =
      version >= 4
        ? response.coordinators.find((c) => c.key === groupId)
        : { nodeId: response.nodeId, errorCode: response.errorCode, errorMessage: response.errorMessage };
    if (!answer)
      throw new KafkaProtocolError(-1, {
        serverMessage: `FindCoordinator returned no answer for ${groupId}`,
      });
    throwIfError(answer.errorCode, { serverMessage: answer.errorMessage ?? `group ${groupId}` });
    return answer.nodeId;
  }

  close(): void {
    this.pool.close();
  }
}
