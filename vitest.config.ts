import { defineConfig } from 'vitest/config';

// Browser end-to-end specs (*.spec.ts) run under playwright-core via tests/e2e/run.ts, not here.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'client/dist/**', 'data/**', 'out/**'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
