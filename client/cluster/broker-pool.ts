import type { ApiPair } from '../../protocol/messages/index.js';
import { APIS } from '../../protocol/messages/index.js';
import type { MessageInput, MessageValue } from '../../protocol/wire/schema.js';
import { SpoolError } from '../errors.js';
import { KafkaConnection } from '../kafka-connection.js';
import { UnsupportedByBrokerError } from './protocol-error.js';

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** A broker's ApiVersions answer: api key → supported range. */
export type ApiVersionTable = ReadonlyMap<number, VersionRange>;

/**
 * The highest version both sides speak: the broker's range intersected with the client's own
 * [min, max] (the versions this client's code knows how to build and read).
 * Throws UnsupportedByBrokerError when the broker lacks the API or the ranges do not overlap.
 */
export function negotiateVersion(
  api: { apiKey: number; name: string },
  client: VersionRange,
  broker: ApiVersionTable,
): number {
  const supported = broker.get(api.apiKey);
  if (!supported) throw new UnsupportedByBrokerError(api.name, `api key ${api.apiKey} is not advertised`);
  const version = Math.min(client.max, supported.max);
  if (version < Math.max(client.min, supported.min)) {
    throw new UnsupportedByBrokerError(
      api.name,
      `broker speaks v${supported.min}-${supported.max}, client v${client.min}-${client.max}`,
    );
  }
  return version;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (IPv6 as `[::1]:9092`). */
export function parseEndpoint(address: string): Endpoint {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.trim());
  if (!match) throw new Error(`invalid broker address "${address}": expected host:port`);
  return { host: match[1]!, port: Number(match[2]) };
}

/** A connection together with the API versions its broker advertised when it was opened. */
export class BrokerConnection {
  constructor(
    readonly connection: KafkaConnection,
    readonly versions: ApiVersionTable,
  ) {}

  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  /**
   * Sends `api` at the highest version both sides support within `client`. `body` may be a
   * function of the chosen version, for APIs whose request shape changed across versions.
   */
  async send<A extends ApiPair>(
    api: A,
    client: VersionRange,
    body: MessageInput<A['request']> | ((version: number) => MessageInput<A['request']>),
    options: { timeoutMs?: number } = {},
  ): Promise<{ version: number; response: MessageValue<A['response']> }> {
    const version = negotiateVersion(api, client, this.versions);
    const input = typeof body === 'function' ? body(version) : body;
    const response = await this.connection.request(api, version, input, options.timeoutMs);
    return { version, response };
  }

  /** As `send`, for a request the broker does not answer (Produce with acks=0). */
  async sendWithoutResponse<A extends ApiPair>(
    api: A,
    client: VersionRange,
    body: MessageInput<A['request']>,
  ): Promise<void> {
    await this.connection.sendWithoutResponse(api, negotiateVersion(api, client, this.versions), body);
  }
}

export interface BrokerPoolOptions {
  clientId: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

const API_VERSIONS_REQUEST_VERSION = 3;
const UNSUPPORTED_VERSION = 35;

/**
 * One connection per broker endpoint (and lane), opened lazily and replaced when it has failed (a
 * KafkaConnection is unusable after any error). Connections are keyed by `host:port`, so a
 * bootstrap address and the node id Metadata later reports for it share one socket.
 * Invariant: at most one connect attempt per endpoint is in flight; concurrent callers share it.
 */
export class BrokerPool {
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  private readonly nodes = new Map<number, Endpoint>();
  private closed = false;

  constructor(private readonly options: BrokerPoolOptions) {}

  /** Replaces the node id → endpoint map (from Metadata); connections to moved nodes are closed. */
  setNodes(nodes: Iterable<{ nodeId: number } & Endpoint>): void {
    const next = new Map<number, Endpoint>();
    for (const node of nodes) next.set(node.nodeId, { host: node.host, port: node.port });
    for (const [id, old] of this.nodes) {
      const now = next.get(id);
      if (!now || now.host !== old.host || now.port !== old.port) this.drop(old);
    }
    this.nodes.clear();
    for (const [id, endpoint] of next) this.nodes.set(id, endpoint);
  }

  endpointOf(nodeId: number): Endpoint | undefined {
    return this.nodes.get(nodeId);
  }

  nodeIds(): number[] {
    return [...this.nodes.keys()];
  }

  /**
   * The connection to broker `nodeId`, which must be known from Metadata. `lane` names a separate
   * socket to the same broker: brokers answer a connection's requests in order, so a consumer's
   * group traffic (JoinGroup waits up to the rebalance timeout) gets its own lane and never
   * delays fetches or heartbeats queued behind it.
   */
  forNode(nodeId: number, lane = ''): Promise<BrokerConnection> {
    const endpoint = this.nodes.get(nodeId);
    // Retriable: a metadata refresh may reveal the node.
    if (!endpoint)
      return Promise.reject(new SpoolError(`unknown broker node ${nodeId}`, { retriable: true }));
    return this.forEndpoint(endpoint, lane);
  }

  async forEndpoint(endpoint: Endpoint, lane = ''): Promise<BrokerConnection> {
    const key = `${lane}@${endpoint.host}:${endpoint.port}`;
    for (;;) {
      if (this.closed) throw new SpoolError('broker pool is closed');
      const existing = this.connections.get(key);
      if (!existing) return this.open(key, endpoint);
      const connection = await existing.catch(() => undefined);
      if (connection && !connection.isClosed) return connection;
      // Dead or failed: replace it, unless another caller already did while we awaited.
      if (this.connections.get(key) === existing) return this.open(key, endpoint);
    }
  }

  private open(key: string, endpoint: Endpoint): Promise<BrokerConnection> {
    const opening = this.connect(endpoint);
    this.connections.set(key, opening);
    // A failed connect is forgotten so the next caller tries afresh (reconnect on failure).
    opening.catch(() => {
      if (this.connections.get(key) === opening) this.connections.delete(key);
    });
    return opening;
  }

  private async connect(endpoint: Endpoint): Promise<BrokerConnection> {
    const connection = await KafkaConnection.connect(endpoint.host, endpoint.port, {
      clientId: this.options.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 5_000,
    });
    try {
      const versions = await fetchApiVersions(connection);
      if (this.closed) connection.close();
      return new BrokerConnection(connection, versions);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  private drop(endpoint: Endpoint): void {
    const suffix = `@${endpoint.host}:${endpoint.port}`;
    for (const [key, existing] of this.connections) {
      if (!key.endsWith(suffix)) continue;
      this.connections.delete(key);
      existing.then((c) => c.connection.close()).catch(() => {});
    }
  }

  close(): void {
    this.closed = true;
    for (const pending of this.connections.values()) {
      pending.then((c) => c.connection.close()).catch(() => {});
    }
    this.connections.clear();
  }
}

/**
 * ApiVersions, once per connection. v3 first (it carries the client software name); a broker
 * that does not know v3 answers UNSUPPORTED_VERSION with its table anyway (KIP-511), or we fall
 * back to v0.
 */
async function fetchApiVersions(connection: KafkaConnection): Promise<ApiVersionTable> {
  let response = await connection.request(APIS.ApiVersions, API_VERSIONS_REQUEST_VERSION, {
    clientSoftwareName: 'spool-client',
    clientSoftwareVersion: '0.1.0',
  });
  if (response.errorCode === UNSUPPORTED_VERSION && response.apiKeys.length === 0) {
    response = await connection.request(APIS.ApiVersions, 0, {});
  }
  if (response.errorCode !== 0 && response.errorCode !== UNSUPPORTED_VERSION) {
    throw new UnsupportedByBrokerError('ApiVersions', `error code ${response.errorCode}`);
  }
  return new Map(response.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
}
