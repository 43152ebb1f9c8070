import { describe, expect, it } from 'vitest';
import { formatReplayProgress } from '../../../cli/commands/dlq.js';

describe('spool dlq replay progress line', () => {
  it('shows the share of records read, with replayed and skipped counts', () => {
    expect(formatReplayProgress({ read: 30, replayed: 29, skipped: 1 }, 80, 8)).toBe(
      '[###.....]  37.5%  30/80 records  29 replayed  1 skipped',
    );
    expect(formatReplayProgress({ read: 80, replayed: 80, skipped: 0 }, 80, 8)).toBe(
      '[########] 100.0%  80/80 records  80 replayed  0 skipped',
    );
  });

  it('is full for an empty range, and never overflows', () => {
    expect(formatReplayProgress({ read: 0, replayed: 0, skipped: 0 }, 0, 4)).toMatch(/^\[####\] 100\.0%/);
    expect(formatReplayProgress({ read: 5, replayed: 5, skipped: 0 }, 4, 4)).toMatch(/^\[####\] 100\.0%/);
  });
});
