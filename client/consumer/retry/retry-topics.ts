import { createTopics } from '../../admin/topics.js';
import type { Cluster } from '../../cluster/index.js';
import { ErrorCode, KafkaProtocolError } from '../../errors.js';
import { type RetryPolicy, retryTopicsOf } from './retry-policy.js';

/**
 * The retry and dead-letter topics of a consumer's subscription: their names, which topic a
 * record on a retry topic originally came from, and creating them when missing.
 *
 * Spool never auto-creates topics, so the consumer creates its retry and dead-letter topics (with
 * the source topic's partition count, so retries spread like the source and keys keep their
 * partition) through the consumer's own connection, before it joins the group: the first
 * assignment then already includes the retry topics.
 */
export class RetryTopics {
  private readonly sourceByRetryTopic = new Map<string, string>();
  /** Per source topic: its retry and dead-letter topics exist (or are being created). */
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    private readonly policy: RetryPolicy,
    private readonly cluster: Cluster,
  ) {}

  /** What to subscribe to for `sources`: the sources and their retry topics. Checks the names. */
  subscription(sources: readonly string[]): string[] {
    const topics = new Set(sources);
    for (const source of sources) {
      const { retryTopic } = retryTopicsOf(this.policy, source);
      this.sourceByRetryTopic.set(retryTopic, source);
      topics.add(retryTopic);
    }
    return [...topics].sort();
  }

  /** The source topic whose retry topic `topic` is, or undefined if it is not a retry topic. */
  sourceOf(topic: string): string | undefined {
    return this.sourceByRetryTopic.get(topic);
  }

  /**
   * Creates the missing retry and dead-letter topics of `sources`. With `onlyExistingSources`, a
   * source that does not exist yet is left for later (its partition count is unknown; a record of
   * it failing creates them).
   */
  async ensure(sources: readonly string[], options: { onlyExistingSources?: boolean } = {}): Promise<void> {
    await Promise.all(sources.map((source) => this.ensureOne(source, options.onlyExistingSources ?? false)));
  }

  private ensureOne(source: string, onlyIfSourceExists: boolean): Promise<void> {
    const known = this.ensured.get(source);
    if (known) return known;
    const running = this.create(source, onlyIfSourceExists).then((complete) => {
      if (!complete) this.ensured.delete(source);
    });
    this.ensured.set(source, running);
    running.catch(() => this.ensured.delete(source));
    return running;
  }

  /** False when nothing was done because the source does not exist (and had to). */
  private async create(source: string, onlyIfSourceExists: boolean): Promise<boolean> {
    const { retryTopic, deadLetterTopic } = retryTopicsOf(this.policy, source);
    await this.cluster.retry(() => this.cluster.metadata.refresh([source, retryTopic, deadLetterTopic]));
    const sourceMetadata = this.cluster.metadata.topic(source);
    if (!sourceMetadata && onlyIfSourceExists) return false;
    const partitions = Math.max(1, sourceMetadata?.partitions.length ?? 1);
    for (const topic of [retryTopic, deadLetterTopic]) {
      if (this.cluster.metadata.topic(topic)) continue;
      try {
        await createTopics(this.cluster, [{ topic, partitions }], {});
      } catch (error) {
        // Another member of the group (or an operator) was quicker: fine, it exists.
        if (!(error instanceof KafkaProtocolError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS))
          throw error;
      }
    }
    return true;
  }
}
