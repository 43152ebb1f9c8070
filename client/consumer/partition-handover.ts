import { type SpoolError, toSpoolError } from '../errors.js';
import { keyOf, type SubscriptionState } from './subscription-state.js';
import type { RebalanceListener, TopicPartition, TopicPartitionOffset } from './types.js';

export interface HandoverOptions {
  /** How long a revocation waits for handlers of the revoked partitions to finish. */
  rebalanceTimeoutMs: number;
  /** Commit processed offsets of partitions being given up (atLeastOnce with auto commit). */
  commitOnRevoke: boolean;
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  waitForChange(ms: number): Promise<void>;
  onAssigned(): void;
  warn(error: SpoolError): void;
}

/**
 * Partitions arriving and leaving: the consumer's side of a rebalance.
 *
 * Revoking is a clean hand-over, in this order: stop fetching and delivering the partitions, wait
 * for their handlers to finish the record in hand (bounded by the rebalance timeout), commit what
 * was processed, run the user's onPartitionsRevoked, forget them. So the next owner starts exactly
 * after the last processed record. Losing (the generation ended under us) skips the commit: the
 * partitions may already belong to someone else.
 */
export class PartitionHandover {
  listener: RebalanceListener = {};
  private readonly revoking = new Set<string>();

  constructor(
    private readonly state: SubscriptionState,
    private readonly options: HandoverOptions,
  ) {}

  /** Whether the batch's partition is being revoked: its handler should stop after this record. */
  isRevoking(partition: TopicPartition): boolean {
    return this.revoking.has(keyOf(partition.topic, partition.partition));
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    this.state.assign(partitions, 'committed');
    this.options.onAssigned();
    await this.callListener('onPartitionsAssigned', partitions);
  }

  async revoke(partitions: TopicPartition[], options: { listener?: boolean } = {}): Promise<void> {
    for (const p of partitions) {
      this.revoking.add(keyOf(p.topic, p.partition));
      const state = this.state.get(p.topic, p.partition);
      if (state) {
        state.paused = true; // no more fetching or delivery
        state.buffered = [];
      }
    }
    try {
      const deadline = Date.now() + this.options.rebalanceTimeoutMs;
      while (this.state.anyDelivering(partitions) && Date.now() < deadline) {
        await this.options.waitForChange(Math.min(100, deadline - Date.now()));
      }
      if (this.options.commitOnRevoke) {
        try {
          await this.options.commit(this.state.uncommitted(partitions));
        } catch (error) {
          this.options.warn(toSpoolError(error));
        }
      }
      if (options.listener ?? true) await this.callListener('onPartitionsRevoked', partitions);
    } finally {
      this.state.unassign(partitions);
      for (const p of partitions) this.revoking.delete(keyOf(p.topic, p.partition));
    }
  }

  async lose(partitions: TopicPartition[]): Promise<void> {
    this.state.unassign(partitions);
    // As in Kafka, a listener without onPartitionsLost hears about lost partitions as revoked.
    await this.callListener(
      this.listener.onPartitionsLost ? 'onPartitionsLost' : 'onPartitionsRevoked',
      partitions,
    );
  }

  /** On close: revoke everything (the listener only for a group subscription). */
  revokeAll(listener: boolean): Promise<void> {
    return this.revoke(this.state.assigned(), { listener });
  }

  private async callListener(
    name: 'onPartitionsAssigned' | 'onPartitionsRevoked' | 'onPartitionsLost',
    partitions: TopicPartition[],
  ): Promise<void> {
    if (partitions.length === 0) return;
    try {
      await this.listener[name]?.(partitions);
    } catch (error) {
      // A failing listener must not wedge the rebalance; it is reported and the group moves on.
      this.options.warn(toSpoolError(error));
    }
  }
}
