/**
 * `synack scan 127.0.0.1 -p 1-65535` beside `nmap -sS -p- 127.0.0.1`, same run, interleaved
 * (the order alternates each round, so neither always runs on a warmer machine): every round's
 * wall times printed (process start to exit), then the medians, their ratio against the 1.5x
 * target, and whether both found the same open and closed ports. Each round also scans port 1
 * alone with both (start-up and one probe), so the medians split into start-up and the scan's own
 * work. Needs root (both send raw
 * SYNs); only 127.0.0.1 is ever probed.
 *
 *   npx tsx bench/scan.ts [--rounds N]     (default 5)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const roundsArg = args.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 5;
const TARGET = 1.5;

interface Outcome {
  seconds: number;
  open: number[];
  closed: number;
  other: number;
}

function time(command: string, argv: string[]): { seconds: number; stdout: string; status: number | null } {
  const started = process.hrtime.bigint();
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, stdout: run.stdout, status: run.status };
}

function synack(ports = '1-65535'): Outcome {
  // As a user runs it: bin/synack as a command (its shell line starts Node; see bin/synack).
  const r = time(join(root, 'bin', 'synack'), ['scan', '127.0.0.1', '-p', ports, '--json']);
  if (r.status !== 0) throw new Error(`synack scan exited with ${r.status}`);
  const result = JSON.parse(r.stdout) as { ports: Record<string, number[]> };
  const other = Object.entries(result.ports).filter(([k]) => k !== 'open' && k !== 'closed').reduce((n, [, l]) => n + l.length, 0);
  return { seconds: r.seconds, open: result.ports['open']!, closed: result.ports['closed']!.length, other };
}

function nmap(range = '-'): Outcome {
  const r = time('nmap', ['-sS', `-p${range}`, '-n', '-oG', '-', '127.0.0.1']);
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
  return { seconds: r.seconds, open: open.sort((a, b) => a - b), closed, other };
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

const ours: Outcome[] = [];
const theirs: Outcome[] = [];
/** Start-up and one probe: what each scanner costs before the port range matters (one port, 1, closed). */
const startOurs: number[] = [];
const startTheirs: number[] = [];
console.log(`127.0.0.1, ports 1-65535, ${ROUNDS} rounds interleaved (wall time, process start to exit):`);
for (let i = 0; i < ROUNDS; i++) {
  let o: Outcome;
  let n: Outcome;
  if (i % 2 === 0) {
    o = synack();
    n = nmap();
  } else {
    n = nmap();
    o = synack();
  }
  ours.push(o);
  theirs.push(n);
  startOurs.push(synack('1').seconds);
  startTheirs.push(nmap('1').seconds);
  console.log(`  round ${i + 1}: nmap ${n.seconds.toFixed(3)} s   synack ${o.seconds.toFixed(3)} s   ratio ${(n.seconds / o.seconds).toFixed(2)}x   (port 1 alone: nmap ${startTheirs.at(-1)!.toFixed(3)} s, synack ${startOurs.at(-1)!.toFixed(3)} s)`);
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
console.log(`  start-up + 1 port     median nmap ${median(startTheirs).toFixed(3)} s   synack ${median(startOurs).toFixed(3)} s: the whole-range medians less these are the scans' own work, ${(n - median(startTheirs)).toFixed(3)} s and ${(s - median(startOurs)).toFixed(3)} s`);
const ratio = n / s;
console.log(`  ratio of medians      ${ratio.toFixed(2)}x ${s < n ? 'faster than' : 'slower than'} nmap (target ${TARGET}x: ${ratio >= TARGET ? 'met' : 'not met'})`);
// Listeners come and go (other programs' ephemeral servers): compare runs made side by side.
const same = ours.some((o, i) => o.open.join() === theirs[i]!.open.join() && o.closed === theirs[i]!.closed);
console.log(`  same open and closed  ${same ? 'yes' : 'no'}${same ? '' : ` (synack ${JSON.stringify(ours.map((o) => o.open))} vs nmap ${JSON.stringify(theirs.map((o) => o.open))})`}`);
if (!same || ratio < TARGET) process.exitCode = 1;
