/**
 * `synack scan 127.0.0.1 -p 1-65535` beside `nmap -sS -p- 127.0.0.1`, same run, interleaved
 * (the order alternates each round, so neither always runs on a warmer machine): every round's
 * wall times printed (process start to exit), then the medians, their ratio against the 1.5x
 * target, and whether both found the same open and closed ports. Needs root (both send raw
 * SYNs); only 127.0.0.1 is ever probed.
 *
 * Beside them, each round: the CPU time (user + system) each spent, synack's own split between
 * its scan engine (first probe to last answer, the `seconds` of its JSON) and the rest (Node's
 * start-up, loading, printing, exit), and the floor of the work itself: the C loop of raw sendto
 * (bench/helpers/sendto-loop.c) sending 65,535 SYNs to a closed port, one process, which the
 * kernel answers with 65,535 RSTs inside those sendto calls. That is the kernel's share of any
 * scan of 65,535 closed ports on this path, before any capture or bookkeeping: the CPU the machine
 * has to give, so that the load of the moment can be read off the round.
 *
 *   npx tsx bench/scan.ts [--rounds N]     (default 5)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { IP, TCP } from '../src/index.js';
import { buildCLoop } from './helpers/c-loop.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const roundsArg = args.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 5;
const TARGET = 1.5;

interface Outcome {
  seconds: number;
  /** User + system CPU seconds of the process. */
  cpu: number;
  open: number[];
  closed: number;
  other: number;
}

/** CPU seconds (user + system) of this process's waited-for children so far: cutime + cstime of proc(5)'s stat, in ticks of 1/100 s. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function time(command: string, argv: string[]): { seconds: number; cpu: number; stdout: string; status: number | null } {
  const cpu0 = childrenCpu();
  const started = process.hrtime.bigint();
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, cpu: childrenCpu() - cpu0, stdout: run.stdout, status: run.status };
}

function synack(): Outcome & { engine: number } {
  const r = time(process.execPath, [join(root, 'bin', 'synack'), 'scan', '127.0.0.1', '-p', '1-65535', '--json']);
  if (r.status !== 0) throw new Error(`synack scan exited with ${r.status}`);
  const result = JSON.parse(r.stdout) as { seconds: number; ports: Record<string, number[]> };
  const other = Object.entries(result.ports).filter(([k]) => k !== 'open' && k !== 'closed').reduce((n, [, l]) => n + l.length, 0);
  return { seconds: r.seconds, cpu: r.cpu, engine: result.seconds, open: result.ports['open']!, closed: result.ports['closed']!.length, other };
}

function nmap(): Outcome {
  const r = time('nmap', ['-sS', '-p-', '-n', '-oG', '-', '127.0.0.1']);
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

/** A port nothing listens on (bound, noted, closed), for the floor's SYNs. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
const cLoop = buildCLoop();
const floorSyn = IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ sport: 40001, dport: await closedPort(), flags: 'S' })).bytes();
/** The floor: 65,535 SYNs and the kernel's RSTs to them, by the C loop (bounded: 30 s at most). */
function floor(): { seconds: number; cpu: number } | undefined {
  if (typeof cLoop === 'string') return undefined;
  const r = time(cLoop.path, [floorSyn.toString('hex'), '30', '65535']);
  if (r.status !== 0) throw new Error(`the C loop exited with ${r.status}`);
  return r;
}

const ours: Array<Outcome & { engine: number }> = [];
const theirs: Outcome[] = [];
const floors: Array<{ seconds: number; cpu: number }> = [];
console.log(`127.0.0.1, ports 1-65535, ${ROUNDS} rounds interleaved (wall time, process start to exit; CPU = user + system):`);
try {
  for (let i = 0; i < ROUNDS; i++) {
    let o: Outcome & { engine: number };
    let n: Outcome;
    if (i % 2 === 0) {
      o = synack();
      n = nmap();
    } else {
      n = nmap();
      o = synack();
    }
    const f = floor();
    ours.push(o);
    theirs.push(n);
    if (f) floors.push(f);
    const fl = f ? `   floor ${f.seconds.toFixed(3)} s (CPU ${f.cpu.toFixed(2)})` : '';
    console.log(
      `  round ${i + 1}: nmap ${n.seconds.toFixed(3)} s (CPU ${n.cpu.toFixed(2)})   synack ${o.seconds.toFixed(3)} s (CPU ${o.cpu.toFixed(2)}; engine ${o.engine.toFixed(3)}, rest ${(o.seconds - o.engine).toFixed(3)})${fl}   ratio ${(n.seconds / o.seconds).toFixed(2)}x`,
    );
  }
} finally {
  if (typeof cLoop !== 'string') cLoop.remove();
}
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const s = median(ours.map((o) => o.seconds));
const n = median(theirs.map((o) => o.seconds));
const last = ours.length - 1;
console.log(`  nmap -sS -p-          median ${n.toFixed(3)} s   open ${theirs[last]!.open.join(',') || '-'}   closed ${theirs[last]!.closed}   other ${theirs[last]!.other}`);
console.log(`  synack scan -p -      median ${s.toFixed(3)} s   open ${ours[last]!.open.join(',') || '-'}   closed ${ours[last]!.closed}   other ${ours[last]!.other}`);
const ratio = n / s;
console.log(`  ratio of medians      ${ratio.toFixed(2)}x ${s < n ? 'faster than' : 'slower than'} nmap (target ${TARGET}x: ${ratio >= TARGET ? 'met' : 'not met'})`);
const med = (xs: number[]): string => median(xs).toFixed(3);
console.log(`  synack's split, median: engine (first probe to last answer) ${med(ours.map((o) => o.engine))} s, the rest (start-up, load, print, exit) ${med(ours.map((o) => o.seconds - o.engine))} s`);
console.log(`  CPU, median: nmap ${med(theirs.map((o) => o.cpu))} s   synack ${med(ours.map((o) => o.cpu))} s   (ratio ${(median(theirs.map((o) => o.cpu)) / median(ours.map((o) => o.cpu))).toFixed(2)}x)`);
if (typeof cLoop === 'string') console.log(`  ${cLoop}`);
else {
  const f = median(floors.map((x) => x.seconds));
  console.log(
    `  floor (C loop: 65,535 SYNs to a closed port and the kernel's RSTs, no capture), median ${f.toFixed(3)} s wall, ${med(floors.map((x) => x.cpu))} s CPU: ` +
      `synack's engine takes ${(median(ours.map((o) => o.engine)) / f).toFixed(2)}x the floor, nmap's whole run ${(n / f).toFixed(2)}x`,
  );
}
// Listeners come and go (other programs' ephemeral servers): compare runs made side by side.
const same = ours.some((o, i) => o.open.join() === theirs[i]!.open.join() && o.closed === theirs[i]!.closed);
console.log(`  same open and closed  ${same ? 'yes' : 'no'}${same ? '' : ` (synack ${JSON.stringify(ours.map((o) => o.open))} vs nmap ${JSON.stringify(theirs.map((o) => o.open))})`}`);
if (!same || ratio < TARGET) process.exitCode = 1;
