/**
 * How the retention Lambda runs, shared by the stack (cdk/lib/retention-function.ts) and by
 * `spool dev`'s local schedule, so both invoke the handler the same way.
 */
export const RETENTION_SCHEDULE = {
  /** EventBridge rate in AWS. spool dev defaults to every minute (DevCluster retentionIntervalMs). */
  rateMinutes: 5,
  /** The function's timeout; the handler stops starting partitions 20 s before it. */
  timeoutMs: 5 * 60_000,
} as const;
