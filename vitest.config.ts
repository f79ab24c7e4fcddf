import { defineConfig } from 'vitest/config';

// Unit tests live beside the code; integration tests (real sockets, namespace labs)
// live in each part's test/ folder. Forks, not threads: the addon and the namespace
// helpers want a real process each.
export default defineConfig({
  test: {
    include: ['{native,packets,common,main,preload,renderer}/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
