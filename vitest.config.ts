import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Storage tests fsync and the crash harness spawns processes; two cores is all we have.
    pool: 'forks',
    maxWorkers: 2,
  },
});
