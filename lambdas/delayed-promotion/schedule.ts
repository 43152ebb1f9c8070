/** How the delayed-promotion Lambda runs, shared by the stack and `spool dev`'s local schedule. */
export const PROMOTION_SCHEDULE = {
  /** EventBridge's shortest rate. */
  rateMinutes: 1,
  timeoutMs: 60_000,
} as const;
