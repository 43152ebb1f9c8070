import { ErrorCode } from '../../protocol/error-codes.js';
import type { MetadataCache } from './metadata-cache.js';
import {
  InvalidTopicConfigError,
  resolveTopicConfig,
  TOPIC_CONFIG_KEYS,
  type TopicConfig,
} from './topic-config.js';
import {
  TopicExistsError,
  type TopicRecord,
  type TopicStore,
  TopicVersionConflictError,
  UnknownTopicError,
} from './topic-store.js';

/** Kafka's topic name rules: 1-249 characters of [a-zA-Z0-9._-], and not "." or "..". */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Upper bound on partitions per topic. Kafka has no hard limit, but every partition costs a log
 * directory and metadata entries, and an unbounded count from one request would let a client make
 * the broker allocate without limit.
 */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;
const MAX_UPDATE_ATTEMPTS = 3;
/**
 * Config changes re-apply cleanly to whatever they read (they are edits, not checks), so they
 * retry conflicts longer than partition changes do, with a little jittered backoff.
 */
const MAX_CONFIG_ATTEMPTS = 10;

/**
 * Topic configs whose value is a comma-separated list in Kafka (ConfigDef.Type.LIST), the only
 * ones IncrementalAlterConfigs can APPEND to or SUBTRACT from.
 */
export const LIST_TOPIC_CONFIGS: ReadonlySet<string> = new Set(['cleanup.policy']);
const DEFAULTS = resolveTopicConfig({});

/** One IncrementalAlterConfigs operation on a topic's config overrides. */
export type ConfigChange =
  | { op: 'set'; name: string; value: string }
  | { op: 'delete'; name: string }
  | { op: 'append' | 'subtract'; name: string; value: string };

/**
 * A change to a topic's config: AlterConfigs replaces every override (keys left out go back to
 * their defaults); IncrementalAlterConfigs edits single keys and keeps the rest.
 */
export type ConfigAlteration =
  | { kind: 'replace'; configs: Record<string, string> }
  | { kind: 'incremental'; changes: readonly ConfigChange[] };

export interface TopicOutcome {
  errorCode: number;
  errorMessage: string | null;
  topic?: TopicRecord;
}

export interface CreateTopicRequest {
  name: string;
  /** -1 means the broker default. */
  numPartitions: number;
  /** -1 means the broker default. */
  replicationFactor: number;
  configs: Record<string, string>;
  validateOnly: boolean;
}

/**
 * Topic administration shared by the CreateTopics, DeleteTopics, CreatePartitions,
 * AlterConfigs and IncrementalAlterConfigs handlers:
 * validates requests as Kafka does, writes through the DynamoDB store, updates the local metadata
 * cache so the change is visible to this broker at once, and announces it to the cluster. The
 * controller then places (or, after deletion, removes) the partitions.
 */
export interface TopicAdminOptions {
  numPartitions: number;
  /** Default replication factor; undefined means min(3, live brokers). */
  replicationFactor: number | undefined;
  liveBrokers: () => number;
  /** Tells every broker that metadata changed (bumps the metadata version). */
  announce: () => Promise<void>;
  /** How long create and add-partitions wait for the controller to elect leaders. Default 10 s. */
  leaderWaitMs?: number;
}

export class TopicAdmin {
  constructor(
    private readonly store: TopicStore,
    private readonly metadata: MetadataCache,
    private readonly defaults: TopicAdminOptions,
  ) {}

  /**
   * Waits until the controller has placed every partition and elected its leader, so a client that
   * produces right after CreateTopics finds leaders (Kafka's CreateTopics likewise answers once
   * the controller has assigned them). Gives up quietly after leaderWaitMs: the topic exists, and
   * clients retry LEADER_NOT_AVAILABLE.
   */
  private async waitForLeaders(topic: TopicRecord): Promise<void> {
    const deadline = Date.now() + (this.defaults.leaderWaitMs ?? 10_000);
    while (Date.now() < deadline) {
      await this.metadata.refresh();
      let ready = true;
      for (let p = 0; p < topic.partitionCount && ready; p++) {
        const state = this.metadata.partition(topic.name, p);
        ready = state !== undefined && state.topicId === topic.topicId && state.leader >= 0;
      }
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async create(request: CreateTopicRequest): Promise<TopicOutcome> {
    if (!LEGAL_TOPIC.test(request.name) || request.name === '.' || request.name === '..') {
      return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `illegal topic name "${request.name}"`);
    }
    const partitions = request.numPartitions === -1 ? this.defaults.numPartitions : request.numPartitions;
    if (partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) {
      return fail(
        ErrorCode.INVALID_PARTITIONS,
        `partition count must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}, got ${partitions}`,
      );
    }
    const replication =
      request.replicationFactor !== -1
        ? request.replicationFactor
        : (this.defaults.replicationFactor ?? Math.max(1, Math.min(3, this.defaults.liveBrokers())));
    if (replication < 1 || replication > this.defaults.liveBrokers()) {
      return fail(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${replication} is not between 1 and the ${this.defaults.liveBrokers()} live brokers`,
      );
    }
    try {
      resolveTopicConfig(request.configs);
    } catch (error) {
      if (error instanceof InvalidTopicConfigError) return fail(ErrorCode.INVALID_CONFIG, error.message);
      throw error;
    }
    if (request.validateOnly) {
      if (this.metadata.topic(request.name))
        return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${request.name} exists`);
      return ok();
    }
    try {
      const topic = await this.store.create({
        name: request.name,
        partitionCount: partitions,
        replicationFactor: replication,
        config: request.configs,
      });
      this.metadata.put(topic);
      await this.defaults.announce();
      await this.waitForLeaders(topic);
      return ok(topic);
    } catch (error) {
      if (error instanceof TopicExistsError) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, error.message);
      throw error;
    }
  }

  async delete(name: string): Promise<TopicOutcome> {
    try {
      const topic = await this.store.delete(name);
      // Every replica's broker deletes its local log when it sees the topic gone from metadata.
      this.metadata.remove(name);
      await this.defaults.announce();
      return ok(topic);
    } catch (error) {
      if (error instanceof UnknownTopicError)
        return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error.message);
      throw error;
    }
  }

  /** Grows a topic to `count` partitions; partitions can never be removed. */
  async addPartitions(name: string, count: number, validateOnly: boolean): Promise<TopicOutcome> {
    if (count > MAX_PARTITIONS_PER_TOPIC) {
      return fail(
        ErrorCode.INVALID_PARTITIONS,
        `a topic can have at most ${MAX_PARTITIONS_PER_TOPIC} partitions`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.get(name);
      if (!current) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      if (count <= current.partitionCount) {
        return fail(
          ErrorCode.INVALID_PARTITIONS,
          `topic ${name} has ${current.partitionCount} partitions; ${count} would not add any`,
        );
      }
      if (validateOnly) return ok();
      try {
        const topic = await this.store.update(name, current.version, {
          partitionCount: count,
          config: current.config,
        });
        this.metadata.put(topic);
        await this.defaults.announce();
        await this.waitForLeaders(topic);
        return ok(topic);
      } catch (error) {
        // Another admin changed the topic between our read and our write: read again and re-check.
        if (error instanceof TopicVersionConflictError && attempt < MAX_UPDATE_ATTEMPTS) continue;
        if (error instanceof TopicVersionConflictError)
          return fail(ErrorCode.INVALID_PARTITIONS, error.message);
        throw error;
      }
    }
  }

  /**
   * Alters a topic's config overrides: reads the topic, applies `alteration`, validates the result
   * and writes it conditionally on the version it read, re-reading and re-applying when another
   * writer got there first, so concurrent alterations of different keys all survive. The change is
   * announced (metadata version bump), so every broker's metadata cache, and with it the produce
   * path, ISR checks and the controller's elections, picks up the new values within a poll.
   */
  async alterConfig(
    name: string,
    alteration: ConfigAlteration,
    validateOnly: boolean,
  ): Promise<TopicOutcome> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.get(name);
      if (!current) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      let next: Record<string, string>;
      try {
        next =
          alteration.kind === 'replace'
            ? { ...alteration.configs }
            : applyConfigChanges(current.config, alteration.changes);
        resolveTopicConfig(next);
      } catch (error) {
        if (error instanceof InvalidTopicConfigError) return fail(ErrorCode.INVALID_CONFIG, error.message);
        throw error;
      }
      if (validateOnly || sameConfig(next, current.config)) return ok(current);
      try {
        const topic = await this.store.updateConfig(name, current.version, next);
        // Concurrent alterations finish in any order: never replace a newer cached record.
        const cached = this.metadata.topic(name);
        if (cached?.topicId !== topic.topicId || cached.version < topic.version) this.metadata.put(topic);
        await this.defaults.announce();
        return ok(topic);
      } catch (error) {
        if (!(error instanceof TopicVersionConflictError)) throw error;
        // Re-read: another admin changed (or deleted) the topic between our read and our write.
        if (attempt >= MAX_CONFIG_ATTEMPTS) {
          return fail(ErrorCode.REQUEST_TIMED_OUT, `${error.message}; gave up after ${attempt} attempts`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }
}

/**
 * Applies IncrementalAlterConfigs operations to a topic's overrides, as Kafka does: SET and DELETE
 * replace or remove the key; APPEND and SUBTRACT treat a list config's current value (its default
 * when not set) as a comma-separated list, add the items not yet in it or remove the ones given.
 * Unknown keys fail (a typo never silently does nothing), even when deleted.
 */
export function applyConfigChanges(
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
): Record<string, string> {
  const next = { ...current };
  const known = TOPIC_CONFIG_KEYS as readonly string[];
  const issues: string[] = [];
  for (const change of changes) {
    if (!known.includes(change.name)) {
      issues.push(`unknown config ${change.name}`);
      continue;
    }
    switch (change.op) {
      case 'set':
        next[change.name] = change.value;
        break;
      case 'delete':
        delete next[change.name];
        break;
      case 'append':
      case 'subtract': {
        if (!LIST_TOPIC_CONFIGS.has(change.name)) {
          issues.push(
            `${change.op.toUpperCase()} needs a list-typed config (${[...LIST_TOPIC_CONFIGS].join(', ')}); ${change.name} is not one, use SET`,
          );
          break;
        }
        const items = (value: string) =>
          value
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '');
        const base = items(next[change.name] ?? String(DEFAULTS[change.name as keyof TopicConfig]));
        const given = items(change.value);
        const result =
          change.op === 'append'
            ? [...base, ...given.filter((item) => !base.includes(item))]
            : base.filter((item) => !given.includes(item));
        // Sorted: list values have one canonical spelling (cleanup.policy=compact,delete).
        next[change.name] = [...new Set(result)].sort().join(',');
        break;
      }
    }
  }
  if (issues.length > 0) throw new InvalidTopicConfigError(issues);
  return next;
}

function sameConfig(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}

function ok(topic?: TopicRecord): TopicOutcome {
  return topic
    ? { errorCode: ErrorCode.NONE, errorMessage: null, topic }
    : { errorCode: ErrorCode.NONE, errorMessage: null };
}

function fail(errorCode: number, errorMessage: string): TopicOutcome {
  return { errorCode, errorMessage };
}
