/**
 * Local mode's cost: a folder of 50 scripts (packetdrill's own, the suite's fixtures cycled)
 * run one after another through the library, with each namespace's make and remove times
 * (target: 50 scripts under a minute, each namespace under 50 ms made and removed).
 *
 * The peer: the same namespace made the usual way, `ip netns add` + a veth pair + addresses +
 * `ip netns del` (one `ip -batch` each, as few processes as it can be done with), measured in
 * the same run, interleaved with ours round by round. Ours is measured inside the helper
 * (unshare + one `ip -batch` + the AF_PACKET socket) and removal is the helper's exit (wall
 * clock: these are waits on the kernel and on process start, not CPU work). Needs root; hold the shared lock:
 *   flock /tmp/synack-net.lock node --import tsx bench/script-local.ts
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import '../src/index.js';
import { parseLocalScript, runLocal } from '../src/script/local/run.js';

const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'packetdrill', 'tcp');
const COUNT = Number(process.argv[2] ?? 50);

if (process.getuid?.() !== 0) {
  console.log('bench/script-local: needs root (network namespaces)');
  process.exit(0);
}

function scripts(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...scripts(full));
    else if (name.endsWith('.pkt')) out.push(full);
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The peer: a named namespace with the same veth pair and addresses, made and removed with `ip`. */
function ipNetnsRound(n: number): { madeMs: number; removedMs: number } {
  const ns = `synack-bench-${process.pid}-${n}`;
  const t0 = performance.now();
  execFileSync('ip', ['-batch', '-'], {
    input: [`netns add ${ns}`, `link add tun0 netns ${ns} type veth peer name peer0 netns ${ns}`].join('\n') + '\n',
  });
  execFileSync('ip', ['-n', ns, '-batch', '-'], {
    input: ['link set lo up', 'link set peer0 up', 'addr add 198.51.100.1/24 dev tun0', 'link set tun0 up', 'neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev tun0 nud permanent'].join('\n') + '\n',
  });
  const t1 = performance.now();
  execFileSync('ip', ['netns', 'del', ns]);
  return { madeMs: t1 - t0, removedMs: performance.now() - t1 };
}

const files = scripts(FIXTURES);
const ours: Array<{ madeMs: number; removedMs: number }> = [];
const peer: Array<{ madeMs: number; removedMs: number }> = [];
let passed = 0;
const t0 = performance.now();
let runTotal = 0;
for (let i = 0; i < COUNT; i++) {
  const file = files[i % files.length]!;
  const started = performance.now();
  const r = await runLocal(parseLocalScript(readFileSync(file, 'utf8'), file), { pcapOnFailure: false });
  runTotal += performance.now() - started;
  if (r.ok) passed++;
  ours.push({ madeMs: r.namespace.madeMs, removedMs: r.namespace.removedMs });
  const p = ipNetnsRound(i);
  peer.push(p);
  console.log(
    `round ${String(i + 1).padStart(2)}  ${file.slice(FIXTURES.length + 1).padEnd(52)} ${r.ok ? 'passed' : 'FAILED'}  ours: made ${r.namespace.madeMs.toFixed(1)} ms, removed ${r.namespace.removedMs.toFixed(1)} ms   ip netns: made ${p.madeMs.toFixed(1)} ms, removed ${p.removedMs.toFixed(1)} ms`,
  );
}
const total = (performance.now() - t0) / 1000;
const made = median(ours.map((o) => o.madeMs));
const removed = median(ours.map((o) => o.removedMs));
const worst = Math.max(...ours.map((o) => o.madeMs + o.removedMs));
const pMade = median(peer.map((o) => o.madeMs));
const pRemoved = median(peer.map((o) => o.removedMs));
console.log(`\n${COUNT} local-mode scripts: ${passed} passed, scripts ${(runTotal / 1000).toFixed(1)} s (${total.toFixed(1)} s with the interleaved ip-netns rounds)`);
console.log(`namespace, median: ours made ${made.toFixed(1)} ms + removed ${removed.toFixed(1)} ms = ${(made + removed).toFixed(1)} ms (worst ${worst.toFixed(1)} ms); ip netns made ${pMade.toFixed(1)} ms + removed ${pRemoved.toFixed(1)} ms = ${(pMade + pRemoved).toFixed(1)} ms; ratio ${((made + removed) / (pMade + pRemoved)).toFixed(2)}`);
