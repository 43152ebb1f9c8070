/**
 * Choosing a partition for each produced record. Keyed records hash exactly like the Java
 * client's default partitioner (murmur2 of the serialized key), so Spool and Java/kafkajs
 * producers agree on where a key lives; records without a key use KIP-480's sticky partitioning,
 * which fills one batch at a time instead of spreading tiny batches over every partition.
 */

export interface PartitionerRecord {
  /** The serialized key; null or undefined means the record has no key. */
  readonly key?: Uint8Array | null;
  /** A partition the caller chose explicitly. */
  readonly partition?: number | null;
}

export interface PartitionerContext {
  readonly topic: string;
  /** Partitions in the topic; valid partitions are 0 .. partitionCount - 1. */
  readonly partitionCount: number;
  /** Partitions that currently have a leader, ascending or not. */
  readonly availablePartitions: readonly number[];
}

/**
 * Returns the partition for a record. A plain function is a complete partitioner; stateful ones
 * may also implement `onNewBatch`, which the producer calls when the batch it last chose a
 * partition for is full or sent.
 */
export interface Partitioner {
  (record: PartitionerRecord, context: PartitionerContext): number;
  onNewBatch?(topic: string, previousPartition: number): void;
}

// The Java client's murmur2 mixing constants and seed (Utils.murmur2).
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2: a 32-bit signed hash, bit-for-bit equal to the Java client's `Utils.murmur2`.
 * Strings are hashed as their UTF-8 bytes, which is what Java's StringSerializer produces.
 * Math.imul and `>>>` reproduce Java's wrapping 32-bit int arithmetic.
 */
export function murmur2(key: Uint8Array | string): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail bytes, as in the Java original's fall-through switch: each extra byte adds one term.
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The Java client's `Utils.toPositive`: clears the sign bit rather than taking Math.abs, which
 * matters for compatibility (abs and masking map negative hashes to different partitions).
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition the Java client's default partitioner picks for a serialized key. */
export function keyPartition(key: Uint8Array | string, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/**
 * KIP-480 sticky partitioning for records without a key: every such record for a topic goes to
 * the same partition until the producer reports (via `onNewBatch`) that the batch for it is full
 * or sent; then a different available partition is picked at random. This keeps batches large
 * at low throughput, cutting latency and request count compared with round-robin.
 */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();
  /** Per topic, the partition whose batch just finished, so the next pick moves elsewhere. */
  private readonly finished = new Map<string, number>();

  /** `random` returns a float in [0, 1); injectable so tests are deterministic. */
  constructor(private readonly random: () => number = Math.random) {}

  partition(topic: string, availablePartitions: readonly number[], partitionCount: number): number {
    const sticky = this.current.get(topic);
    if (sticky !== undefined) return sticky;
    const chosen = this.choose(this.finished.get(topic), availablePartitions, partitionCount);
    this.finished.delete(topic);
    this.current.set(topic, chosen);
    return chosen;
  }

  /**
   * Unsticks `topic` so its next record picks a new partition. Ignored unless `previousPartition`
   * is still the sticky one: several batches can complete back to back, and only the first should
   * cause a switch (otherwise the fresh choice would be abandoned before it got a full batch).
   * The new partition is chosen lazily, by the next `partition()` call, because that call has
   * current metadata.
   */
  onNewBatch(topic: string, previousPartition: number): void {
    if (this.current.get(topic) !== previousPartition) return;
    this.current.delete(topic);
    this.finished.set(topic, previousPartition);
  }

  private choose(avoid: number | undefined, available: readonly number[], partitionCount: number): number {
    // No leader known anywhere: any partition will do, the producer waits for metadata anyway.
    if (available.length === 0) return this.pick(partitionCount);
    if (available.length === 1) return available[0]!;
    // Draw from the others only, so a single draw always moves somewhere new.
    const others = avoid === undefined ? available : available.filter((p) => p !== avoid);
    return others[this.pick(others.length)]!;
  }

  private pick(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }
}

/**
 * The default partitioner: an explicit partition wins, then murmur2 of the key (Java-compatible),
 * then sticky partitioning. A factory rather than a singleton because the sticky choice is state
 * that belongs to one producer.
 */
export function createDefaultPartitioner(sticky: StickyPartitioner = new StickyPartitioner()): Partitioner {
  const partitioner: Partitioner = (record, { topic, partitionCount, availablePartitions }) => {
    if (record.partition !== null && record.partition !== undefined) return record.partition;
    if (partitionCount < 1) throw new RangeError(`topic ${topic} has no partitions`);
    if (record.key !== null && record.key !== undefined) return keyPartition(record.key, partitionCount);
    return sticky.partition(topic, availablePartitions, partitionCount);
  };
  partitioner.onNewBatch = (topic, previousPartition) => sticky.onNewBatch(topic, previousPartition);
  return partitioner;
}
