/**
 * The README cannot lie: every ```ts block is type-checked with tsc (as a user's project would
 * see `import ... from 'synack'`) and run, all blocks in order as one module (later blocks use
 * what earlier ones defined), and every line starting with `synack ` in a fenced block is run
 * as a command and must exit 0. They run against servers this test starts, with the README's
 * ports mapped to them (the table below), in a directory where the files the examples read
 * (capture.pcap, capture.pcapng) were made first.
 *
 * A block that truly cannot run opts out with ```ts no-run (or ```sh no-run); the test prints
 * what it skipped. A comment that is exactly a quoted value (`x.summary(); // 'IP ...'`) is
 * checked as the value of its expression.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP, TCP, writePcap, writePcapng, type Packet } from '../src/index.js';
import { ROOT, BIN, ensureBuilt, isRoot } from './helpers/cli.js';
import { startServer, type TestServer } from './helpers/script-servers.js';
import { mergeImports } from './helpers/readme-imports.js';

// ---------------------------------------------------------------------------------------------
// What the README holds

export interface ReadmeExample {
  kind: 'ts' | 'command';
  /** 1-based line of the block (ts) or of the command in README.md. */
  line: number;
  code: string;
  skipped: boolean;
}

/** Every ```ts block and every `synack ...` line of a fenced block, in README order. */
export function extractExamples(markdown: string): ReadmeExample[] {
  const out: ReadmeExample[] = [];
  const lines = markdown.split('\n');
  let fence: { lang: string; noRun: boolean; start: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const open = /^```(\S*)(.*)$/.exec(text);
    if (!fence) {
      if (open) fence = { lang: open[1]!, noRun: /\bno-run\b/.test(open[2]!), start: i + 1, body: [] };
      return;
    }
    if (/^```\s*$/.test(text)) {
      if (fence.lang === 'ts' || fence.lang === 'typescript') {
        out.push({ kind: 'ts', line: fence.start, code: fence.body.join('\n'), skipped: fence.noRun });
      } else {
        fence.body.forEach((l, j) => {
          if (/^synack\s/.test(l)) out.push({ kind: 'command', line: fence!.start + 1 + j, code: l, skipped: fence!.noRun });
        });
      }
      fence = undefined;
      return;
    }
    fence.body.push(text);
  });
  if (fence) throw new Error(`README.md: the code block opened at line ${fence.start} is never closed`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The README's ports, mapped to what this test starts

/**
 * README port -> what answers there. 'get-keep' answers 'get' with '200 ok' and closes when the
 * client does; 'get-close' closes at once (what examples/scripts/time-wait.pkt needs);
 * 'client' is a kernel client that keeps dialling, for the README's listen(). Port 22 is left
 * as it is: closed (a RST answers the SYN) or a local sshd (a SYN-ACK), either is an answer.
 */
const PORTS: Record<number, 'get-keep' | 'get-close' | 'client'> = {
  60000: 'get-keep',
  8080: 'get-close',
  7000: 'client',
};

/** Rewrites README ports where they are used as ports: `port: N`, `port N`, `HOST:N`, `-p a,N`. */
export function mapPorts(code: string, map: ReadonlyMap<number, number>): string {
  return code.replace(/(port:\s*|port\s+|:|,)(\d{2,5})\b/g, (all, before: string, n: string) => {
    const to = map.get(Number(n));
    return to === undefined ? all : `${before}${to}`;
  });
}

/** Turns `expr; // 'value'` into a check that expr is that value (only comments that are exactly a quoted string). */
export function checkedComments(code: string): string {
  return code
    .split('\n')
    .map((line) => {
      const m = /^(\s*)(?!const |let |var |await |for )(.+?);\s*\/\/\s*('(?:[^'\\]|\\.)*')\s*$/.exec(line);
      if (!m || m[3]!.includes('...')) return line;
      const logged = /^console\.log\((.*)\)$/.exec(m[2]!);
      return `${m[1]}__readmeCheck(${logged ? logged[1] : m[2]}, ${m[3]});`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// The run

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const examples = extractExamples(README);
const dir = mkdtempSync(join(tmpdir(), 'synack-readme-'));
const servers: TestServer[] = [];
const ports = new Map<number, number>();
let dialler: NodeJS.Timeout | undefined;

/** A capture of one TCP conversation on port 80, for the README's `read capture.pcap 'tcp and port 80'`. */
function conversation(): Packet[] {
  const c = { src: '127.0.0.1', dst: '127.0.0.1' };
  const s = { src: '127.0.0.1', dst: '127.0.0.1' };
  const out = (f: object) => IP(c).add(TCP({ sport: 40000, dport: 80, window: 502, ...f }));
  const back = (f: object) => IP(s).add(TCP({ sport: 80, dport: 40000, window: 509, ...f }));
  const list = [
    out({ flags: 'S', seq: 100, ack: 0, window: 64240 }),
    back({ flags: 'SA', seq: 500, ack: 101, window: 65483 }),
    out({ flags: 'A', seq: 101, ack: 501 }),
    out({ flags: 'PA', seq: 101, ack: 501 }).add('get'),
    back({ flags: 'PA', seq: 501, ack: 104 }).add('200 ok'),
    back({ flags: 'FA', seq: 507, ack: 104 }),
    out({ flags: 'FA', seq: 104, ack: 508 }),
    back({ flags: 'A', seq: 508, ack: 105 }),
  ];
  list.forEach((p, i) => (p.time = 1_700_000_000_000_000 + i * 1000));
  return list;
}

/** Keeps a kernel client dialling `port` (bounded), so that a listen() there gets its SYN. */
function dial(port: number): NodeJS.Timeout {
  let left = 600;
  return setInterval(() => {
    if (left-- <= 0) return;
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.setTimeout(3000, () => s.destroy());
  }, 100);
}

/** Keeps a little traffic going to `port` (bounded), so that a sniff there sees packets. */
function chatter(port: number, ms: number): () => void {
  let left = Math.ceil(ms / 100);
  const timer = setInterval(() => {
    if (left-- <= 0) return clearInterval(timer);
    const s = net.connect(port, '127.0.0.1', () => s.write('get'));
    s.on('error', () => undefined);
    s.on('data', () => s.end());
  }, 100);
  return () => clearInterval(timer);
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: dir, env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  ensureBuilt();
  for (const [readmePort, kind] of Object.entries(PORTS)) {
    if (kind === 'client') {
      // A free port for listen(): bound a moment, then released for synack to take.
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
      ports.set(Number(readmePort), (probe.address() as net.AddressInfo).port);
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      continue;
    }
    const server = await startServer(kind);
    servers.push(server);
    ports.set(Number(readmePort), server.port);
  }
  // The files the examples read, and a way to name the package and the examples from this directory.
  const w = writePcap(join(dir, 'capture.pcap'));
  const ng = writePcapng(join(dir, 'capture.pcapng'));
  for (const p of conversation()) {
    w.write(p);
    ng.write(p);
  }
  w.close();
  ng.close();
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'synack'));
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'synack'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
});

afterAll(async () => {
  if (dialler) clearInterval(dialler);
  // `synack lab up` in the README leaves a lab: take it down as a user would.
  if (examples.some((e) => !e.skipped && /^synack lab up\b/.test(e.code))) await run(join(dir, 'bin', 'synack'), ['lab', 'down'], 60_000);
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('README.md', () => {
  it('has examples to run, and says which it skips', () => {
    expect(examples.filter((e) => e.kind === 'ts').length).toBeGreaterThanOrEqual(5);
    expect(examples.filter((e) => e.kind === 'command').length).toBeGreaterThanOrEqual(10);
    const skipped = examples.filter((e) => e.skipped);
    console.log(skipped.length ? `README examples skipped (no-run):\n${skipped.map((e) => `  line ${e.line}: ${e.code.split('\n')[0]}`).join('\n')}` : 'README examples skipped: none');
  });

  it('the extractor finds ts blocks and synack lines, honours no-run, and maps only ports', () => {
    const md = ['```ts', 'a();', '```', '```', 'synack x 127.0.0.1:8080', 'not a command', '```', '```ts no-run', 'b();', '```'].join('\n');
    expect(extractExamples(md)).toEqual([
      { kind: 'ts', line: 1, code: 'a();', skipped: false },
      { kind: 'command', line: 5, code: 'synack x 127.0.0.1:8080', skipped: false },
      { kind: 'ts', line: 8, code: 'b();', skipped: true },
    ]);
    const map = new Map([[8080, 41000], [60000, 42000]]);
    expect(mapPorts("connect({ dport: 60000, timeout: 8080 }); 'tcp port 8080'; 127.0.0.1:8080; -p 1-1024,8080", map)).toBe(
      "connect({ dport: 42000, timeout: 8080 }); 'tcp port 41000'; 127.0.0.1:41000; -p 1-1024,41000",
    );
    expect(checkedComments("x.summary(); // 'a b'\nconst y = 1; // 'no'\nz(); // 'has [...]'")).toBe("__readmeCheck(x.summary(), 'a b');\nconst y = 1; // 'no'\nz(); // 'has [...]'");
  });

  const blocks = examples.filter((e) => e.kind === 'ts' && !e.skipped);
  // Blocks in order, each behind a marker, so a failure names the README line it came from.
  function moduleText(): string {
    const imports: string[] = [];
    const bodies = blocks.map((b) => {
      const code = checkedComments(mapPorts(b.code, ports))
        .split('\n')
        .filter((l) => (/^import\s/.test(l) ? (imports.push(l), false) : true))
        .join('\n');
      return `__readmeBlock(${b.line});\n${code}`;
    });
    return [
      ...mergeImports(imports),
      'let __line = 0;',
      'function __readmeBlock(line: number): void { __line = line; }',
      'function __readmeCheck(got: unknown, want: string): void {',
      '  if (String(got) !== want) throw new Error(`README block at line ${__line}: got ${JSON.stringify(String(got))}, the README says ${JSON.stringify(want)}`);',
      '}',
      "process.on('uncaughtException', (e) => { console.error(`README block at line ${__line}: ${e.stack ?? e}`); process.exit(1); });",
      "process.on('unhandledRejection', (e) => { console.error(`README block at line ${__line}: ${(e as Error)?.stack ?? e}`); process.exit(1); });",
      ...bodies,
      "console.log('README: every block ran');",
      // What the README leaves open (a sniff, a capture) must not keep a user's script alive; exit as one would at the end.
      'process.exit(0);',
      '',
    ].join('\n');
  }

  it('every ts block type-checks with tsc, as a project importing synack sees it', async () => {
    writeFileSync(join(dir, 'readme.mts'), moduleText());
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck', 'readme.mts'], 120_000);
    // Map tsc's line numbers back to README blocks for the message.
    expect(r.stdout + r.stderr, 'tsc on the README blocks').toBe('');
    expect(r.code).toBe(0);
  });

  it.skipIf(!isRoot)('every ts block runs, against the servers for its ports', async () => {
    writeFileSync(join(dir, 'readme.mts'), moduleText());
    dialler = dial(ports.get(7000)!);
    const stop = chatter(ports.get(8080)!, 20_000);
    try {
      const r = await run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['readme.mts'], 120_000);
      expect(r.stderr + r.stdout, 'the README blocks').toContain('README: every block ran');
      expect(r.code, r.stderr).toBe(0);
    } finally {
      stop();
      clearInterval(dialler);
      dialler = undefined;
    }
  });

  const commands = examples.filter((e) => e.kind === 'command' && !e.skipped);
  for (const c of commands) {
    it.skipIf(!isRoot)(`line ${c.line}: ${c.code.replace(/\s+#.*$/, '')}`, async () => {
      const line = mapPorts(c.code, ports);
      // sniff waits for its packets: keep some coming to the port it watches.
      const sniffed = /^synack sniff\b/.test(line) ? [...ports.values()].find((p) => line.includes(String(p))) : undefined;
      const stop = sniffed ? chatter(sniffed, 20_000) : () => undefined;
      try {
        const r = await run('bash', ['-c', line], 90_000, { PATH: `${join(dir, 'bin')}:${process.env.PATH}` });
        expect(r.code, `README line ${c.line}: ${line}\n${r.stderr}${r.stdout.slice(-2000)}`).toBe(0);
      } finally {
        stop();
      }
    });
  }
});
