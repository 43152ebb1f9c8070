/**
 * Errors raised by the idempotent-producer checks (producer-state.ts). Each maps to one Kafka wire
 * error code in server/error-mapping.ts; the mapping is noted on each class.
 */
export class ProducerStateError extends Error {
  override name = 'ProducerStateError';
  constructor(
    message: string,
    readonly producerId: number,
  ) {
    super(message);
  }
}

/**
 * A batch's first sequence does not follow the producer's last appended sequence, a new epoch does
 * not start at 0, or a request mixes batches already appended with new ones.
 * -> OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
export class OutOfOrderSequenceError extends ProducerStateError {
  override name = 'OutOfOrderSequenceError';
  constructor(
    producerId: number,
    readonly producerEpoch: number,
    readonly sequence: number,
    /** The sequence the broker would have accepted, or null when no single one would do. */
    readonly expectedSequence: number | null,
    detail?: string,
  ) {
    super(
      `out of order sequence ${sequence} for producer ${producerId} epoch ${producerEpoch}` +
        (expectedSequence === null ? '' : ` (expected ${expectedSequence})`) +
        (detail ? `: ${detail}` : ''),
      producerId,
    );
  }
}

/** The batch carries an older epoch than the partition has seen: a fenced producer. -> INVALID_PRODUCER_EPOCH. */
export class InvalidProducerEpochError extends ProducerStateError {
  override name = 'InvalidProducerEpochError';
  constructor(
    producerId: number,
    readonly producerEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(
      `producer ${producerId} sent epoch ${producerEpoch} but the partition is at epoch ${currentEpoch}`,
      producerId,
    );
  }
}

/**
 * A batch from an idempotent producer whose header is unusable (negative epoch or sequence).
 * -> INVALID_RECORD: the broker's batch validation rejects it, and clients do not retry that.
 */
export class InvalidProducerBatchError extends ProducerStateError {
  override name = 'InvalidProducerBatchError';
  constructor(message: string, producerId: number) {
    super(message, producerId);
  }
}

/**
 * A batch with the transactional bit set. Spool has no transaction coordinator yet, so it could
 * never commit or abort such a batch, and read_committed consumers would stall on it forever.
 * -> INVALID_RECORD (non-retriable; produce v8+ responses also carry this message).
 */
export class TransactionalBatchNotSupportedError extends InvalidProducerBatchError {
  override name = 'TransactionalBatchNotSupportedError';
  constructor(producerId: number) {
    super(`transactional record batches are not supported yet (producer ${producerId})`, producerId);
  }
}
