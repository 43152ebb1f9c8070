import { type SpoolError, toSpoolError } from '../errors.js';
import type { GroupOffsets } from './group-offsets.js';
import type { PartitionState, SubscriptionState } from './subscription-state.js';
import type { TopicPartitionOffset } from './types.js';

/**
 * The consumer's commits. Serialized, so an older commit can never land after a newer one and
 * move a partition's committed offset backwards; each acknowledged offset is recorded in the
 * SubscriptionState. Without a group (no GroupOffsets) there is nothing to commit to.
 */
export class OffsetCommitter {
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly offsets: GroupOffsets | undefined,
    private readonly state: SubscriptionState,
    private readonly hooks: {
      committed(offsets: { topic: string; partition: number; offset: number }[]): void;
      warn(error: SpoolError): void;
    },
  ) {}

  commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const groupOffsets = this.offsets;
    if (!groupOffsets) return Promise.resolve();
    const run = async () => {
      if (offsets.length === 0) return;
      await groupOffsets.commit(offsets);
      for (const o of offsets) this.state.markCommitted(o.topic, o.partition, o.offset);
      this.hooks.committed(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => {});
    return result;
  }

  /** Commits everything processed and not yet committed. */
  commitProcessed(): Promise<void> {
    return this.commit(this.state.uncommitted());
  }

  /** Commits processed offsets every `intervalMs` while `ready()`; failures are warnings (the next try may work). */
  startAutoCommit(intervalMs: number, ready: () => boolean): void {
    this.timer = setInterval(() => {
      if (!ready()) return;
      this.commitProcessed().catch((error) => this.hooks.warn(toSpoolError(error)));
    }, intervalMs);
  }

  stopAutoCommit(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Committed offsets (-1 where none) for partitions being positioned. */
  async committedFor(partitions: PartitionState[]): Promise<Map<PartitionState, number>> {
    const result = new Map<PartitionState, number>();
    if (!this.offsets) return result;
    const committed = await this.offsets.fetchCommitted(partitions);
    for (const p of partitions) result.set(p, committed.get(`${p.topic}:${p.partition}`) ?? -1);
    return result;
  }
}
