import type { BrokerEndpoint } from '../cluster/broker-lease.js';
import type { PartitionState } from '../cluster/partition-state-store.js';
import type { Logger } from '../common/logger.js';
import { partitionKey } from '../server/fetch-waiters.js';
import type { Partition } from './partition.js';
import { ReplicaFetcher } from './replica-fetcher.js';

export interface ReplicaFetcherManagerOptions {
  localBrokerId: number;
  endpointOf(brokerId: number): BrokerEndpoint | undefined;
  logger: Logger;
  maxWaitMs?: number;
}

/**
 * Assigns followed partitions to one fetcher per leader broker, moving a partition when its
 * leader changes and asking for a fresh epoch reconciliation whenever its leader epoch changes.
 */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  /** Which leader each followed partition is currently fetched from. */
  private readonly assignment = new Map<string, { leader: number; epoch: number }>();
  private closed = false;

  constructor(private readonly options: ReplicaFetcherManagerOptions) {}

  follow(partition: Partition, state: PartitionState): void {
    if (this.closed) return;
    const key = keyOf(partition);
    if (state.leader < 0 || state.leader === this.options.localBrokerId) {
      this.unfollow(partition);
      return;
    }
    const current = this.assignment.get(key);
    if (current && current.leader === state.leader && current.epoch === state.leaderEpoch) return;
    if (current) this.fetchers.get(current.leader)?.remove(key);
    this.assignment.set(key, { leader: state.leader, epoch: state.leaderEpoch });
    this.fetcherFor(state.leader).set(key, {
      partition,
      leaderEpoch: state.leaderEpoch,
      needsTruncation: true,
      retryAt: 0,
    });
  }

  unfollow(partition: Partition): void {
    const key = keyOf(partition);
    const current = this.assignment.get(key);
    if (!current) return;
    this.assignment.delete(key);
    this.fetchers.get(current.leader)?.remove(key);
  }

  private fetcherFor(leaderId: number): ReplicaFetcher {
    let fetcher = this.fetchers.get(leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher({
        localBrokerId: this.options.localBrokerId,
        leaderId,
        endpointOf: this.options.endpointOf,
        logger: this.options.logger.child({ component: 'replica-fetcher', leader: leaderId }),
        ...(this.options.maxWaitMs !== undefined ? { maxWaitMs: this.options.maxWaitMs } : {}),
      });
      this.fetchers.set(leaderId, fetcher);
      fetcher.start();
    }
    return fetcher;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
    this.assignment.clear();
  }
}

function keyOf(partition: Partition): string {
  return partitionKey(partition.topic, partition.index);
}
