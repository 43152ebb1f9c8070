import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Storage tests fsync and the crash harness spawns processes; two cores is all we have.
    pool: 'forks',
    maxWorkers: 2,
    // The AWS SDK's notice that its 2027 releases need Node 22: once per worker, it buries failures.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
