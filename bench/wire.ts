/**
 * The wire, side by side with its peers, on loopback (run as root):
 *   node --import tsx bench/wire.ts
 * - sr1 SYN -> SYN-ACK latency, p50/p99: synack vs Scapy 2.5's sr1 (L3RawSocket) vs the
 *   kernel's own connect();
 * - send rate of prebuilt SYNs to a closed port, counted as SYNs that reached the target's TCP:
 *   synack's send() vs hping3 --flood and its ceilings (C loops of raw sendto and of AF_PACKET
 *   send, raw-socket's bare loop), on a private namespace's lo and between two namespaces joined
 *   by veth (bench/helpers/send-rate.ts; --send-rounds N, --send-baseline DIR for an A/B);
 * - sr of 10,000 SYNs: all answered, and the time.
 */
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { IP, TCP, sr, sr1 } from '../src/index.js';
import { closeSharedCaptures } from '../src/io/capture-hub.js';
import { sendRateBench } from './helpers/send-rate.js';

if (process.getuid?.() !== 0) {
  console.log('bench/wire.ts needs root (raw sockets and captures): skipped');
  process.exit(0);
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const us = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(0)} µs`);

async function listen(): Promise<net.Server> {
  const s = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', 4096, r));
  return s;
}

const server = await listen();
const openPort = (server.address() as net.AddressInfo).port;

// 1. sr1 latency.
const N = 1000;
const ours: number[] = [];
for (let i = 0; i < 50; i++) await sr1(IP({ dst: '127.0.0.1' }).add(TCP({ sport: 20000 + i, dport: openPort })), { timeout: 1000 });
for (let i = 0; i < N; i++) {
  const t = performance.now();
  const r = await sr1(IP({ dst: '127.0.0.1' }).add(TCP({ sport: 21000 + i, dport: openPort, flags: 'S' })), { timeout: 1000 });
  ours.push((performance.now() - t) * 1000);
  if (!r) throw new Error('sr1 got no SYN-ACK');
}

const kernel: number[] = [];
for (let i = 0; i < N; i++) {
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = net.connect(openPort, '127.0.0.1', () => {
      kernel.push((performance.now() - t) * 1000);
      c.destroy();
      resolve();
    });
    c.on('error', reject);
  });
}

const scapyScript = `
import time, json, sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import conf, IP, TCP, sr1
from scapy.supersocket import L3RawSocket
conf.L3socket = L3RawSocket
conf.verb = 0
port = int(sys.argv[1]); out = []
for i in range(60):
    t = time.perf_counter()
    r = sr1(IP(dst="127.0.0.1")/TCP(sport=30000+i, dport=port, flags="S"), timeout=2)
    out.append((time.perf_counter() - t) * 1e6)
    if r is None: print("noreply", file=sys.stderr)
print(json.dumps(out[10:]))
`;
let scapy: number[] = [];
const py = spawnSync('/usr/bin/python3', ['-c', scapyScript, String(openPort)], { encoding: 'utf8', timeout: 120_000 });
try {
  scapy = JSON.parse(py.stdout.trim().split('\n').pop()!) as number[];
} catch {
  console.log('scapy run failed:', py.stderr.slice(0, 300));
}

console.log('\nsr1 SYN -> SYN-ACK on loopback');
console.log(`  synack sr1      p50 ${us(pct(ours, 50)).padStart(9)}  p99 ${us(pct(ours, 99)).padStart(9)}  (n=${N})`);
if (scapy.length) console.log(`  Scapy 2.5 sr1   p50 ${us(pct(scapy, 50)).padStart(9)}  p99 ${us(pct(scapy, 99)).padStart(9)}  (n=${scapy.length})`);
console.log(`  kernel connect  p50 ${us(pct(kernel, 50)).padStart(9)}  p99 ${us(pct(kernel, 99)).padStart(9)}  (n=${N})`);
if (scapy.length) console.log(`  synack is ${(pct(scapy, 50) / pct(ours, 50)).toFixed(0)}x faster than Scapy at p50; ${(pct(ours, 50) / pct(kernel, 50)).toFixed(1)}x the kernel's connect()`);
closeSharedCaptures();

// 2. Send rate of prebuilt SYNs beside hping3 --flood and the C ceilings, on lo and over veth
// (see bench/helpers/send-rate.ts for what is counted and how).
await sendRateBench();

// 3. sr of 10,000 SYNs.
const base = 50000;
const probes = IP({ dst: '127.0.0.1' }).add(TCP({ sport: 41000, dport: [[base, base + 9999]] as never, flags: 'S' }));
const t = performance.now();
const { answered, unanswered } = await sr(probes, { timeout: 2000 });
const ms = performance.now() - t;
console.log(`\nsr of 10,000 SYNs on loopback: ${answered.length} answered, ${unanswered.length} unanswered, ${ms.toFixed(0)} ms`);
closeSharedCaptures();
server.close();
