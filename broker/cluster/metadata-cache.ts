import type { TopicRecord, TopicStore } from './topic-store.js';

/**
 * The broker's view of topic metadata, read from DynamoDB. Lookups are served from memory; the
 * cache refreshes in the background every `refreshMs`, and immediately after local changes.
 */
export class MetadataCache {
  private byName = new Map<string, TopicRecord>();
  private byId = new Map<string, TopicRecord>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: TopicStore,
    private readonly refreshMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch(() => undefined);
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Re-reads every topic; concurrent callers share one scan. */
  refresh(): Promise<void> {
    this.refreshing ??= this.store
      .list()
      .then((topics) => {
        this.byName = new Map(topics.map((t) => [t.name, t]));
        this.byId = new Map(topics.map((t) => [t.topicId, t]));
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  topic(name: string): TopicRecord | undefined {
    return this.byName.get(name);
  }

  topicById(topicId: string): TopicRecord | undefined {
    return this.byId.get(topicId);
  }

  topics(): TopicRecord[] {
    return [...this.byName.values()];
  }

  /** Records a change this broker just made, without waiting for the next refresh. */
  put(topic: TopicRecord): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  remove(name: string): void {
    const topic = this.byName.get(name);
    this.byName.delete(name);
    if (topic) this.byId.delete(topic.topicId);
  }
}
