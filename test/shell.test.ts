/**
 * `synack shell` as a user meets it: packets shown as Scapy's short repr (Scapy 2.5 is the
 * oracle), show()/hexdump()/ls() printed rather than returned as quoted strings, ls(TCP) with
 * Scapy's fields and defaults, tab completion listing candidates (the completer itself, and once
 * through a real pseudo-terminal with `script`), Ctrl-C stopping a 30 s sr1, and .exit with an open
 * conversation leaving no guard table behind. Piped input drives most of it, a pty the rest.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import repl from 'node:repl';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP, TCP, ls } from '../src/index.js';
import { BIN, ensureBuilt, isRoot, synack } from './helpers/cli.js';

const PYTHON = '/usr/bin/python3';
const haveScapy = spawnSync(PYTHON, ['-c', 'import scapy'], { stdio: 'ignore' }).status === 0;
if (!haveScapy && process.env.CI === 'true') throw new Error('Scapy 2.5 (/usr/bin/python3, python3-scapy) is missing: CI must install it');
const haveScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
if (!haveScript && process.env.CI === 'true') throw new Error('script(1) from util-linux is missing');

beforeAll(() => ensureBuilt());

/** What Scapy prints for each expression, run in one Python process. */
function scapy(code: string): string[] {
  const r = spawnSync(PYTHON, ['-c', `import logging\nlogging.getLogger('scapy').setLevel(logging.ERROR)\nfrom scapy.all import *\n${code}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** The same packets in both spellings: JavaScript for the shell, Python for Scapy. */
const PACKETS: [js: string, py: string][] = [
  ["IP({dst: '127.0.0.1'}).add(TCP({dport: 80, flags: 'S'}))", "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')"],
  ['IP()', 'IP()'],
  ["IP().add(TCP()).add('hi')", "IP()/TCP()/'hi'"],
  ["Ether().add(IP({dst: '127.0.0.1', ttl: 3})).add(UDP({dport: 53})).add(Buffer.from([0, 1, 97, 98, 99]))", "Ether()/IP(dst='127.0.0.1',ttl=3)/UDP(dport=53)/Raw(b'\\x00\\x01abc')"],
  ["IP({dst: '127.0.0.1'}).add(TCP({dport: 22, sport: 1234, flags: 'SA', seq: 5, options: [['MSS', 1460]]}))", "IP(dst='127.0.0.1')/TCP(dport=22,sport=1234,flags='SA',seq=5,options=[('MSS',1460)])"],
  ["IPv6({dst: '::1'}).add(ICMPv6EchoRequest({id: 7}))", "IPv6(dst='::1')/ICMPv6EchoRequest(id=7)"],
  ["dissect(IP({dst: '127.0.0.1'}).add(TCP({dport: 80, flags: 'S'})).bytes(), 'ip')", "IP(bytes(IP(dst='127.0.0.1')/TCP(dport=80,flags='S')))"],
];

describe('shell: what a line shows', () => {
  it.skipIf(!haveScapy)("a packet's inspect form is Scapy's repr, only the fields that were set", async () => {
    const r = await synack(['shell'], { input: PACKETS.map(([js]) => js).join('\n') + '\n' });
    expect(r.code, r.stderr).toBe(0);
    // Scapy also shows the type fields a layer above sets (proto=tcp, frag=0): those are computed
    // in synack, not set, so they are cleared on Scapy's side before comparing.
    const expected = scapy(
      PACKETS.map(([, py]) => `p = ${py}\nfor l in p.iterpayloads(): l.overloaded_fields = {}\nprint(repr(p))`).join('\n'),
    );
    expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual(expected);
  });

  it('a layer alone shows as its repr, and inside arrays too', async () => {
    const r = await synack(['shell'], { input: "p = IP({dst: '127.0.0.1'}).add(TCP({dport: 80}))\np.getLayer(TCP)\n[p.layers[0]]\n" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('<IP  dst=127.0.0.1 |<TCP  dport=http |>>\n<TCP  dport=http |>\n[ <IP  dst=127.0.0.1 |> ]\n');
  });

  it('show(), hexdump() and ls() print their text; other strings stay quoted', async () => {
    const p = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 80 }));
    const r = await synack(['shell'], { input: "p = IP({dst: '127.0.0.1'}).add(TCP({dport: 80}))\np.show()\np.hexdump()\nls(TCP)\np.summary()\n" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`<IP  dst=127.0.0.1 |<TCP  dport=http |>>\n${p.show()}\n${p.hexdump()}\n${ls(TCP)}\n'${p.summary()}'\n`);
    expect(r.stdout).not.toContain('\\n');
  });

  it('a user mistake reads as one line, without a stack', async () => {
    const r = await synack(['shell'], { input: 'TCP({dprot: 80})\n' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Uncaught:?\s+SynackError: unknown field 'dprot' for TCP \(did you mean 'dport'\?\)/);
    expect(r.stdout).not.toMatch(/\n\s+at /);
  });
});

describe('ls()', () => {
  /** Scapy's ls(): name, then the default in parentheses, one field a line. */
  function scapyLs(layer: string): [string, string][] {
    return scapy(`ls(${layer})`).map((l) => {
      const m = /^(\S+)\s+: .* = \((.*)\)$/.exec(l)!;
      return [m[1]!, m[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1')];
    });
  }
  /** Scapy's spellings of some defaults, in synack's. */
  const SPELLING: Record<string, string> = { '<Flag 2 (S)>': 'S', '<Flag 0 ()>': '0', "b''": "b''" };

  for (const layer of ['TCP', 'UDP', 'IPv6', 'ARP']) {
    it.skipIf(!haveScapy)(`ls(${layer}) lists Scapy's fields, in order, with Scapy's defaults`, async () => {
      const ours = ls(layer).split('\n').map((l) => {
        const m = /^(\S+)\s+: .* = (.*)$/.exec(l)!;
        return [m[1]!, m[2]!] as [string, string];
      });
      const theirs = scapyLs(layer);
      expect(ours.map(([name]) => name)).toEqual(theirs.map(([name]) => name));
      for (const [i, [name, def]] of theirs.entries()) {
        const mine = ours[i]![1];
        // Scapy leaves unset addresses to the route (None); synack's defaults are fixed values.
        if ((name === 'src' || name === 'dst' || name.startsWith('hw') || name === 'psrc' || name === 'pdst') && def === 'None') continue;
        if (name === 'options' && layer === 'TCP') {
          expect(mine).toBe('[]');
          continue;
        }
        expect(`${name} = ${mine}`).toBe(`${name} = ${SPELLING[def] ?? def}`);
      }
    });
  }

  it('ls(packet) shows each value beside its default, and an unknown name suggests one', () => {
    const text = ls(IP({ dst: '127.0.0.1', ttl: 3 }).add(TCP()));
    expect(text).toMatch(/^ttl {8}: int \(8 bits\) +=  ?3 +\(64\)$/m);
    expect(text.split('\n')).toContain('--');
    expect(() => ls('TPC')).toThrow("unknown layer 'TPC' (did you mean 'TCP'?)");
  });
});

describe('shell: tab completion', () => {
  /** The shell's completer over a real REPL's own completer, with the shell's scope. */
  async function completer() {
    const { synackCompleter, ShellSession } = await import('../src/cli/shell.js');
    const api = await import('../src/index.js');
    const server = repl.start({ input: new PassThrough(), output: new PassThrough(), terminal: false, useGlobal: false, prompt: '' });
    Object.assign(server.context, new ShellSession().scope());
    const layers = new Map(Object.entries(api).filter(([, v]) => typeof v === 'function' && (v as { isFactory?: boolean }).isFactory)) as never;
    const complete = synackCompleter(layers, server.completer as never);
    const ask = (line: string) => new Promise<[string[], string]>((resolve) => complete(line, (_e, r) => resolve(r!)));
    return { ask, close: () => server.close() };
  }

  it('lists every candidate for IPv and sr, and the fields inside a layer', async () => {
    const { ask, close } = await completer();
    try {
      const [ipv, sub] = await ask('IPv');
      expect(sub).toBe('IPv');
      expect(ipv).toEqual(expect.arrayContaining(['IPv6', 'IPv6ExtHdrFragment', 'IPv6ExtHdrRouting', 'IPv4Layer']));
      const [sr] = await ask('sr');
      expect(sr).toEqual(expect.arrayContaining(['sr', 'sr1']));
      expect(await ask('TCP({dport: 80, fl')).toEqual([['flags: '], 'fl']);
    } finally {
      close();
    }
  });
});

/** The shell in a pseudo-terminal made by script(1), driven key by key. */
class Pty {
  readonly child: ChildProcess;
  out = '';
  constructor() {
    this.child = spawn('script', ['-qfec', `${process.execPath} ${BIN} shell --no-history`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm', NO_COLOR: '1', TZ: 'UTC' },
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
  }
  /** Writes keys as one chunk, as a terminal delivers a paste or tmux send-keys. */
  send(keys: string): void {
    this.child.stdin!.write(keys);
  }
  /** Resolves when the output (since `from`) matches, else fails after `ms`. */
  async waitFor(re: RegExp, ms = 15_000, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const text = this.out.slice(from).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      if (re.test(text)) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${re} in the shell's output:\n${this.out.slice(from)}`);
  }
  exited(): Promise<number | null> {
    return new Promise((resolve) => (this.child.exitCode !== null ? resolve(this.child.exitCode) : this.child.on('exit', resolve)));
  }
}

describe.skipIf(!haveScript)('shell in a terminal', () => {
  it('IPv⇥⇥ and sr⇥⇥ list the candidates, even when the keys arrive in one chunk', async () => {
    const t = new Pty();
    try {
      await t.waitFor(/synack> /);
      // tmux send-keys 'IPv' Tab Tab writes all three at once; Node's readline alone would take the tabs as pasted text.
      t.send('IPv\t\t');
      await t.waitFor(/IPv6ExtHdrFragment[\s\S]*IPv6ExtHdrRouting/);
      t.send('\x03');
      const mark = t.out.length;
      t.send('sr');
      await new Promise((r) => setTimeout(r, 200));
      t.send('\t');
      await new Promise((r) => setTimeout(r, 200));
      t.send('\t');
      await t.waitFor(/\bsr\s+sr1\b|\bsr1\b[\s\S]*synack> sr/, 15_000, mark);
      t.send('\x03.exit\r');
      expect(await t.exited()).toBe(0);
    } finally {
      t.child.kill('SIGKILL');
    }
  });
});

describe.skipIf(!haveScript || !isRoot)('shell in a terminal, as root', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => {
      s.on('data', () => s.write('200 ok'));
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('Ctrl-C stops a 30 s sr1 and gives the prompt back; .exit with an open conversation leaves no guard table', async () => {
    const t = new Pty();
    try {
      await t.waitFor(/synack> /);
      t.send('process.pid\r');
      const pid = Number(/process\.pid\s+(\d+)/.exec(await t.waitFor(/process\.pid\s+\d+/))![1]);
      // A SYN with a wrong checksum: the kernel drops it, so nothing ever answers.
      let mark = t.out.length;
      t.send("r = await sr1(IP({dst: '127.0.0.1'}).add(TCP({dport: 9, flags: 'S', chksum: 0x1234})), {timeout: 30000})\r");
      await new Promise((r) => setTimeout(r, 1000));
      t.send('\x03');
      await t.waitFor(/interrupted \(Ctrl-C\)\s+synack> /, 10_000, mark);
      mark = t.out.length;
      t.send('6 * 7\r');
      await t.waitFor(/\b42\b/, 5_000, mark);

      t.send(`c = await connect({dst: '127.0.0.1', dport: ${port}})\r`);
      mark = t.out.length;
      t.send('c.state\r');
      await t.waitFor(/'ESTABLISHED'/, 10_000, mark);
      expect(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout).toContain(`synack_${pid}`);
      t.send('.exit\r');
      expect(await t.exited()).toBe(0);
      expect(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout).not.toContain(`synack_${pid}`);
    } finally {
      t.child.kill('SIGKILL');
    }
  });
});

describe.skipIf(!isRoot)('shell with piped input, as root', () => {
  it('SIGINT stops the running sr1, runs no further line, exits 130', async () => {
    const child = spawn(process.execPath, [BIN, 'shell'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end("'started'\nawait sr1(IP({dst: '127.0.0.1'}).add(TCP({dport: 9, flags: 'S', chksum: 0x1234})), {timeout: 30000})\n'not reached'\n");
    const deadline = Date.now() + 10_000;
    while (!stdout.includes('started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 800));
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    expect(code).toBe(130);
    expect(stderr).toContain('synack shell: interrupted');
    expect(stdout).not.toContain('not reached');
  });
});
