import { z } from 'zod';

/**
 * Tiered storage settings of a broker. Topic configs local.retention.ms / local.retention.bytes
 * override the local retention per topic; -2 there (the default) means "the broker's value here".
 */
export const tieringConfigSchema = z.object({
  /** Archive tiering on or off. Off: nothing is uploaded and local retention is not applied. */
  enabled: z.boolean().default(true),
  /** The archive bucket. */
  bucket: z.string().min(3).default('spool-archive'),
  /** How often each local partition is checked for segments to upload or delete. */
  intervalMs: z.number().int().positive().default(5_000),
  /** Archived segments stay on local disk this long (by their newest record); -1 keeps them. */
  localRetentionMs: z
    .number()
    .int()
    .min(-1)
    .default(3 * 3600 * 1000),
  /** ...and while the local log is no larger than this; -1: no size bound. */
  localRetentionBytes: z.number().int().min(-1).default(-1),
  /** An upload not committed within this long is abandoned and its objects are orphans. */
  uploadTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10 * 60 * 1000),
  /** Concurrent S3 reads serving consumers below the local log start. */
  remoteReadConcurrency: z.number().int().positive().default(4),
  /** Disk space for cached remote index files. */
  indexCacheBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
});

export type TieringConfig = z.infer<typeof tieringConfigSchema>;
