import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../../broker/cluster/aws-config.js';
import {
  PRODUCER_ID_BLOCK_KEY,
  ProducerIdAllocationError,
  ProducerIdAllocator,
} from '../../../broker/cluster/producer-id-store.js';
import { tableName } from '../../../broker/cluster/tables.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/** ProducerIdAllocator against DynamoDB Local. */

const prefix = `pids-${randomUUID().slice(0, 8)}`;
const db = useDynamoDbLocal(prefix);

function secondClient() {
  return createDynamoDocumentClient({
    region: 'us-east-1',
    dynamoDbEndpoint: db.endpoint,
    tablePrefix: prefix,
  });
}

describe('ProducerIdAllocator', () => {
  // Runs first, on a fresh table.
  it('hands out ids one by one from reserved blocks, starting at 0', async () => {
    const allocator = new ProducerIdAllocator(db.client, prefix, { blockSize: 3 });
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push(await allocator.allocate());
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const { Item } = await db.client.send(
      new GetCommand({ TableName: tableName(prefix, 'cluster'), Key: { ...PRODUCER_ID_BLOCK_KEY } }),
    );
    // Three blocks of three were reserved; ids 7 and 8 are this allocator's, unused so far.
    expect(Item?.nextId).toBe(9);
  });

  it('never hands the same id twice across concurrent callers and brokers', async () => {
    const other = secondClient();
    try {
      const allocators = [
        new ProducerIdAllocator(db.client, prefix, { blockSize: 5 }),
        new ProducerIdAllocator(db.client, prefix, { blockSize: 7 }),
        new ProducerIdAllocator(other, prefix, { blockSize: 5 }),
        new ProducerIdAllocator(other, prefix, { blockSize: 1 }),
      ];
      const ids = await Promise.all(
        Array.from({ length: 200 }, (_, i) => allocators[i % allocators.length]!.allocate()),
      );
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
      // Each allocator's ids increase in the order its callers asked.
      for (let a = 0; a < allocators.length; a++) {
        const own = ids.filter((_, i) => i % allocators.length === a);
        expect(own).toEqual([...own].sort((x, y) => x - y));
      }
    } finally {
      other.destroy();
    }
  });

  it('fails waiting callers with ProducerIdAllocationError when DynamoDB fails, and recovers', async () => {
    const client = secondClient();
    let down = true;
    client.middlewareStack.add(
      (next) => async (args) => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return next(args);
      },
      { step: 'initialize', name: 'faultInjection' },
    );
    try {
      const allocator = new ProducerIdAllocator(client, prefix, { blockSize: 10 });
      const results = await Promise.allSettled([allocator.allocate(), allocator.allocate()]);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ProducerIdAllocationError);
      }
      down = false;
      const [a, b] = await Promise.all([allocator.allocate(), allocator.allocate()]);
      expect(b).toBe(a! + 1);
    } finally {
      client.destroy();
    }
  });

  it('rejects a block size that is not a positive integer', () => {
    expect(() => new ProducerIdAllocator(db.client, prefix, { blockSize: 0 })).toThrow(RangeError);
  });
});
