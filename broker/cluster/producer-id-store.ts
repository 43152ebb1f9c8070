import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from './tables.js';

/**
 * Cluster-unique producer ids (KIP-98) from the `cluster` table.
 *
 * One item, pk "producer-ids", sk "block", holds `nextId`: the first id no broker has reserved.
 * A broker reserves a block of ids with one atomic `ADD nextId :blockSize` and reads back the new
 * value, so its block is [new - blockSize, new). DynamoDB applies ADDs to one item serially, so two
 * reservations can never overlap, whichever broker makes them; ids start at 0 (ADD on a missing
 * item starts from 0). A broker that crashes loses the rest of its block: ids are unique, not dense.
 */

export const PRODUCER_ID_BLOCK_KEY = { pk: 'producer-ids', sk: 'block' } as const;
export const DEFAULT_PRODUCER_ID_BLOCK_SIZE = 1000;

export interface ProducerIdAllocatorOptions {
  /** Ids reserved per DynamoDB write. */
  blockSize?: number;
}

/** Reserving a block of producer ids failed (DynamoDB unreachable or the id space exhausted). */
export class ProducerIdAllocationError extends Error {
  override name = 'ProducerIdAllocationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Where InitProducerId gets ids from; ProducerIdAllocator is the real one. */
export interface ProducerIdSource {
  allocate(): Promise<number>;
}

export class ProducerIdAllocator implements ProducerIdSource {
  private readonly table: string;
  private readonly blockSize: number;
  /** Invariant: next <= end; ids in [next, end) are reserved for this allocator and unused. */
  private next = 0;
  private end = 0;
  /** The one block reservation in flight, shared by every caller waiting for an id. */
  private reserving: Promise<void> | null = null;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
    options: ProducerIdAllocatorOptions = {},
  ) {
    this.table = tableName(tablePrefix, 'cluster');
    this.blockSize = options.blockSize ?? DEFAULT_PRODUCER_ID_BLOCK_SIZE;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize < 1) {
      throw new RangeError(`producer id block size must be a positive integer, got ${this.blockSize}`);
    }
  }

  /** A producer id never handed out before by any allocator of this cluster. */
  async allocate(): Promise<number> {
    // Loop: a block reserved for one wave of waiters may be drained before this caller resumes.
    for (;;) {
      if (this.next < this.end) return this.next++;
      this.reserving ??= this.reserveBlock().finally(() => {
        this.reserving = null;
      });
      await this.reserving;
    }
  }

  private async reserveBlock(): Promise<void> {
    let attributes: Record<string, unknown> | undefined;
    try {
      ({ Attributes: attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { ...PRODUCER_ID_BLOCK_KEY },
          UpdateExpression: 'ADD nextId :blockSize',
          ExpressionAttributeValues: { ':blockSize': this.blockSize },
          ReturnValues: 'UPDATED_NEW',
        }),
      ));
    } catch (error) {
      throw new ProducerIdAllocationError('could not reserve a block of producer ids', { cause: error });
    }
    const end = attributes?.nextId;
    // Producer ids are int64 on the wire, but Spool carries them as JS numbers.
    if (typeof end !== 'number' || !Number.isSafeInteger(end) || end < this.blockSize) {
      throw new ProducerIdAllocationError(`unusable nextId ${String(end)} in ${this.table}`);
    }
    this.next = end - this.blockSize;
    this.end = end;
  }
}
