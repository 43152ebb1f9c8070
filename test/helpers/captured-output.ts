import { afterEach, beforeEach, type MockInstance, vi } from 'vitest';

/**
 * Captures what the test writes to stdout and stderr, one entry per line, for each test of the
 * calling file. Powertools' logger and its EMF metrics write straight to the process's streams.
 */
export function captureProcessOutput(): { readonly lines: string[] } {
  const captured = { lines: [] as string[] };
  let spies: MockInstance[] = [];
  beforeEach(() => {
    captured.lines = [];
    const capture = (chunk: unknown) => {
      captured.lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });
  return captured;
}
