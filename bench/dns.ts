/**
 * DNS beside Scapy 2.5 in the same run: the tutorial query
 * IP(dst='127.0.0.1')/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname='example.test'))
 * - build plus serialize: new layer and record objects every iteration, as Scapy's bytes(...);
 * - dissect of the same bytes down to the DNS question, as Scapy's IP(raw).
 * Rounds interleave: each round measures synack's build, Scapy's build and dissect (one python
 * process kept for the whole run, asked one round at a time), then synack's dissect. Rates are
 * per CPU-second (user + system of the measuring process: process.cpuUsage() here,
 * time.process_time() in Python), since the shared machine's wall clock counts other people's
 * work. Every round's rates and ratio are printed, then the medians. Target: >= 100x Scapy.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DNS, DNSQR, IP, UDP, dissect } from '../dist/index.js';

const ROUNDS = 9;
const ROUND_CPU_SECONDS = 0.3;
const TARGET_RATIO = 100;

function queryBytes(): Buffer {
  return IP({ dst: '127.0.0.1' }).add(UDP({ dport: 53 }), DNS({ rd: 1, qd: DNSQR({ qname: 'example.test' }) })).bytes();
}

let sink = 0;

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Iterations that take about one round of CPU time, found once before the rounds. */
function calibrate(fn: () => void): number {
  for (let n = 1_000; ; n *= 2) {
    const t = cpuSeconds();
    for (let i = 0; i < n; i++) fn();
    const s = cpuSeconds() - t;
    if (s > ROUND_CPU_SECONDS / 4) return Math.ceil((n * ROUND_CPU_SECONDS) / s);
  }
}

/** One round: operations per CPU-second. */
function round(fn: () => void, iterations: number): number {
  const t = cpuSeconds();
  for (let i = 0; i < iterations; i++) fn();
  return iterations / (cpuSeconds() - t);
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// The Python side: first line the version, bytes and question read back; then one line of
// rates for every line asked.
const SCAPY = String.raw`
import sys, json, time, logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import IP, UDP, DNS, DNSQR
import scapy
build = lambda: bytes(IP(dst='127.0.0.1')/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname='example.test')))
raw = build()
def dissect():
    p = IP(raw)
    return p[DNS].qd.qname
def iterations(fn, seconds):
    n = 1
    while True:
        t = time.process_time()
        for _ in range(n): fn()
        s = time.process_time() - t
        if s > seconds / 4: return max(1, int(n * seconds / s))
        n *= 2
def rate(fn, n):
    t = time.process_time()
    for _ in range(n): fn()
    return n / (time.process_time() - t)
seconds = float(sys.argv[1])
nb, nd = iterations(build, seconds), iterations(dissect, seconds)
print(json.dumps({"version": scapy.VERSION, "hex": raw.hex(), "qname": dissect().decode()}), flush=True)
for _ in sys.stdin:
    print(json.dumps({"build": rate(build, nb), "dissect": rate(dissect, nd)}), flush=True)
`;

interface ScapyPeer {
  version: string;
  hex: string;
  /** Measures one round of Scapy's build and dissect. */
  round(): Promise<{ build: number; dissect: number }>;
  close(): void;
}

async function startScapy(): Promise<ScapyPeer | string> {
  const child = spawn('/usr/bin/python3', ['-c', SCAPY, String(ROUND_CPU_SECONDS)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  const next = async (): Promise<string | undefined> => (await lines.next()).value as string | undefined;
  const close = (): void => {
    clearTimeout(timer);
    child.stdin.end();
    child.kill();
  };
  const first = await next();
  if (first === undefined) {
    close();
    return `Scapy did not run: ${stderr.trim().split('\n').pop() ?? ''}`;
  }
  const head = JSON.parse(first) as { version: string; hex: string };
  return {
    ...head,
    async round() {
      child.stdin.write('\n');
      const line = await next();
      if (line === undefined) throw new Error(`Scapy stopped: ${stderr.trim().split('\n').pop() ?? ''}`);
      return JSON.parse(line) as { build: number; dissect: number };
    },
    close,
  };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const bytes = queryBytes();
const buildOnce = (): void => {
  sink += queryBytes().length;
};
const dissectOnce = (): void => {
  const p = dissect(bytes, 'ip');
  sink += (p.layers[2] as unknown as { qd: { fields: { qname: string } }[] }).qd[0]!.fields.qname.length;
};
const nBuild = calibrate(buildOnce);
const nDissect = calibrate(dissectOnce);
const scapy = await startScapy();

console.log(`DNS query IP/UDP/DNS(rd=1, qd=DNSQR(qname='example.test')) (${bytes.length} bytes); one core; rates per CPU-second; ${ROUNDS} interleaved rounds`);
if (typeof scapy === 'string') console.log(scapy);
else if (scapy.hex !== bytes.toString('hex')) console.log(`WARNING: Scapy built different bytes:\n  scapy  ${scapy.hex}\n  synack ${bytes.toString('hex')}`);

const ours = { build: [] as number[], dissect: [] as number[] };
const theirs = { build: [] as number[], dissect: [] as number[] };
try {
  for (let r = 1; r <= ROUNDS; r++) {
    const build = round(buildOnce, nBuild);
    const peer = typeof scapy === 'string' ? undefined : await scapy.round();
    const parse = round(dissectOnce, nDissect);
    ours.build.push(build);
    ours.dissect.push(parse);
    let line = `  round ${r}: synack build ${fmt(build)}/s, dissect ${fmt(parse)}/s`;
    if (peer) {
      theirs.build.push(peer.build);
      theirs.dissect.push(peer.dissect);
      line += `; Scapy build ${fmt(peer.build)}/s, dissect ${fmt(peer.dissect)}/s; ratio build ${(build / peer.build).toFixed(0)}x, dissect ${(parse / peer.dissect).toFixed(0)}x`;
    }
    console.log(line);
  }
} finally {
  if (typeof scapy !== 'string') scapy.close();
}

const version = typeof scapy === 'string' ? '' : scapy.version;
const rows: string[][] = [['', 'synack pkt/CPU-s', `Scapy ${version} pkt/CPU-s`, 'synack/Scapy (median of per-round ratios)', 'target', 'met']];
for (const [name, mine, peer] of [
  ['DNS query build+serialize', ours.build, theirs.build],
  ['DNS query dissect', ours.dissect, theirs.dissect],
] as const) {
  const known = peer.length === mine.length;
  const ratio = known ? median(mine.map((v, i) => v / peer[i]!)) : NaN;
  rows.push([name, fmt(median(mine)), known ? fmt(median(peer)) : '-', known ? `${ratio.toFixed(0)}x` : '-', `>= ${TARGET_RATIO}x`, known ? (ratio >= TARGET_RATIO ? 'yes' : 'NO') : '-']);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
if (sink === 0) console.log('');
