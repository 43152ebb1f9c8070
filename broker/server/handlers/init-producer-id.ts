import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type InitProducerIdRequest } from '../../../protocol/messages/index.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { ProducerIdSource } from '../../cluster/producer-id-store.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import { errorCodeFor } from '../error-mapping.js';
import type { ApiHandler } from '../request-router.js';

/** Producer epochs are int16. */
const MAX_PRODUCER_EPOCH = 0x7fff;

/**
 * InitProducerId (all versions, 0-5) for idempotent producers:
 * - no producer id in the request: a new cluster-unique id with epoch 0;
 * - an existing id and epoch (v3+, KIP-360, sent after the producer hit an unrecoverable sequence
 *   error): the same id with the next epoch, which partitions accept from sequence 0 on; a new id
 *   with epoch 0 once the epoch would pass 32767.
 * There is no coordinator state for idempotent producers (as in Kafka), so the bump is not checked
 * against the epoch the cluster last issued.
 *
 * A non-null transactionalId gets INVALID_REQUEST: transactions are not supported yet, and every
 * client (Java, librdkafka, kafkajs) treats that code as fatal for InitProducerId rather than
 * retrying it forever, while its standard message points at an incompatible broker. (A retriable
 * code such as COORDINATOR_NOT_AVAILABLE would hang transactional producers instead of failing.)
 *
 * An allocation failure (DynamoDB unreachable) answers COORDINATOR_LOAD_IN_PROGRESS, which clients
 * retry with backoff, as Kafka does when it cannot get a block of ids.
 */
export function initProducerIdHandler(
  allocator: ProducerIdSource,
  logger: Logger = silentLogger(),
): ApiHandler {
  const failure = (errorCode: number) => ({
    throttleTimeMs: 0,
    errorCode,
    producerId: -1,
    producerEpoch: -1,
  });

  return {
    api: API_REGISTRY.get(22)!,
    minVersion: 0,
    maxVersion: 5,
    async handle(request: MessageValue<typeof InitProducerIdRequest>, _version, context) {
      if (request.transactionalId !== null) {
        logger.warn(
          { transactionalId: request.transactionalId, clientId: context.header.clientId },
          'rejected InitProducerId: transactions are not supported yet',
        );
        return failure(ErrorCode.INVALID_REQUEST);
      }
      const { producerId, producerEpoch } = request;
      const bump = producerId >= 0 && producerEpoch >= 0;
      if (!bump && (producerId !== -1 || producerEpoch !== -1)) return failure(ErrorCode.INVALID_REQUEST);
      if (bump && producerEpoch < MAX_PRODUCER_EPOCH) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: producerEpoch + 1 };
      }
      try {
        const id = await allocator.allocate();
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: id, producerEpoch: 0 };
      } catch (error) {
        logger.warn({ err: error }, 'producer id allocation failed');
        return failure(errorCodeFor(error));
      }
    },
  };
}
