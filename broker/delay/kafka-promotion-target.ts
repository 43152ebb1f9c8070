import { Cluster, listOffsets, OffsetSpec, withRetry } from '../../client/cluster/index.js';
import { Consumer } from '../../client/consumer/index.js';
import { keyPartition } from '../../client/partitioners.js';
import { Producer } from '../../client/producer/index.js';
import { SCHEDULE_HEADERS } from '../../protocol/schedules.js';
import type { PromotionTarget } from './promoter.js';

/**
 * Promotes through the cluster's Kafka protocol with Spool's own SDK: the same path for a broker
 * (a client of its own cluster over loopback) and for the delayed-promotion Lambda. Produces are
 * idempotent with acks=all, so a retried request never appends twice.
 */
export class KafkaPromotionTarget implements PromotionTarget {
  private readonly cluster: Cluster;
  private readonly producer: Producer<Buffer, Buffer>;
  private roundRobin = 0;
  /**
   * Per partition, an offset the log end is known to have reached (from a ListOffsets or our own
   * produce). Offsets only grow, so it is a valid scanFrom (a lower bound for where the next record
   * lands) without asking the leader every time. (An unclean election can truncate a log below
   * it; a recovery scan from there could then miss a record and deliver it again.)
   */
  private readonly knownEnd = new Map<string, number>();

  constructor(private readonly options: { bootstrap: readonly string[]; clientId: string }) {
    this.cluster = new Cluster({ bootstrap: options.bootstrap, clientId: options.clientId });
    this.producer = new Producer<Buffer, Buffer>({
      bootstrap: [...options.bootstrap],
      clientId: options.clientId,
      acks: 'all',
      lingerMs: 0,
    });
  }

  async partitionFor(topic: string, key: Buffer | null): Promise<number> {
    await this.cluster.metadata.ensure([topic]);
    const count = this.cluster.metadata.topic(topic)?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} does not exist`);
    return key ? keyPartition(key, count) : this.roundRobin++ % count;
  }

  async endOffset(topic: string, partition: number): Promise<number> {
    const known = this.knownEnd.get(`${topic}/${partition}`);
    return known ?? this.latestOffset(topic, partition);
  }

  /** ListOffsets LATEST, retried across leader changes (NOT_LEADER_OR_FOLLOWER and the like). */
  private async latestOffset(topic: string, partition: number): Promise<number> {
    const offset = await withRetry(
      async () => {
        const [result] = await listOffsets(this.cluster, [
          { topic, partition, timestamp: OffsetSpec.LATEST },
        ]);
        return result!.offset;
      },
      { maxRetryTimeMs: 15_000, onRetry: () => this.cluster.metadata.refresh([topic]) },
    );
    this.noteEnd(topic, partition, offset);
    return offset;
  }

  private noteEnd(topic: string, partition: number, end: number): void {
    const key = `${topic}/${partition}`;
    this.knownEnd.set(key, Math.max(end, this.knownEnd.get(key) ?? 0));
  }

  async produce(
    topic: string,
    partition: number,
    record: { key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] },
  ): Promise<number> {
    const metadata = await this.producer.send(topic, {
      key: record.key,
      value: record.value,
      headers: record.headers,
      partition,
    });
    this.noteEnd(topic, partition, metadata.offset + 1);
    return metadata.offset;
  }

  async find(topic: string, partition: number, fromOffset: number, id: string): Promise<number | undefined> {
    const end = await this.latestOffset(topic, partition);
    if (fromOffset >= end) return undefined;
    const consumer = new Consumer<Buffer, Buffer>({
      bootstrap: [...this.options.bootstrap],
      clientId: `${this.options.clientId}-recovery`,
    });
    try {
      consumer.assign([{ topic, partition }]);
      consumer.seek({ topic, partition }, fromOffset);
      for await (const batch of consumer) {
        for (const record of batch.records) {
          const header = record.headers.find((h) => h.key === SCHEDULE_HEADERS.id);
          if (header?.value?.toString() === id) return record.offset;
          if (record.offset >= end - 1) return undefined;
        }
        if (batch.highWatermark >= end && batch.records.length === 0) return undefined;
      }
      return undefined;
    } finally {
      await consumer.close();
    }
  }

  async close(): Promise<void> {
    await this.producer.close();
    this.cluster.close();
  }
}
