/**
 * DNS beside Scapy 2.5 in the same run: the tutorial query
 * IP(dst='127.0.0.1')/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname='example.test'))
 * - build plus serialize: new layer and record objects every iteration, as Scapy's bytes(...);
 * - dissect of the same bytes down to the DNS question, as Scapy's IP(raw).
 * Rounds interleave synack and Scapy measurements are one python process; medians of each,
 * every round printed. Target: >= 100x Scapy.
 */
import { spawnSync } from 'node:child_process';
import { DNS, DNSQR, IP, UDP, dissect } from '../dist/index.js';

const ROUNDS = 7;
const ROUND_SECONDS = 0.3;
const TARGET_RATIO = 100;

function queryBytes(): Buffer {
  return IP({ dst: '127.0.0.1' }).add(UDP({ dport: 53 }), DNS({ rd: 1, qd: DNSQR({ qname: 'example.test' }) })).bytes();
}

let sink = 0;

function measure(fn: () => void): number[] {
  let iterations = 5_000;
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
  return rates;
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const SCAPY = String.raw`
import sys, json, timeit, logging, statistics
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import IP, UDP, DNS, DNSQR
import scapy
build = lambda: bytes(IP(dst='127.0.0.1')/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname='example.test')))
raw = build()
def dissect():
    p = IP(raw)
    return p[DNS].qd.qname
def rates(fn, rounds):
    n = 1
    while True:
        t = timeit.timeit(fn, number=n)
        if t > 0.2: break
        n *= 2
    return [n / t for t in timeit.repeat(fn, number=n, repeat=rounds)]
print(json.dumps({"version": scapy.VERSION, "hex": raw.hex(), "qname": dissect().decode(), "build": rates(build, int(sys.argv[1])), "dissect": rates(dissect, int(sys.argv[1]))}))
`;

interface ScapyFigures {
  version: string;
  hex: string;
  qname: string;
  build: number[];
  dissect: number[];
}

function scapyFigures(): ScapyFigures | string {
  const run = spawnSync('/usr/bin/python3', ['-c', SCAPY, String(ROUNDS)], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) return `Scapy did not run: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ScapyFigures;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const bytes = queryBytes();
// Interleaved: synack's build, Scapy (both measures), synack's dissect.
const build = measure(() => {
  sink += queryBytes().length;
});
const scapy = scapyFigures();
const parse = measure(() => {
  const p = dissect(bytes, 'ip');
  sink += (p.layers[2] as unknown as { qd: { fields: { qname: string } }[] }).qd[0]!.fields.qname.length;
});

console.log(`DNS query IP/UDP/DNS(rd=1, qd=DNSQR(qname='example.test')) (${bytes.length} bytes); one core; median of ${ROUNDS} rounds`);
console.log(`  synack build rounds/s:   ${build.map(fmt).join(' ')}`);
console.log(`  synack dissect rounds/s: ${parse.map(fmt).join(' ')}`);
if (typeof scapy === 'string') console.log(scapy);
else {
  console.log(`  Scapy build rounds/s:    ${scapy.build.map(fmt).join(' ')}`);
  console.log(`  Scapy dissect rounds/s:  ${scapy.dissect.map(fmt).join(' ')}`);
  if (scapy.hex !== bytes.toString('hex')) console.log(`WARNING: Scapy built different bytes:\n  scapy  ${scapy.hex}\n  synack ${bytes.toString('hex')}`);
}
const rows: string[][] = [['', 'synack pkt/s', `Scapy ${typeof scapy === 'string' ? '' : scapy.version} pkt/s`, 'synack/Scapy', 'target', 'met']];
for (const [name, ours, theirs] of [
  ['DNS query build+serialize', median(build), typeof scapy === 'string' ? NaN : median(scapy.build)],
  ['DNS query dissect', median(parse), typeof scapy === 'string' ? NaN : median(scapy.dissect)],
] as const) {
  const ratio = ours / theirs;
  rows.push([name, fmt(ours), Number.isNaN(theirs) ? '-' : fmt(theirs), Number.isNaN(theirs) ? '-' : `${ratio.toFixed(0)}x`, `>= ${TARGET_RATIO}x`, Number.isNaN(theirs) ? '-' : ratio >= TARGET_RATIO ? 'yes' : 'NO']);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
if (sink === 0) console.log('');
