import { isRetriable } from '../cluster/index.js';
import { ErrorCode, KafkaProtocolError } from '../errors.js';

/** Shared by the admin operations (client/admin/*.ts). */

/** Kafka's config resource type for topics. */
export const RESOURCE_TOPIC = 2;
/** How long the broker may take for topic creation, deletion and growth. */
export const OPERATION_TIMEOUT_MS = 30_000;
export const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * For operations on topics that should already exist: UNKNOWN_TOPIC_OR_PARTITION is retriable on
 * the wire (a topic may be being created), but once a fresh Metadata says the topic is unknown,
 * waiting out the whole retry time would only delay the answer.
 */
export const EXISTING_TOPICS = {
  shouldRetry: (error: unknown) =>
    isRetriable(error) &&
    !(error instanceof KafkaProtocolError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
