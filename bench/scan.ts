/**
 * `synack scan 127.0.0.1 -p 1-65535` beside `nmap -sS -p- 127.0.0.1`, same run, interleaved
 * (the order alternates each round, so neither always runs on a warmer machine): every round's
 * wall times printed (process start to exit), then the medians, their ratio against the 1.5x
 * target, and whether both found the same open and closed ports. Each round also scans port 1
 * alone with both (start-up and one probe), so nmap's start-up stands beside synack's. Needs
 * root (both send raw SYNs); only 127.0.0.1 is ever probed.
 *
 * Where: on the host's lo, and in a private network namespace made for the run (its own lo, no
 * listeners: every port closed), both by default. The host's lo carries the captures of every
 * other process on the machine, and each one's filter runs inside every sender's syscall
 * (tpacket_rcv), so the host's figures move with what else runs; the namespace's lo carries
 * only this bench's packets. Every contender runs through `ip netns exec` there. The namespace
 * is removed at the end, on failure and on SIGINT/SIGTERM.
 *
 * Beside them, each round: the CPU time (user + system) each spent, synack's own split between
 * its scan engine (first probe to last answer, the `seconds` of its JSON) and the rest (Node's
 * start-up, loading, printing, exit), and two floors of the work itself:
 * - the C loop of raw sendto (bench/helpers/sendto-loop.c) sending 65,535 SYNs to a closed port,
 *   which the kernel answers with 65,535 RSTs inside those sendto calls: the kernel's share of
 *   any scan of 65,535 closed ports on this path, before any capture or bookkeeping;
 * - the C scanner (bench/helpers/scan-floor.c): the same SYNs to ports 1-65535 with synack's
 *   capture (libpcap as cap opens it, synack's filter, drained every 64 probes), every answer
 *   settled: what a libpcap-based scanner pays here with no runtime of its own, the ceiling of
 *   synack's design.
 *
 * A/B: `--baseline DIR` runs DIR/bin/synack (another checkout, built, e.g. a worktree of main)
 * in the same interleaved rounds and prints this tree's ratio against it.
 *
 *   npx tsx bench/scan.ts [--rounds N] [--where host|netns|both] [--baseline DIR]   (default 5, both)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { IP, TCP } from '../src/index.js';
import { argValue } from './helpers/args.js';
import { buildCLoop } from './helpers/c-loop.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(argValue('--rounds') ?? 5);
const WHERE = argValue('--where') ?? 'both';
const BASELINE = argValue('--baseline');
const TARGET = 1.5;
if (!['host', 'netns', 'both'].includes(WHERE)) throw new Error(`--where takes host, netns or both, not ${WHERE}`);

interface Run {
  seconds: number;
  /** User + system CPU seconds of the process (and of `ip netns exec`, the same for every contender). */
  cpu: number;
}
interface Outcome extends Run {
  open: number[];
  closed: number;
  other: number;
}
interface Ours extends Outcome {
  /** The scan engine's own seconds (first probe to last answer), from its JSON. */
  engine: number;
}

/** CPU seconds (user + system) of this process's waited-for children so far: cutime + cstime of proc(5)'s stat, in ticks of 1/100 s. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Runs a command, in the namespace `ns` when given; its wall and CPU time and its output. */
function time(ns: string | undefined, command: string, argv: string[]): Run & { stdout: string; status: number | null } {
  const [cmd, args] = ns ? ['ip', ['netns', 'exec', ns, command, ...argv]] : [command, argv];
  const cpu0 = childrenCpu();
  const started = process.hrtime.bigint();
  const run = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, cpu: childrenCpu() - cpu0, stdout: run.stdout, status: run.status };
}

function synack(ns: string | undefined, tree = root, ports = '1-65535'): Ours {
  // As a user runs it: bin/synack as a command (its shell line starts Node; see bin/synack).
  const r = time(ns, join(tree, 'bin', 'synack'), ['scan', '127.0.0.1', '-p', ports, '--json']);
  if (r.status !== 0) throw new Error(`${tree}/bin/synack scan exited with ${r.status}`);
  const result = JSON.parse(r.stdout) as { seconds: number; ports: Record<string, number[]> };
  const other = Object.entries(result.ports).filter(([k]) => k !== 'open' && k !== 'closed').reduce((n, [, l]) => n + l.length, 0);
  return { seconds: r.seconds, cpu: r.cpu, engine: result.seconds, open: result.ports['open']!, closed: result.ports['closed']!.length, other };
}

function nmap(ns: string | undefined, range = '-'): Outcome {
  const r = time(ns, 'nmap', ['-sS', `-p${range}`, '-n', '-oG', '-', '127.0.0.1']);
  if (r.status !== 0) throw new Error(`nmap exited with ${r.status}`);
  const line = r.stdout.split('\n').find((l) => l.includes('Ports:')) ?? '';
  const open: number[] = [];
  let closed = 0;
  let other = 0;
  const ports = /Ports: ([^\t]*)/.exec(line)?.[1] ?? '';
  for (const entry of ports.split(', ').filter(Boolean)) {
    const [port, state] = entry.split('/');
    if (state === 'open') open.push(Number(port));
    else if (state === 'closed') closed++;
    else other++;
  }
  const ignored = /Ignored State: (\w+) \((\d+)\)/.exec(line);
  if (ignored) {
    if (ignored[1] === 'closed') closed += Number(ignored[2]);
    else other += Number(ignored[2]);
  }
  return { seconds: r.seconds, cpu: r.cpu, open: open.sort((a, b) => a - b), closed, other };
}

if (process.getuid?.() !== 0) {
  console.log('bench/scan.ts: skipped (needs root: both scanners send raw SYNs)');
  process.exit(0);
}
if (spawnSync('nmap', ['--version']).status !== 0) {
  console.log('bench/scan.ts: skipped (nmap is not installed)');
  process.exit(0);
}
// tsc emits even when files other than the CLI's have type errors; what matters is the program.
spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('npm run build produced no dist/cli/main.js');
const baseline = BASELINE === undefined ? undefined : resolve(BASELINE);
if (baseline && !existsSync(join(baseline, 'dist', 'cli', 'main.js'))) throw new Error(`--baseline ${baseline}: not built (no dist/cli/main.js there)`);

/** A port nothing listens on (bound, noted, closed), for the floor's SYNs. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const cLoop = buildCLoop();
const scanFloor = buildCLoop('scan-floor');
const floorSyn = IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ sport: 40001, dport: await closedPort(), flags: 'S' })).bytes();
/** The send floor: 65,535 SYNs and the kernel's RSTs to them, by the C loop (bounded: 30 s at most). */
function sendFloor(ns: string | undefined): Run | undefined {
  if (typeof cLoop === 'string') return undefined;
  const r = time(ns, cLoop.path, [floorSyn.toString('hex'), '30', '65535']);
  if (r.status !== 0) throw new Error(`the C loop exited with ${r.status}`);
  return r;
}
/** The scan floor: the C scanner over ports 1-65535 (bounded: 30 s at most). */
function captureFloor(ns: string | undefined): (Run & { answered: number }) | undefined {
  if (typeof scanFloor === 'string') return undefined;
  const r = time(ns, scanFloor.path, ['1', '65535', '30']);
  if (r.status !== 0) throw new Error(`the C scanner exited with ${r.status}`);
  return { ...r, answered: (JSON.parse(r.stdout) as { answered: number }).answered };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const med = (xs: number[]): string => median(xs).toFixed(3);

/** The rounds on one lo (the host's, or the namespace's `ns`) and their summary; true when the target is met with the same ports. */
function bench(label: string, ns: string | undefined): boolean {
  const ours: Ours[] = [];
  const base: Ours[] = [];
  const theirs: Outcome[] = [];
  const floors: Run[] = [];
  const scans: Array<Run & { answered: number }> = [];
  /** Start-up and one probe: what each scanner costs before the port range matters (port 1, closed). */
  const startOurs: number[] = [];
  const startTheirs: number[] = [];
  console.log(`${label}: 127.0.0.1, ports 1-65535, ${ROUNDS} rounds interleaved (wall time, process start to exit; CPU = user + system):`);
  for (let i = 0; i < ROUNDS; i++) {
    const contenders = [() => ours.push(synack(ns)), () => theirs.push(nmap(ns)), ...(baseline ? [() => base.push(synack(ns, baseline))] : [])];
    for (const run of i % 2 === 0 ? contenders : contenders.reverse()) run();
    const f = sendFloor(ns);
    if (f) floors.push(f);
    const c = captureFloor(ns);
    if (c) scans.push(c);
    startOurs.push(synack(ns, root, '1').seconds);
    startTheirs.push(nmap(ns, '1').seconds);
    const o = ours.at(-1)!;
    const n = theirs.at(-1)!;
    const b = baseline ? `   baseline ${base.at(-1)!.seconds.toFixed(3)} s (CPU ${base.at(-1)!.cpu.toFixed(2)})` : '';
    const fl = f ? `   send floor ${f.seconds.toFixed(3)} s (CPU ${f.cpu.toFixed(2)})` : '';
    const sc = c ? `   C scanner ${c.seconds.toFixed(3)} s (CPU ${c.cpu.toFixed(2)}, ${c.answered} answered)` : '';
    console.log(
      `  round ${i + 1}: nmap ${n.seconds.toFixed(3)} s (CPU ${n.cpu.toFixed(2)})   synack ${o.seconds.toFixed(3)} s (CPU ${o.cpu.toFixed(2)}; engine ${o.engine.toFixed(3)}, rest ${(o.seconds - o.engine).toFixed(3)})${b}${fl}${sc}   ratio ${(n.seconds / o.seconds).toFixed(2)}x   (port 1 alone: nmap ${startTheirs.at(-1)!.toFixed(3)} s, synack ${startOurs.at(-1)!.toFixed(3)} s)`,
    );
  }
  const s = median(ours.map((o) => o.seconds));
  const n = median(theirs.map((o) => o.seconds));
  const sCpu = median(ours.map((o) => o.cpu));
  const nCpu = median(theirs.map((o) => o.cpu));
  const last = ours.length - 1;
  console.log(`  nmap -sS -p-          median ${n.toFixed(3)} s   open ${theirs[last]!.open.join(',') || '-'}   closed ${theirs[last]!.closed}   other ${theirs[last]!.other}`);
  console.log(`  synack scan -p -      median ${s.toFixed(3)} s   open ${ours[last]!.open.join(',') || '-'}   closed ${ours[last]!.closed}   other ${ours[last]!.other}`);
  console.log(`  start-up + 1 port     median nmap ${med(startTheirs)} s   synack ${med(startOurs)} s`);
  const ratio = n / s;
  console.log(`  ratio of medians      ${ratio.toFixed(2)}x ${s < n ? 'faster than' : 'slower than'} nmap (target ${TARGET}x: ${ratio >= TARGET ? 'met' : 'not met'})`);
  console.log(`  synack's split, median: engine (first probe to last answer) ${med(ours.map((o) => o.engine))} s, the rest (start-up, load, print, exit) ${med(ours.map((o) => o.seconds - o.engine))} s`);
  console.log(`  CPU, median: nmap ${nCpu.toFixed(3)} s   synack ${sCpu.toFixed(3)} s   (ratio ${(nCpu / sCpu).toFixed(2)}x; the target needs synack at ${(nCpu / TARGET).toFixed(3)} s CPU or less)`);
  if (baseline) {
    const b = median(base.map((o) => o.seconds));
    const bCpu = median(base.map((o) => o.cpu));
    console.log(`  A/B against ${baseline}: baseline median ${b.toFixed(3)} s wall, ${bCpu.toFixed(3)} s CPU; this tree ${(b / s).toFixed(2)}x its wall, ${(bCpu / sCpu).toFixed(2)}x its CPU`);
  }
  if (typeof cLoop === 'string') console.log(`  ${cLoop}`);
  else {
    const f = median(floors.map((x) => x.seconds));
    console.log(
      `  send floor (C loop: 65,535 SYNs to a closed port and the kernel's RSTs, no capture), median ${f.toFixed(3)} s wall, ${med(floors.map((x) => x.cpu))} s CPU: ` +
        `synack's engine takes ${(median(ours.map((o) => o.engine)) / f).toFixed(2)}x it, nmap's whole run ${(n / f).toFixed(2)}x`,
    );
  }
  if (typeof scanFloor === 'string') console.log(`  ${scanFloor}`);
  else {
    const c = median(scans.map((x) => x.seconds));
    const cCpu = median(scans.map((x) => x.cpu));
    console.log(
      `  C scanner (the same SYNs to ports 1-65535 with synack's libpcap capture, every answer settled), median ${c.toFixed(3)} s wall, ${cCpu.toFixed(3)} s CPU: ` +
        `${(n / c).toFixed(2)}x nmap's wall, ${(nCpu / cCpu).toFixed(2)}x its CPU; synack takes ${(s / c).toFixed(2)}x its wall, ${(sCpu / cCpu).toFixed(2)}x its CPU (Node's start-up, the addons' per-call cost, the JavaScript)`,
    );
  }
  // Listeners come and go (other programs' ephemeral servers): compare runs made side by side.
  const same = ours.some((o, i) => o.open.join() === theirs[i]!.open.join() && o.closed === theirs[i]!.closed);
  console.log(`  same open and closed  ${same ? 'yes' : 'no'}${same ? '' : ` (synack ${JSON.stringify(ours.map((o) => o.open))} vs nmap ${JSON.stringify(theirs.map((o) => o.open))})`}`);
  return same && ratio >= TARGET;
}

/** The private namespace: its own lo, up; removed by removeNamespace() on every way out. */
const NS = `synack-scan-bench-${process.pid}`;
let nsMade = false;
function removeNamespace(): void {
  if (nsMade) spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  nsMade = false;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    removeNamespace();
    process.exit(130);
  });
}

let met = true;
try {
  if (WHERE !== 'netns') met = bench("host's lo", undefined) && met;
  if (WHERE !== 'host') {
    if (spawnSync('ip', ['netns', 'add', NS]).status !== 0) throw new Error(`cannot make the network namespace ${NS}`);
    nsMade = true;
    if (spawnSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']).status !== 0) throw new Error(`cannot bring lo up in ${NS}`);
    met = bench(`private namespace ${NS} (its own lo: no other captures, no listeners)`, NS) && met;
  }
} finally {
  removeNamespace();
  if (typeof cLoop !== 'string') cLoop.remove();
  if (typeof scanFloor !== 'string') scanFloor.remove();
}
if (!met) process.exitCode = 1;
