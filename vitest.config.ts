import { defineConfig } from 'vitest/config';

// Both native addons (raw-socket, cap) segfault inside worker threads, so tests run in forked
// processes. Wire tests share loopback and firewall state, so files run one at a time.
export default defineConfig({
  test: {
    pool: 'forks',
    fileParallelism: false,
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
