import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FilteredRecordsObserver } from '../filter/fetch-tag-filter.js';
import type { Readiness } from './readiness.js';
import type { RequestObserver } from './request-router.js';

/** Replication health as seen by one broker, for the partition gauges. */
export interface ReplicaCounts {
  leader: number;
  underReplicated: number;
  underMinIsr: number;
  isController: boolean;
}

/**
 * The broker's Prometheus metrics, served over HTTP at /metrics, next to the probes: /health
 * (the process serves; for container health checks) and /ready (200 once the broker carries its
 * share of replication, 503 with the reasons before; see readiness.ts).
 */
export class BrokerMetrics implements RequestObserver, FilteredRecordsObserver {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'spool_requests_total',
    help: 'Requests served, by API',
    labelNames: ['api'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'spool_request_duration_seconds',
    help: 'Time from request decode to response encode, by API',
    labelNames: ['api'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly bytesIn = new Counter({
    name: 'spool_request_bytes_total',
    help: 'Request bytes received, by API',
    labelNames: ['api'],
    registers: [this.registry],
  });
  private readonly bytesOut = new Counter({
    name: 'spool_response_bytes_total',
    help: 'Response bytes sent, by API',
    labelNames: ['api'],
    registers: [this.registry],
  });
  private readonly filteredRecords = new Counter({
    name: 'spool_fetch_filtered_records_total',
    help: 'Records dropped from consumer fetch responses by tag filters',
    registers: [this.registry],
  });
  private readonly filteredBytes = new Counter({
    name: 'spool_fetch_filtered_bytes_total',
    help: 'Fetch response bytes saved by tag filters (batch bytes read minus bytes sent)',
    registers: [this.registry],
  });
  private connectionCount: () => number = () => 0;
  private groupCounts: () => Map<string, number> = () => new Map();
  // Gauges are read from their sources at scrape time rather than kept in step by hand.
  private readonly connections: Gauge = new Gauge({
    name: 'spool_connections',
    help: 'Open client connections',
    registers: [this.registry],
    collect: () => this.connections.set(this.connectionCount()),
  });
  private readonly groups: Gauge<'state'> = new Gauge({
    name: 'spool_consumer_groups',
    help: 'Consumer groups loaded on this coordinator, by state',
    labelNames: ['state'],
    registers: [this.registry],
    collect: () => {
      this.groups.reset();
      for (const [state, count] of this.groupCounts()) this.groups.set({ state }, count);
    },
  });
  private replicaCounts: () => ReplicaCounts = () => ({
    leader: 0,
    underReplicated: 0,
    underMinIsr: 0,
    isController: false,
  });
  private readonly replicaGauge: Gauge<'kind'> = new Gauge({
    name: 'spool_partitions',
    help: 'Partitions this broker leads, and of those how many are under-replicated (ISR smaller than the replica set) or under min.insync.replicas',
    labelNames: ['kind'],
    registers: [this.registry],
    collect: () => {
      const counts = this.replicaCounts();
      this.replicaGauge.set({ kind: 'leader' }, counts.leader);
      this.replicaGauge.set({ kind: 'under_replicated' }, counts.underReplicated);
      this.replicaGauge.set({ kind: 'under_min_isr' }, counts.underMinIsr);
    },
  });
  private readonly controllerGauge: Gauge = new Gauge({
    name: 'spool_active_controller',
    help: '1 if this broker holds the controller lease',
    registers: [this.registry],
    collect: () => this.controllerGauge.set(this.replicaCounts().isController ? 1 : 0),
  });
  private server: Server | null = null;
  private readiness: () => Readiness = () => ({ ready: false, reasons: ['starting'] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'spool_' });
  }

  /** Connects the gauges to the components they describe. */
  observe(sources: {
    connections: () => number;
    groups: () => Map<string, number>;
    replicas?: () => ReplicaCounts;
    readiness?: () => Readiness;
  }): void {
    this.connectionCount = sources.connections;
    if (sources.readiness) this.readiness = sources.readiness;
    this.groupCounts = sources.groups;
    if (sources.replicas) this.replicaCounts = sources.replicas;
  }

  onRequest(api: string, durationSeconds: number, requestBytes: number, responseBytes: number): void {
    this.requests.inc({ api });
    this.latency.observe({ api }, durationSeconds);
    this.bytesIn.inc({ api }, requestBytes);
    this.bytesOut.inc({ api }, responseBytes);
  }

  onFilteredRecords(records: number, bytes: number): void {
    this.filteredRecords.inc(records);
    this.filteredBytes.inc(bytes);
  }

  /** Serves /metrics on `port` (0 picks a free one); resolves to the bound port. */
  listen(port: number, host: string): Promise<number> {
    this.server = createServer(async (req, res) => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.url === '/ready') {
        const readiness = this.readiness();
        res
          .writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(readiness)}\n`);
        return;
      }
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(await this.registry.metrics());
    });
    return new Promise((resolve) => {
      this.server!.listen(port, host, () => {
        const address = this.server!.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
