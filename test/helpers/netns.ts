/**
 * Two network namespaces joined by a veth pair, for wire tests that need a real second host:
 *   A (veth end a): 198.51.100.1/24, 2001:db8::1/64
 *   B (veth end b): 198.51.100.2/24, 2001:db8::2/64
 * Names carry the pid so parallel runs never collide. remove() deletes both namespaces (the
 * veth pair goes with them); call it from afterAll, it is safe when creation failed halfway.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface NetnsPair {
  a: string;
  b: string;
  addrA: { v4: string; v6: string };
  addrB: { v4: string; v6: string };
  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, argv: string[], input?: string): string;
  /** Starts a long-running command inside a namespace. */
  spawn(ns: string, argv: string[]): ChildProcess;
  remove(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function createNetnsPair(tag = 'wire'): NetnsPair {
  const a = `synack-${tag}-a-${process.pid}`;
  const b = `synack-${tag}-b-${process.pid}`;
  const children: ChildProcess[] = [];
  const pair: NetnsPair = {
    a,
    b,
    addrA: { v4: '198.51.100.1', v6: '2001:db8::1' },
    addrB: { v4: '198.51.100.2', v6: '2001:db8::2' },
    exec: (ns, argv, input) =>
      execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] }),
    spawn: (ns, argv) => {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    remove: () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
      for (const ns of [a, b]) {
        try {
          ip(['netns', 'del', ns]);
        } catch {
          // Not created (or already gone).
        }
      }
    },
  };
  try {
    ip(['netns', 'add', a]);
    ip(['netns', 'add', b]);
    // No duplicate address detection (link-local addresses stay tentative for a second
    // otherwise, and neighbour discovery waits for them).
    for (const ns of [a, b]) {
      for (const scope of ['all', 'default']) {
        execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${scope}.accept_dad=0`], { stdio: 'ignore' });
      }
    }
    ip(['link', 'add', 'veth-sa', 'netns', a, 'type', 'veth', 'peer', 'name', 'veth-sb', 'netns', b]);
    for (const [ns, dev, addr] of [
      [a, 'veth-sa', pair.addrA],
      [b, 'veth-sb', pair.addrB],
    ] as const) {
      const x = (args: string[]): void => ip(['-n', ns, ...args]);
      x(['link', 'set', 'lo', 'up']);
      // No duplicate address detection: the v6 address is usable at once.
      x(['-6', 'addr', 'add', `${addr.v6}/64`, 'dev', dev, 'nodad']);
      x(['addr', 'add', `${addr.v4}/24`, 'dev', dev]);
      x(['link', 'set', dev, 'up']);
    }
    // Permanent neighbour entries: the first IPv6 neighbour solicitation in a fresh namespace
    // goes unanswered for a second (measured), which would blur every timing in the tests.
    const mac = (ns: string, dev: string): string =>
      (JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' })) as Array<{ address: string }>)[0]!
        .address;
    const macA = mac(a, 'veth-sa');
    const macB = mac(b, 'veth-sb');
    for (const family of ['v4', 'v6'] as const) {
      ip(['-n', a, 'neigh', 'replace', pair.addrB[family], 'lladdr', macB, 'dev', 'veth-sa', 'nud', 'permanent']);
      ip(['-n', b, 'neigh', 'replace', pair.addrA[family], 'lladdr', macA, 'dev', 'veth-sb', 'nud', 'permanent']);
    }
  } catch (err) {
    pair.remove();
    throw err;
  }
  return pair;
}
