import { defineConfig } from 'vitest/config';

// Both native addons (raw-socket, cap) segfault inside worker threads, so tests run in forked
// processes.
//
// Two groups, one after the other. "offline" files touch no network, firewall or namespace
// (bytes, files, oracles run on files, the CLI's usage errors), so they run side by side.
// "wire" files share loopback, the nft tables and the namespaces, so they run one at a time.
// A new file is a wire file until it is listed here: the safe default.
const offline = [
  'analysis-corner',
  'analysis-memory',
  'analysis-streams',
  'build-plan',
  'cli-startup',
  'cli-usage',
  'dissect-fuzz',
  'display-misses',
  'dns-vlan-display',
  'edges',
  'filter',
  'fuzz',
  'layers-ipv6',
  'layers-l2-udp-icmp',
  'lazy-dissect',
  'match',
  'pcap-write',
  'protos-misses',
  'protos-more',
  'protos-scapy',
  'readme-analysis',
  'roundtrip',
  'scapy-oracle',
  'script-connections',
  'script-local-parse',
  'fastopen-cookie',
  'script-parse',
  'script-syntax',
  'show',
  'tcp-engine-parts',
  'tcp-tcb',
  'text-form',
  'text-form-hostile',
  'view-fields',
  'typed-accessors',
].map((name) => `test/${name}.test.ts`);

const shared = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000, globalSetup: ['test/helpers/global-build.ts'] };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'offline',
          include: offline,
          fileParallelism: true,
          // Both cores (vitest's default leaves one idle), and one module graph per worker rather
          // than per file: these files share no state beyond what each sets up itself.
          maxWorkers: 2,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'wire',
          include: ['test/**/*.test.ts'],
          exclude: offline,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
