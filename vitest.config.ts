import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // 2-core box: tests that start workers, venues and spinning consumers must not fight each other.
    fileParallelism: false,
  },
});
