import { defineConfig } from 'vitest/config';

// Unit tests live beside the code; integration tests (real sockets, namespace labs)
// live in each part's test/ folder. Forks, not threads: the addon and the namespace
// helpers want a real process each. One file at a time: every raw ICMP socket on the
// machine sees every ICMP packet, so one file's flood would overflow another's
// receive buffers and make its replies vanish.
export default defineConfig({
  test: {
    include: ['{native,packets,common,main,preload,renderer}/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
