import type { Cluster } from '../../cluster/index.js';
import { SerializationError } from '../../errors.js';
import { Producer } from '../../producer/producer.js';
import type { DeadLetterReason } from './retry-headers.js';
import { type RetryOptions, retryPolicy } from './retry-policy.js';
import { type FailedRecord, RetryRouter, type RoutedFailure } from './retry-router.js';
import { RetryTopics } from './retry-topics.js';

/**
 * A consumer's `retry` option at work: its retry topics, the router and the producer that sends
 * failed records on. One per consumer; closed by Consumer.close().
 */
export class ConsumerRetries {
  private readonly topics: RetryTopics;
  private readonly router: RetryRouter;
  private readonly producer: Producer<Buffer, Buffer>;

  constructor(
    options: { retry: RetryOptions; groupId: string | undefined; bootstrap: string[]; clientId: string },
    cluster: Cluster,
  ) {
    const policy = retryPolicy(options.retry, options.groupId);
    this.topics = new RetryTopics(policy, cluster);
    // Failed records are sent one at a time and awaited, so lingering would only add latency.
    this.producer = new Producer<Buffer, Buffer>({
      bootstrap: options.bootstrap,
      clientId: `${options.clientId}-retry`,
      lingerMs: 0,
    });
    this.router = new RetryRouter(policy, this.topics, this.producer);
  }

  /** What the group subscription holds for `sources`: them and their retry topics. */
  subscription(sources: readonly string[]): string[] {
    return this.topics.subscription(sources);
  }

  /** Creates the missing retry and dead-letter topics of the sources that exist. */
  ensureTopics(sources: readonly string[]): Promise<void> {
    return this.topics.ensure(sources, { onlyExistingSources: true });
  }

  /**
   * Deserializes and handles one record. A failing handler sends the record on; so does a record
   * that cannot be deserialized, straight to the dead-letter topic (no retry changes its bytes).
   * Resolves once the record is handled or sent on (undefined if it was handled).
   */
  async handle<R>(
    failed: FailedRecord,
    deserialize: () => R,
    handler: (record: R) => Promise<void> | void,
  ): Promise<RoutedFailure | undefined> {
    let record: R;
    try {
      record = deserialize();
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
      return this.router.route(failed, error, 'deserialization-failed');
    }
    try {
      await handler(record);
      return undefined;
    } catch (error) {
      return this.router.route(failed, error);
    }
  }

  route(failed: FailedRecord, error: unknown, reason?: DeadLetterReason): Promise<RoutedFailure> {
    return this.router.route(failed, error, reason);
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}
