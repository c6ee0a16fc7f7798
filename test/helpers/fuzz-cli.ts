/**
 * The CLI fuzz target: the real `synack` program (bin/synack over dist/) spawned on mutated
 * argv. Each input is a process, so this target runs far fewer inputs than the in-process ones.
 *
 * Safety: only commands that never touch the network run (read, build, help, version, unknown
 * words): a mutation can never turn into a send. As root the child runs as nobody (no raw
 * sockets, no namespaces, no firewall, nowhere to write but world-writable places; when nobody
 * cannot reach the checkout, as root, still offline commands only), in a
 * fixtures directory it cannot write into; file names are relative to it.
 *
 * A defect: a stack trace or "internal error" (exit 70), a usage error (exit 2) that is not
 * exactly one line, or no exit within the hang limit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packet } from '../../src/index.js';
import { BIN } from './cli.js';
import { pcapFile } from './fuzz-targets.js';
import { Rng } from './random-specs.js';

export interface CliFixtures {
  dir: string;
  /** The unprivileged user the children run as (root only), when it can reach the program. */
  uid?: number;
}

export interface CliStats {
  inputs: number;
  /** Exit 2 with one line: a clear refusal. */
  refused: number;
  defects: number;
  hangs: number;
  samples: string[];
  peakRssKb: number;
}

/** A directory with a capture, a damaged capture, an expressions file and a script. */
export function prepareCliFixtures(): CliFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'synack-fuzz-cli-'));
  const packets = [
    packet("IP(src='127.0.0.1',dst='127.0.0.2')/TCP(sport=1234,dport=80,flags='S',options=[('MSS',1460),('NOP',None)])"),
    packet("IP(src='127.0.0.2',dst='127.0.0.1')/TCP(sport=80,dport=1234,flags='SA',ack=1)"),
    packet("IPv6(src='::1',dst='::1')/UDP(sport=53,dport=5353)/b'hello'"),
    packet("IP(src='198.51.100.1',dst='198.51.100.2')/ICMP()"),
  ].map((p) => p.bytes());
  const file = pcapFile(packets, 101, false);
  writeFileSync(join(dir, 'a.pcap'), file);
  writeFileSync(join(dir, 'cut.pcap'), file.subarray(0, file.length - 7));
  writeFileSync(join(dir, 'exprs.txt'), "IP(dst='127.0.0.1')/TCP(dport=80)\nIPv6(dst='::1')/UDP()\n");
  writeFileSync(join(dir, 's.pkt'), "0 > S 0:0(0) win 65535 <mss 1460>\n+0 < S. 0:0(0) ack 1 win 65535\n+0 > . 1:1(0) ack 1 win 65535\n");
  // Readable (not writable) by the unprivileged user the children run as.
  chmodSync(dir, 0o755);
  return { dir, ...(asRoot && nobodyCanRun(dir) ? { uid: NOBODY } : {}) };
}

const NOBODY = 65534;

/** Whether nobody can run the program from here (a checkout under a private home cannot). */
function nobodyCanRun(dir: string): boolean {
  const r = spawnSync(process.execPath, [BIN, '--version'], { cwd: dir, uid: NOBODY, gid: NOBODY, stdio: 'ignore', timeout: 20_000 });
  if (r.status !== 0) console.log('fuzz-cli: nobody cannot run bin/synack from this checkout: the CLI fuzz runs as root (offline commands only)');
  return r.status === 0;
}

const SEEDS: string[][] = [
  ['read', 'a.pcap'],
  ['read', 'a.pcap', 'tcp port 80'],
  ['read', '-v', '-e', '-x', 'a.pcap'],
  ['read', '-vv', '-xx', '-S', 'a.pcap', 'ip6 or icmp'],
  ['read', 'a.pcap', '-c', '2', '--nano'],
  ['read', 'a.pcap', '--ladder', '-q'],
  ['read', 'cut.pcap'],
  ['build', "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')"],
  ['build', '--hex', "IP(dst='127.0.0.1')/UDP(dport=53)/b'hello'"],
  ['build', '--show', '--hexdump', "IPv6(dst='::1')/TCP()"],
  ['build', '--json', '-f', 'exprs.txt'],
  ['build', "IP(dst='127.0.0.1')/TCP(dport=(1,3))"],
  ['--help'],
  ['read', '--help'],
  ['--version'],
];

const PIECES = [
  '-v', '-vv', '-e', '-x', '-xx', '-S', '-n', '-q', '-c', '--count', '0', '-1', '1e9', '99999999999999999999', '4294967296', ' ', '', '-', '--',
  '--nano', '--ladder', '--svg', 'out.svg', '--json', '--hex', '--show', '--hexdump', '--pcap', 'out.pcap', '-f', 'exprs.txt', 'a.pcap',
  'cut.pcap', 's.pkt', '/proc/self/mem', '/dev/null', 'missing.pcap', 'x'.repeat(300), 'missing/dir/x', '--timeout', '--wait', '\n', 'é',
  "IP()/TCP()", "tcp[4294967296] = 1", 'tcp port 80 and', '((((', "IP(dst='127.0.0.0/30')/UDP()", '--no-such-option', 'help', 'read', 'build',
];

const ALLOWED = new Set(['read', 'build', 'help', '--help', '-h', '--version', '-V']);

function mutateArg(rng: Rng, a: string): string {
  const at = rng.int(0, a.length);
  switch (rng.int(0, 3)) {
    case 0:
      return a.slice(0, at) + a.slice(at + rng.int(1, 4));
    case 1:
      return a.slice(0, at) + rng.pick(['(', ')', "'", '[', ']', '*', '\\', '\n', '\0', '%', '9'.repeat(20)]) + a.slice(at);
    case 2:
      return a.slice(0, at) + a.slice(at, at + 4).repeat(rng.pick([2, 50, 2000])) + a.slice(at);
    default:
      return rng.pick(PIECES);
  }
}

/** Mutated argv from the seeds; the first word is always an offline command (or a help/version flag). */
export function* cliInputs(seed: number, _fixtures: CliFixtures): Generator<string[]> {
  const rng = new Rng(seed);
  for (;;) {
    const argv = [...rng.pick(SEEDS)];
    for (let k = rng.int(0, 3); k > 0; k--) {
      const at = rng.int(1, argv.length);
      switch (rng.int(0, 3)) {
        case 0:
          argv.splice(at, 0, rng.pick(PIECES));
          break;
        case 1:
          if (argv.length > 1) argv.splice(at, 1);
          break;
        case 2:
          if (at < argv.length) argv[at] = mutateArg(rng, argv[at]!);
          break;
        default:
          argv.splice(at, 0, rng.pick(PIECES), rng.pick(PIECES));
      }
    }
    // No '\0' can reach execve: the kernel would refuse the argv before synack sees it.
    const clean = argv.map((a) => a.replace(/\0/g, ''));
    if (!ALLOWED.has(clean[0]!)) clean[0] = 'read';
    yield clean;
  }
}

function vmHwmKb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const asRoot = process.getuid?.() === 0;

/** Runs the program on one argv and judges the outcome into `stats`. */
export function runCliInput(argv: string[], stats: CliStats, fixtures: CliFixtures, options: { hangMs?: number } = {}): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd: fixtures.dir,
      env: { PATH: process.env.PATH, TZ: 'UTC', NO_COLOR: '1', HOME: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(fixtures.uid !== undefined ? { uid: fixtures.uid, gid: fixtures.uid } : {}),
    });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdoutBytes += d.length));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 100_000) stderr += d;
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, options.hangMs ?? 10_000);
    const sampler = setInterval(() => (stats.peakRssKb = Math.max(stats.peakRssKb, vmHwmKb(child.pid))), 25);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      stats.inputs++;
      const shown = JSON.stringify(argv).slice(0, 400);
      // tcpdump's "reading from file F, link-type ..." header goes to stderr before any error: not part of it.
      const lines = stderr.trimEnd().split('\n').filter((l) => !/^reading from file .*, link-type /.test(l));
      let defect: string | undefined;
      if (hung) {
        stats.hangs++;
        defect = 'no exit within the hang limit';
      } else if (code === 70 || /internal error|\n\s+at .*:\d+:\d+/.test(stderr)) defect = `stack trace (exit ${code}): ${lines.slice(0, 3).join(' | ')}`;
      else if (code === 2 && (lines.length !== 1 || lines[0] === '')) defect = `usage error in ${lines.length} lines: ${lines.slice(0, 3).join(' | ')}`;
      else if (code === null) defect = `killed by ${signal}`;
      else if (code === 2) stats.refused++;
      if (defect) {
        stats.defects++;
        if (stats.samples.length < 10 && !stats.samples.some((s) => s.startsWith(defect!.slice(0, 60)))) stats.samples.push(`${defect}\n    argv: ${shown}`);
      }
      resolve();
    });
  });
}
