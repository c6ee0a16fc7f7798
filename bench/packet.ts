/**
 * The packet model's speed, beside Scapy 2.5 and beside a ceiling, in one run: IPv4/TCP SYN with
 * the five SYN options (MSS 1460, SAckOK, Timestamp, NOP, WScale 7), on one core.
 * - build plus serialize through the public API, new layer objects every iteration, as Scapy's
 *   bytes(IP()/TCP(...)); the ceiling is a hand-written encoder of the same 60 bytes (both
 *   checksums computed), the least any JavaScript build of them can cost;
 * - dissect() of the same bytes, as Scapy's IP(raw), reading sport, dport and flags (fields read
 *   on demand), and dissect(..., { eager: true }) reading the same; the ceiling is a
 *   hand-written parse of those fields from the bytes.
 * Rounds are interleaved (ours, the ceiling's and Scapy's, which runs in one python process fed
 * round by round), each timed in CPU time (process.cpuUsage, Python's process_time) so that
 * other load on the shared machine does not count; every round is printed, then medians.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { IP, TCP, dissect, TCPLayer } from '../dist/index.js';

const ROUNDS = 7;
const ROUND_SECONDS = 0.3;
const TARGETS = { build: 2_000_000, dissect: 4_000_000 } as const;

function synBytes(): Buffer {
  return IP({ dst: '127.0.0.1' })
    .add(TCP({ dport: 60000, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1412272238, 0]], ['NOP'], ['WScale', 7]] }))
    .bytes();
}

/**
 * The caller's own part of synBytes(): its two argument objects, nothing of synack. On Node 20
 * (V8 11.3) the TCP argument, an object literal nested four deep, is copied by the runtime
 * rather than by inline code, and costs more than the hand-written encoder; Node 22+ inline it.
 */
function synArguments(): number {
  const ip = { dst: '127.0.0.1' };
  const tcp = { dport: 60000, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1412272238, 0]], ['NOP'], ['WScale', 7]] };
  return ip.dst.length + tcp.options.length;
}

/** The ceiling for build: the same bytes written by hand, checksums included, into a fresh Buffer. */
function handBuilt(): Buffer {
  const out = Buffer.allocUnsafe(60);
  // IPv4: version/ihl, tos, len 60, id 1, no fragment, ttl 64, proto 6, checksum, 127.0.0.1 twice.
  out[0] = 0x45; out[1] = 0; out[2] = 0; out[3] = 60; out[4] = 0; out[5] = 1; out[6] = 0; out[7] = 0;
  out[8] = 64; out[9] = 6; out[10] = 0; out[11] = 0;
  out[12] = 127; out[13] = 0; out[14] = 0; out[15] = 1; out[16] = 127; out[17] = 0; out[18] = 0; out[19] = 1;
  let ipSum = 0;
  for (let i = 0; i < 20; i += 2) ipSum += (out[i]! << 8) | out[i + 1]!;
  ipSum = (ipSum & 0xffff) + (ipSum >>> 16);
  ipSum = ~((ipSum & 0xffff) + (ipSum >>> 16)) & 0xffff;
  out[10] = ipSum >>> 8; out[11] = ipSum & 0xff;
  // TCP: ports 20 > 60000, seq 0, ack 0, data offset 10, SYN, window 8192, checksum, urgptr 0.
  out[20] = 0; out[21] = 20; out[22] = 0xea; out[23] = 0x60;
  out.fill(0, 24, 32);
  out[32] = 0xa0; out[33] = 0x02; out[34] = 0x20; out[35] = 0; out[36] = 0; out[37] = 0; out[38] = 0; out[39] = 0;
  // Options: MSS 1460, SAckOK, Timestamp (1412272238, 0), NOP, WScale 7, EOL padding.
  out[40] = 2; out[41] = 4; out[42] = 0x05; out[43] = 0xb4; out[44] = 4; out[45] = 2;
  const tsval = 1412272238;
  out[46] = 8; out[47] = 10; out[48] = tsval >>> 24; out[49] = (tsval >>> 16) & 0xff; out[50] = (tsval >>> 8) & 0xff; out[51] = tsval & 0xff;
  out[52] = 0; out[53] = 0; out[54] = 0; out[55] = 0; out[56] = 1; out[57] = 3; out[58] = 3; out[59] = 7;
  let sum = 127 * 256 + 1 + 127 * 256 + 1 + 6 + 40; // pseudo-header: addresses, protocol, TCP length
  for (let i = 20; i < 60; i += 2) sum += (out[i]! << 8) | out[i + 1]!;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = ~((sum & 0xffff) + (sum >>> 16)) & 0xffff;
  out[36] = sum >>> 8; out[37] = sum & 0xff;
  return out;
}

/** The ceiling for dissect: the three fields read by hand, after checking what dissect checks to find them. */
function handParsed(b: Buffer): number {
  if (b.length < 20 || b[0] !== 0x45 || b[9] !== 6) return 0;
  const len = (b[2]! << 8) | b[3]!;
  if (len > b.length) return 0;
  const tcp = 20;
  if ((b[tcp + 12]! >> 4) * 4 + tcp > len) return 0;
  const sport = (b[tcp]! << 8) | b[tcp + 1]!;
  const dport = (b[tcp + 2]! << 8) | b[tcp + 3]!;
  const flags = ((b[tcp + 12]! & 1) << 8) | b[tcp + 13]!;
  return sport + dport + flags;
}

/** Keeps results alive so the JIT cannot drop the work. */
let sink = 0;

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Calls per round for about ROUND_SECONDS of CPU, after warming up. */
function sizeRound(fn: () => void): number {
  let iterations = 10_000;
  for (;;) {
    const t = cpuSeconds();
    for (let i = 0; i < iterations; i++) fn();
    const s = cpuSeconds() - t;
    if (s > ROUND_SECONDS / 3) return Math.ceil((iterations * ROUND_SECONDS) / s);
    iterations *= 2;
  }
}

function round(fn: () => void, iterations: number): number {
  const t = cpuSeconds();
  for (let i = 0; i < iterations; i++) fn();
  return iterations / (cpuSeconds() - t);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Scapy's side: one python process; each line we send ('build' or 'dissect') runs one timed round.
const SCAPY = String.raw`
import sys, json, time, logging
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import IP, TCP
import scapy
opts = [('MSS',1460),('SAckOK',b''),('Timestamp',(1412272238,0)),('NOP',None),('WScale',7)]
build = lambda: bytes(IP(dst='127.0.0.1')/TCP(dport=60000, flags='S', options=opts))
raw = build()
def dissect():
    p = IP(raw); t = p[TCP]; return t.sport + t.dport + int(t.flags)
fns = {'build': build, 'dissect': dissect}
sizes = {}
for name, fn in fns.items():
    n = 1
    while True:
        t = time.process_time()
        for _ in range(n): fn()
        s = time.process_time() - t
        if s > ${ROUND_SECONDS / 3}: break
        n *= 2
    sizes[name] = max(1, int(n * ${ROUND_SECONDS} / s))
print(json.dumps({"version": scapy.VERSION, "hex": raw.hex()}), flush=True)
for line in sys.stdin:
    name = line.strip()
    if name not in fns: break
    fn, n = fns[name], sizes[name]
    t = time.process_time()
    for _ in range(n): fn()
    print(json.dumps({"rate": n / (time.process_time() - t)}), flush=True)
`;

interface ScapyPeer {
  version: string;
  hex: string;
  round(name: 'build' | 'dissect'): Promise<number>;
  close(): void;
}

async function startScapy(): Promise<ScapyPeer | string> {
  const child = spawn('/usr/bin/python3', ['-c', SCAPY], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    const timer = setTimeout(() => child.kill(), 120_000);
    try {
      const r = await lines.next();
      return r.done ? undefined : (JSON.parse(r.value) as Record<string, unknown>);
    } finally {
      clearTimeout(timer);
    }
  };
  const hello = await next().catch(() => undefined);
  if (!hello) {
    child.kill();
    return `Scapy did not run: ${stderr.trim().split('\n').pop() ?? ''}`;
  }
  return {
    version: String(hello.version),
    hex: String(hello.hex),
    async round(name) {
      child.stdin.write(`${name}\n`);
      const r = await next();
      return Number(r?.rate ?? NaN);
    },
    close() {
      child.stdin.end();
      child.kill();
    },
  };
}

function fmt(n: number): string {
  return Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US');
}

const bytes = synBytes();
{
  // The lazy fields read in the timed rounds must be the right ones, and the same as decoded.
  const lazy = dissect(bytes, 'ip').getLayer(TCPLayer)!;
  const eager = dissect(bytes, 'ip', { eager: true }).getLayer(TCPLayer)!;
  const read = [lazy.sport, lazy.dport, lazy.flags].join();
  if (read !== '20,60000,2' || read !== [eager.sport, eager.dport, eager.flags].join()) throw new Error(`dissect read sport,dport,flags ${read}, not 20,60000,2`);
}
if (!handBuilt().equals(bytes)) throw new Error(`the hand-written ceiling builds other bytes:\n  ${handBuilt().toString('hex')}\n  ${bytes.toString('hex')}`);
const cases = {
  build: () => {
    sink += synBytes().length;
  },
  buildCeiling: () => {
    sink += handBuilt().length;
  },
  buildArguments: () => {
    sink += synArguments();
  },
  dissect: () => {
    const tcp = dissect(bytes, 'ip').getLayer(TCPLayer)!;
    sink += tcp.sport + tcp.dport + tcp.flags;
  },
  dissectEager: () => {
    const tcp = dissect(bytes, 'ip', { eager: true }).getLayer(TCPLayer)!;
    sink += tcp.sport + tcp.dport + tcp.flags;
  },
  dissectCeiling: () => {
    sink += handParsed(bytes);
  },
};
type Case = keyof typeof cases;
const sizes = Object.fromEntries(Object.entries(cases).map(([k, fn]) => [k, sizeRound(fn)])) as Record<Case, number>;
const scapy = await startScapy();
const rates: Record<Case | 'scapyBuild' | 'scapyDissect', number[]> = { build: [], buildCeiling: [], buildArguments: [], dissect: [], dissectEager: [], dissectCeiling: [], scapyBuild: [], scapyDissect: [] };

console.log(`IPv4/TCP SYN, options mss 1460, sackOK, TS, nop, wscale 7 (${bytes.length} bytes); one core; CPU time; ${ROUNDS} interleaved rounds; Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (typeof scapy === 'string') console.log(scapy);
else if (scapy.hex !== bytes.toString('hex')) console.log(`WARNING: Scapy built different bytes:\n  scapy  ${scapy.hex}\n  synack ${bytes.toString('hex')}`);
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(cases) as Case[]) rates[name].push(round(cases[name], sizes[name]));
  if (typeof scapy !== 'string') {
    rates.scapyBuild.push(await scapy.round('build'));
    rates.scapyDissect.push(await scapy.round('dissect'));
  }
  console.log(`round ${r + 1}: ${Object.entries(rates).map(([k, v]) => `${k} ${fmt(v[r] ?? NaN)}`).join(', ')}`);
}
if (typeof scapy !== 'string') scapy.close();

const m = (k: keyof typeof rates): number => (rates[k].length ? median(rates[k]) : NaN);
const rows: string[][] = [['', 'synack pkt/s', `Scapy ${typeof scapy === 'string' ? '' : scapy.version} pkt/s`, 'synack/Scapy', 'ceiling pkt/s', 'of ceiling', 'target', 'of target', 'ns/pkt', 'met']];
// What no build through the public API can beat: the caller's argument literals, then the bytes written by hand.
const floor = 1 / (1 / m('buildArguments') + 1 / m('buildCeiling'));
for (const [name, ours, theirs, ceiling, target] of [
  ['build+serialize (public API)', m('build'), m('scapyBuild'), m('buildCeiling'), TARGETS.build],
  ['  the caller\'s argument literals alone', m('buildArguments'), NaN, NaN, NaN],
  ['  those + the hand-written encoder', floor, NaN, NaN, NaN],
  ['dissect, 3 fields read (lazy)', m('dissect'), m('scapyDissect'), m('dissectCeiling'), TARGETS.dissect],
  ['dissect, eager, same fields', m('dissectEager'), m('scapyDissect'), m('dissectCeiling'), NaN],
] as const) {
  rows.push([
    name,
    fmt(ours),
    fmt(theirs),
    Number.isNaN(theirs) ? '-' : `${(ours / theirs).toFixed(0)}x`,
    fmt(ceiling),
    Number.isNaN(ceiling) ? '' : `${((100 * ours) / ceiling).toFixed(0)}%`,
    Number.isNaN(target) ? '' : `>= ${fmt(target)}`,
    Number.isNaN(target) ? '' : `${((100 * ours) / target).toFixed(0)}%`,
    (1e9 / ours).toFixed(0),
    Number.isNaN(target) ? '' : ours >= target ? 'yes' : 'NO',
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
console.log('The ceilings are hand-written code for these exact bytes: no layers, no options list, no validation.');
console.log(
  `A public-API build also pays for its own arguments: ${fmt(m('buildArguments'))}/s for the two object literals alone, so no ` +
    `build written as above can pass ${fmt(floor)}/s here (those plus the hand-written encoder)${floor < TARGETS.build ? `, below the ${fmt(TARGETS.build)}/s target` : ''}.`,
);
if (sink === 0) console.log('');
