import { defineConfig } from 'vitest/config';

// Tests spawn brokers, ffmpeg and child processes; forks keep native addons and signals isolated.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: more workers only add contention between native-heavy tests.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
