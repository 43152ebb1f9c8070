import { describe, expect, it } from 'vitest';
import {
  ProducerIdAllocationError,
  type ProducerIdSource,
} from '../../../broker/cluster/producer-id-store.js';
import { initProducerIdHandler } from '../../../broker/server/handlers/init-producer-id.js';
import type { ApiHandler, RequestContext } from '../../../broker/server/request-router.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { InitProducerIdRequest, InitProducerIdResponse } from '../../../protocol/messages/index.js';
import { decodeMessage, encodeMessage } from '../../../protocol/wire/codec.js';
import type { MessageInput, MessageValue } from '../../../protocol/wire/schema.js';

const context: RequestContext = {
  header: { apiKey: 22, apiVersion: 0, correlationId: 1, clientId: 'app' },
  connection: { id: 1, remoteAddress: '10.0.0.5:51234', closedSignal: new AbortController().signal },
};

/** Counts up from `first`; fails while `failing` is set. */
function fakeAllocator(first = 1000): ProducerIdSource & { failing: boolean; calls: number } {
  let next = first;
  return {
    failing: false,
    calls: 0,
    async allocate() {
      this.calls++;
      if (this.failing) throw new ProducerIdAllocationError('dynamodb unreachable');
      return next++;
    },
  };
}

/** Calls the handler as the router does, through the codec at `version` both ways. */
async function call(
  handler: ApiHandler,
  version: number,
  request: MessageInput<typeof InitProducerIdRequest>,
): Promise<MessageValue<typeof InitProducerIdResponse>> {
  const decoded = decodeMessage(
    InitProducerIdRequest,
    version,
    encodeMessage(InitProducerIdRequest, version, request),
  );
  const response = await handler.handle(decoded as never, version, context);
  expect(response).not.toBeNull();
  const bytes = encodeMessage(
    InitProducerIdResponse,
    version,
    response as MessageInput<typeof InitProducerIdResponse>,
  );
  return decodeMessage(InitProducerIdResponse, version, bytes);
}

describe('InitProducerId handler', () => {
  it('serves versions 0-5 and hands a new id with epoch 0 to idempotent producers', async () => {
    const allocator = fakeAllocator();
    const handler = initProducerIdHandler(allocator);
    expect([handler.api.apiKey, handler.minVersion, handler.maxVersion]).toEqual([22, 0, 5]);
    for (let version = 0; version <= 5; version++) {
      expect(await call(handler, version, { transactionalId: null, transactionTimeoutMs: 60_000 })).toEqual({
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerId: 1000 + version,
        producerEpoch: 0,
      });
    }
  });

  it('bumps the epoch of an existing producer id (KIP-360), with a new id once the epoch is exhausted', async () => {
    const allocator = fakeAllocator();
    const handler = initProducerIdHandler(allocator);
    const bump = (producerId: number, producerEpoch: number) =>
      call(handler, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId, producerEpoch });
    expect(await bump(42, 0)).toMatchObject({ errorCode: 0, producerId: 42, producerEpoch: 1 });
    expect(await bump(42, 32766)).toMatchObject({ errorCode: 0, producerId: 42, producerEpoch: 32767 });
    expect(allocator.calls).toBe(0);
    expect(await bump(42, 32767)).toMatchObject({ errorCode: 0, producerId: 1000, producerEpoch: 0 });
    // Only one of id and epoch set is not a valid request.
    expect(await bump(42, -1)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1 });
    expect(await bump(-1, 3)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1 });
  });

  it('rejects transactional ids with a non-retriable error', async () => {
    const allocator = fakeAllocator();
    const handler = initProducerIdHandler(allocator);
    for (const version of [0, 3, 5]) {
      expect(await call(handler, version, { transactionalId: 'tx-1', transactionTimeoutMs: 60_000 })).toEqual(
        {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_REQUEST,
          producerId: -1,
          producerEpoch: -1,
        },
      );
    }
    expect(allocator.calls).toBe(0);
  });

  it('answers a retriable error while ids cannot be allocated', async () => {
    const allocator = fakeAllocator();
    allocator.failing = true;
    const handler = initProducerIdHandler(allocator);
    expect(await call(handler, 1, { transactionalId: null, transactionTimeoutMs: 1 })).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      producerId: -1,
      producerEpoch: -1,
    });
  });
});
