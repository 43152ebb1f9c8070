import { z } from 'zod';

/**
 * Topic-level configuration, stored as Kafka's string key/value pairs and validated here. Keys
 * not listed are rejected (INVALID_CONFIG) so that a typo never silently does nothing.
 */
// Strings of digits only: z.coerce alone would read '' (and ' ') as 0.
const integer = (min: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min));

export const TOPIC_CONFIG_SCHEMA = z.object({
  'retention.ms': integer(-1).default(14 * 24 * 3600 * 1000),
  'retention.bytes': integer(-1).default(-1),
  'local.retention.ms': integer(-2).default(-2),
  'local.retention.bytes': integer(-2).default(-2),
  'min.insync.replicas': integer(1).default(1),
  'max.message.bytes': integer(0).default(1024 * 1024 + 12),
  'cleanup.policy': z.enum(['delete', 'compact', 'compact,delete']).default('delete'),
  'message.timestamp.type': z.enum(['CreateTime', 'LogAppendTime']).default('CreateTime'),
  'segment.bytes': integer(14).default(1024 ** 3),
  'segment.ms': integer(1).default(7 * 24 * 3600 * 1000),
  'unclean.leader.election.enable': z.enum(['true', 'false']).default('false'),
});

export type TopicConfig = z.infer<typeof TOPIC_CONFIG_SCHEMA>;
export const TOPIC_CONFIG_KEYS = Object.keys(TOPIC_CONFIG_SCHEMA.shape) as (keyof TopicConfig)[];

export class InvalidTopicConfigError extends Error {
  override name = 'InvalidTopicConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid topic config: ${issues.join('; ')}`);
  }
}

/**
 * Validated effective configs, per overrides object. Topic records are replaced, never mutated, so
 * a record's config object identifies its effective config; this keeps zod off the produce path.
 */
const resolved = new WeakMap<Record<string, string>, Readonly<TopicConfig>>();

/** Validates explicit overrides and returns the effective config (defaults filled in). */
export function resolveTopicConfig(overrides: Record<string, string>): Readonly<TopicConfig> {
  const cached = resolved.get(overrides);
  if (cached) return cached;
  const unknown = Object.keys(overrides).filter((key) => !(TOPIC_CONFIG_KEYS as string[]).includes(key));
  if (unknown.length > 0) throw new InvalidTopicConfigError(unknown.map((key) => `unknown config ${key}`));
  const result = TOPIC_CONFIG_SCHEMA.safeParse(overrides);
  if (!result.success) {
    throw new InvalidTopicConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const config = Object.freeze(result.data);
  resolved.set(overrides, config);
  return config;
}
