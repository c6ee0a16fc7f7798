/**
 * Injection (issue 20 item 1): strings carrying nft separators (';', '}'), newlines, and shell
 * syntax ($(...), backticks) against every API and CLI entry that ends in an nft, iptables or
 * ip command: the guard, connect({src, dst}), listen({address, peer}), the lab's names and
 * hosts, and the CLI commands that take an address or a name. Each must answer with one clear
 * SynackError (the CLI: one line, exit 2), and nothing foreign may appear: no nft table, no
 * iptables rule, no namespace, no file. Root-only (the entries refuse earlier without root).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SynackError, connect, hostAddress, installGuard, labDown, labExec, labRun, labServe, labStatus, labUp, listen } from '../src/index.js';
import { flushGuards } from '../src/tcp/guard.js';
import { ensureBuilt, isRoot, synack } from './helpers/cli.js';

if (!isRoot) console.log('injection.test: skipped: the entries that reach nft, iptables and ip need root');

/** The marker every payload tries to create; its presence anywhere is the failure. */
const MARK = `pwn${process.pid}`;
const FILE = `/tmp/synack-${MARK}`;

const payloads: string[] = [
  `127.0.0.1 . 1 . 127.0.0.1 . 1 } ; add table inet ${MARK} ; add element inet synack_${process.pid} tuples4 { 127.0.0.1`,
  `127.0.0.1\nadd table inet ${MARK}`,
  `127.0.0.1; add table inet ${MARK}`,
  `::1 } ; add table inet ${MARK} ; {`,
  `$(touch ${FILE})`,
  `\`touch ${FILE}\``,
  `127.0.0.1 -j ACCEPT -m comment --comment ${MARK}`,
  `fe80::1%lo; add table inet ${MARK}`,
  `x\nnetns add ${MARK}`,
  `lab;ip netns add ${MARK}`,
];

function system(): string {
  const nft = execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
  const ipt = execFileSync('iptables-save', [], { encoding: 'utf8' }) + execFileSync('ip6tables-save', [], { encoding: 'utf8' });
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return `${nft}\n${ipt}\n${ns}`;
}

function assertClean(): void {
  expect(system()).not.toContain(MARK);
  expect(existsSync(FILE)).toBe(false);
}

async function refused(what: string, run: () => unknown): Promise<SynackError> {
  let error: unknown;
  try {
    await run();
  } catch (err) {
    error = err;
  }
  expect(error, `${what} was accepted`).toBeInstanceOf(SynackError);
  const e = error as SynackError;
  expect(e.kind, `${what}: ${e.message}`).toBe('usage');
  expect(e.message, what).not.toContain('\n');
  assertClean();
  return e;
}

describe.skipIf(!isRoot)('injection through the API', () => {
  beforeAll(() => assertClean());
  afterAll(async () => {
    await flushGuards();
    assertClean();
  });

  it.each(payloads)('installGuard refuses %j in every field', async (bad) => {
    await refused('guard src', () => installGuard({ src: bad, sport: 40200 }));
    await refused('guard dst', () => installGuard({ src: '127.0.0.1', sport: 40200, dst: bad, dport: 9 }));
    await refused('guard sport', () => installGuard({ src: '127.0.0.1', sport: bad as unknown as number }));
    await refused('guard dport', () => installGuard({ src: '127.0.0.1', sport: 40200, dst: '127.0.0.1', dport: bad as unknown as number }));
    await refused('guard backend', () => installGuard({ src: '127.0.0.1', sport: 40200 }, { backend: bad as 'nftables' }));
  });

  it.each(payloads)('connect and listen refuse %j', async (bad) => {
    const e = await refused('connect src', () => connect({ dst: '127.0.0.1', dport: 9, src: bad, timeout: 200 }));
    expect(e.message).toMatch(/^bad src/);
    await refused('connect dst', () => connect({ dst: bad, dport: 9, timeout: 200 }));
    await refused('connect dport', () => connect({ dst: '127.0.0.1', dport: bad as unknown as number, timeout: 200 }));
    await refused('listen address', () => listen({ port: 40201, address: bad, timeout: 200 }));
    await refused('listen peer', () => listen({ port: 40201, peer: bad, timeout: 200 }));
  });

  it.each(payloads)('the lab refuses %j as a lab or host name', async (bad) => {
    await refused('lab up name', () => labUp({ name: bad }));
    await refused('lab up hosts', () => labUp({ name: 'inj', hosts: ['client', bad] }));
    await refused('lab status', () => labStatus({ name: bad }));
    await refused('lab down', () => labDown({ name: bad }));
    await refused('lab exec host', () => labExec(bad, ['true']));
    await refused('lab exec lab', () => labExec('client', ['true'], { lab: bad }));
    await refused('lab serve host', () => labServe('echo', { host: bad, port: 7 }));
    await refused('lab run host', () => labRun(bad, 'handshake'));
    await refused('host address', () => hostAddress(bad));
  });

  it('a valid guard still works after all that (the checks refuse only what is bad)', async () => {
    const g = await installGuard({ src: '127.000.0.1', sport: 40202, dst: '127.0.0.1', dport: 9 });
    expect(g.tuple).toMatchObject({ src: '127.0.0.1', sport: 40202, dst: '127.0.0.1', dport: 9 });
    await g.remove();
    const v6 = await installGuard({ src: '0:0:0:0:0:0:0:1', sport: 40203 });
    expect(v6.tuple).toMatchObject({ src: '::1', sport: 40203 });
    await v6.remove();
  });
});

describe.skipIf(!isRoot)('injection through the CLI', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  const entries = (bad: string): string[][] => [
    ['handshake', `${bad}:9`],
    ['handshake', `127.0.0.1:${bad}`],
    ['probe', bad, '-S', '-p', '9'],
    ['scan', bad, '-p', '9'],
    ['scan', '127.0.0.1', '-p', bad],
    ['ping', bad, '-c', '1'],
    ['send', `IP(dst='${bad}')/TCP(dport=9)`],
    ['sr1', `IP(dst='${bad}')/TCP(dport=9)`, '--timeout', '0.2'],
    ['lab', 'up', '--name', bad],
    ['lab', 'up', '--name', 'inj', '--hosts', `client,${bad}`],
    ['lab', 'exec', bad, '--', 'true'],
    ['lab', 'serve', 'echo', '--host', bad, '--port', '7'],
    ['lab', 'down', '--name', bad],
  ];

  // One payload with all of it (nft syntax, a newline, shell syntax) keeps the CLI runs few: each is a process.
  const all = `127.0.0.1 . 1 } ; add table inet ${MARK} ;\nadd table inet ${MARK} $(touch ${FILE}) \`touch ${FILE}\``;
  it.each([all])('every command that reaches nft, iptables or ip refuses %j in one line, exit 2', async (bad) => {
    const runs = await Promise.all(entries(bad).map(async (argv) => ({ argv, r: await synack(argv, { timeoutMs: 20_000 }) })));
    for (const { argv, r } of runs) {
      const what = `synack ${argv.join(' ')}`;
      expect(r.code, `${what}\n${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), `${what}\n${r.stderr}`).toHaveLength(1);
      expect(r.stderr, what).not.toMatch(/\n\s+at /);
    }
    assertClean();
  }, 120_000);
});
