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
