import { z } from 'zod';
import { LogConfigError } from './errors.js';

/**
 * How the log makes appended bytes durable:
 * - `every-batch`: fsync before an append resolves (slowest, survives power loss).
 * - `interval`: fsync every `intervalMs`; a crash loses at most that window of unreplicated data.
 * - `os`: leave it to the OS page cache, as Kafka does by default; durability comes from replication.
 */
const flushPolicySchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('every-batch') }),
  z.object({ mode: z.literal('interval'), intervalMs: z.number().int().positive() }),
  z.object({ mode: z.literal('os') }),
]);
export type FlushPolicy = z.infer<typeof flushPolicySchema>;

export const logConfigSchema = z.object({
  /** Roll the active segment once it would exceed this many bytes (Kafka's segment.bytes). */
  segmentBytes: z
    .number()
    .int()
    .min(1024)
    .max(2 ** 31 - 1)
    .default(1024 ** 3),
  /** Roll the active segment once its first batch is this old (Kafka's segment.ms). */
  segmentMs: z
    .number()
    .int()
    .positive()
    .default(7 * 24 * 3600 * 1000),
  /** Bytes between sparse index entries (Kafka's index.interval.bytes). */
  indexIntervalBytes: z.number().int().positive().default(4096),
  flush: flushPolicySchema.default({ mode: 'os' }),
  /**
   * CRC-check bytes loaded from disk once, before they are first served, so corruption is
   * reported rather than served. Bytes this process appended were checked on the way in.
   */
  verifyChecksumsOnRead: z.boolean().default(true),
});

export type LogConfig = z.infer<typeof logConfigSchema>;
export type LogConfigInput = z.input<typeof logConfigSchema>;

export function parseLogConfig(input: LogConfigInput = {}): LogConfig {
  const result = logConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new LogConfigError(`invalid log configuration: ${issues.join('; ')}`, issues);
  }
  return result.data;
}
