/** Errors raised when serving partitions. Each maps to one Kafka error code in server/error-mapping.ts. */
export class PartitionError extends Error {
  override name = 'PartitionError';
  constructor(
    message: string,
    readonly topic: string,
    readonly partition: number,
  ) {
    super(message);
  }
}

export class UnknownTopicOrPartitionError extends PartitionError {
  override name = 'UnknownTopicOrPartitionError';
  constructor(topic: string, partition: number) {
    super(`unknown topic or partition ${topic}-${partition}`, topic, partition);
  }
}

/** This broker does not lead the partition. */
export class NotLeaderError extends PartitionError {
  override name = 'NotLeaderError';
  constructor(topic: string, partition: number) {
    super(`this broker is not the leader of ${topic}-${partition}`, topic, partition);
  }
}

/** A batch is larger than the topic's max.message.bytes. */
export class MessageTooLargeError extends PartitionError {
  override name = 'MessageTooLargeError';
  constructor(
    topic: string,
    partition: number,
    readonly sizeInBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `batch of ${sizeInBytes} bytes exceeds max.message.bytes ${maxBytes} on ${topic}-${partition}`,
      topic,
      partition,
    );
  }
}

/** The request's leader epoch is older than this replica's: the client has stale metadata. */
export class FencedLeaderEpochError extends PartitionError {
  override name = 'FencedLeaderEpochError';
  constructor(
    topic: string,
    partition: number,
    readonly requestEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(
      `leader epoch ${requestEpoch} of ${topic}-${partition} is fenced by epoch ${currentEpoch}`,
      topic,
      partition,
    );
  }
}

/** The request's leader epoch is newer than this replica knows: this broker's metadata lags. */
export class UnknownLeaderEpochError extends PartitionError {
  override name = 'UnknownLeaderEpochError';
  constructor(
    topic: string,
    partition: number,
    readonly requestEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(
      `leader epoch ${requestEpoch} of ${topic}-${partition} is newer than ${currentEpoch}`,
      topic,
      partition,
    );
  }
}

/** The partition has no leader right now (it is offline, or being placed). */
export class LeaderNotAvailableError extends PartitionError {
  override name = 'LeaderNotAvailableError';
  constructor(topic: string, partition: number) {
    super(`${topic}-${partition} has no available leader`, topic, partition);
  }
}

/** The ISR is smaller than min.insync.replicas for an acks=all write. */
abstract class InsufficientIsrError extends PartitionError {
  constructor(
    topic: string,
    partition: number,
    readonly isrSize: number,
    readonly minInsyncReplicas: number,
    when: string,
  ) {
    super(
      `${topic}-${partition} has ${isrSize} in-sync replicas, below min.insync.replicas ${minInsyncReplicas}, ${when}`,
      topic,
      partition,
    );
  }
}

/** acks=all was requested but the ISR is smaller than min.insync.replicas: nothing was written. */
export class NotEnoughReplicasError extends InsufficientIsrError {
  override name = 'NotEnoughReplicasError';
  constructor(topic: string, partition: number, isrSize: number, minInsyncReplicas: number) {
    super(topic, partition, isrSize, minInsyncReplicas, 'so nothing was written');
  }
}

/** The write was appended and replicated to the ISR, but the ISR had shrunk below min.insync.replicas. */
export class NotEnoughReplicasAfterAppendError extends InsufficientIsrError {
  override name = 'NotEnoughReplicasAfterAppendError';
  constructor(topic: string, partition: number, isrSize: number, minInsyncReplicas: number) {
    super(topic, partition, isrSize, minInsyncReplicas, 'after the append');
  }
}

/** acks=all did not complete within the request's timeout. */
export class ReplicationTimeoutError extends PartitionError {
  override name = 'ReplicationTimeoutError';
  constructor(
    topic: string,
    partition: number,
    readonly offset: number,
    readonly timeoutMs: number,
  ) {
    super(
      `${topic}-${partition}: offset ${offset} was not replicated within ${timeoutMs} ms`,
      topic,
      partition,
    );
  }
}
