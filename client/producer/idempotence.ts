import { APIS } from '../../protocol/messages/index.js';
import { CLIENT_VERSIONS, type Cluster } from '../cluster/index.js';
import { throwIfError } from '../cluster/protocol-error.js';

/**
 * The idempotent producer's identity and per-partition sequence numbers. The producer id and
 * epoch come from one InitProducerId (any broker; Spool allocates ids through DynamoDB). Each
 * partition's next sequence advances by a batch's record count when the batch is first drained,
 * never on a retry, so a retried batch carries the same sequence and the broker deduplicates it.
 */
export class IdempotenceState {
  producerId = -1;
  producerEpoch = -1;
  private readonly sequences = new Map<string, number>();

  get initialized(): boolean {
    return this.producerId >= 0;
  }

  /** InitProducerId (retried on retriable errors); resets every sequence to 0. */
  async init(cluster: Cluster): Promise<void> {
    const { response } = await cluster.retry(async () => {
      const broker = await cluster.anyBroker();
      const result = await broker.send(APIS.InitProducerId, CLIENT_VERSIONS.InitProducerId, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      throwIfError(result.response.errorCode);
      return result;
    });
    this.producerId = response.producerId;
    this.producerEpoch = response.producerEpoch;
    this.sequences.clear();
  }

  /** Takes `count` sequence numbers for `topic`/`partition`, returning the first. */
  nextSequence(topic: string, partition: number, count: number): number {
    const key = `${topic}\u0000${partition}`;
    const base = this.sequences.get(key) ?? 0;
    // Sequences are int32 and wrap to 0, as in Kafka.
    this.sequences.set(key, (base + count) % 0x80000000);
    return base;
  }
}
