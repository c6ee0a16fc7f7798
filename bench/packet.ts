/**
 * The packet model's speed, beside Scapy 2.5 in the same run: IPv4/TCP SYN with the five SYN
 * options (MSS 1460, SAckOK, Timestamp, NOP, WScale 7), on one core.
 * - build plus serialize: new layer objects every iteration, as Scapy's bytes(IP()/TCP(...));
 * - dissect of the same bytes, as Scapy's IP(raw).
 * Each side warms up, runs several timed rounds, and reports the median rate.
 */
import { spawnSync } from 'node:child_process';
import { IP, TCP, dissect } from '../dist/index.js';

const ROUNDS = 7;
const ROUND_SECONDS = 0.4;
const TARGET = 1_000_000;

function synBytes(): Buffer {
  return IP({ dst: '127.0.0.1' })
    .add(TCP({ dport: 60000, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1412272238, 0]], ['NOP'], ['WScale', 7]] }))
    .bytes();
}

/** Keeps results alive so the JIT cannot drop the work. */
let sink = 0;

/** Median packets/s over ROUNDS rounds of `iterations` calls each, after a warmup. */
function measure(fn: () => void): number {
  // Warm up, and size a round to about ROUND_SECONDS.
  let iterations = 10_000;
  for (;;) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (s > ROUND_SECONDS / 2) {
      iterations = Math.ceil((iterations * ROUND_SECONDS) / s);
      break;
    }
    iterations *= 2;
  }
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    rates.push(iterations / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  return median(rates);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Scapy's side: timeit.repeat in one python process, the median of its rounds.
const SCAPY = String.raw`
import sys, json, timeit, logging, statistics
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import IP, TCP, conf
import scapy
opts = [('MSS',1460),('SAckOK',b''),('Timestamp',(1412272238,0)),('NOP',None),('WScale',7)]
build = lambda: bytes(IP(dst='127.0.0.1')/TCP(dport=60000, flags='S', options=opts))
raw = build()
dissect = lambda: IP(raw)
def rate(fn, rounds):
    n = 1
    while True:
        t = timeit.timeit(fn, number=n)
        if t > 0.2: break
        n *= 2
    times = timeit.repeat(fn, number=n, repeat=rounds)
    return n / statistics.median(times)
print(json.dumps({"version": scapy.VERSION, "hex": raw.hex(), "build": rate(build, int(sys.argv[1])), "dissect": rate(dissect, int(sys.argv[1]))}))
`;

interface ScapyFigures {
  version: string;
  hex: string;
  build: number;
  dissect: number;
}

function scapyFigures(): ScapyFigures | string {
  const run = spawnSync('/usr/bin/python3', ['-c', SCAPY, '5'], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) return `Scapy did not run: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ScapyFigures;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const bytes = synBytes();
const buildRate = measure(() => {
  sink += synBytes().length;
});
const dissectRate = measure(() => {
  sink += dissect(bytes, 'ip').layers.length;
});
const scapy = scapyFigures();

console.log(`IPv4/TCP SYN, options mss 1460, sackOK, TS, nop, wscale 7 (${bytes.length} bytes); one core; median of ${ROUNDS} rounds`);
if (typeof scapy === 'string') console.log(scapy);
else if (scapy.hex !== bytes.toString('hex')) console.log(`WARNING: Scapy built different bytes:\n  scapy  ${scapy.hex}\n  synack ${bytes.toString('hex')}`);
const rows: string[][] = [['', 'synack pkt/s', `Scapy ${typeof scapy === 'string' ? '' : scapy.version} pkt/s`, 'synack/Scapy', 'target', 'ns/pkt', 'met']];
for (const [name, ours, theirs] of [
  ['build+serialize', buildRate, typeof scapy === 'string' ? NaN : scapy.build],
  ['dissect', dissectRate, typeof scapy === 'string' ? NaN : scapy.dissect],
] as const) {
  rows.push([name, fmt(ours), Number.isNaN(theirs) ? '-' : fmt(theirs), Number.isNaN(theirs) ? '-' : `${(ours / theirs).toFixed(0)}x`, `>= ${fmt(TARGET)}`, (1e9 / ours).toFixed(0), ours >= TARGET ? 'yes' : 'NO']);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
if (sink === 0) console.log('');
