import { describe, expect, it } from 'vitest';
import { parseTime } from '../../../cli/commands/replay.js';
import { formatDuration, formatProgress } from '../../../cli/progress-bar.js';

describe('replay CLI helpers', () => {
  it('draws bytes done against the total, records, rate and the time left', () => {
    const line = formatProgress(
      { bytesDone: 25 * 1024 * 1024, totalBytes: 100 * 1024 * 1024, records: 1234, elapsedMs: 5000 },
      20,
    );
    expect(line).toBe('[#####...............]  25.0%  25.0/100.0 MiB  1234 records  5.0 MiB/s ETA 15s');
    expect(formatProgress({ bytesDone: 0, totalBytes: 0, records: 0, elapsedMs: 0 }, 4)).toBe(
      '[....]   0.0%  0.0/0.0 MiB  0 records  0.0 MiB/s',
    );
  });

  it('formats durations', () => {
    expect([formatDuration(4.2), formatDuration(125), formatDuration(7322)]).toEqual([
      '5s',
      '2m05s',
      '2h02m',
    ]);
  });

  it('parses times as milliseconds or ISO date-times', () => {
    expect(parseTime('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTime('2026-12-01T00:00:00Z')).toBe(Date.UTC(2026, 11, 1));
    expect(() => parseTime('yesterday')).toThrow(/not a time/);
  });
});
