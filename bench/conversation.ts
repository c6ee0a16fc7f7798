/**
 * The whole 'get' / '200 ok' conversation, handshake and teardown included, end to end on
 * loopback, N times (default 200): synack's connect() beside Scapy 2.5's TCP_client doing the
 * same against the same server (a Node server that answers and closes at once).
 *
 * Scapy's client needs conf.L3socket = L3RawSocket on loopback, and a firewall rule of its
 * own against the kernel's RSTs (Scapy has no guard): installed here with iptables for the
 * server's port only, and removed in a finally, whatever happens.
 * Usage: node --import tsx bench/conversation.ts [N] [--scapy-n M]
 */
import { execFileSync, spawn } from 'node:child_process';
import { connect } from '../src/tcp/connect.js';
import { flushGuards } from '../src/tcp/guard.js';
import { closeSharedCaptures } from '../src/io/capture-hub.js';
import { onCleanup } from '../src/io/cleanup.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 200);
const scapyAt = args.indexOf('--scapy-n');
const SCAPY_N = scapyAt >= 0 ? Number(args[scapyAt + 1]) : Math.min(N, 30);
const PYTHON = '/usr/bin/python3';

if (process.getuid?.() !== 0) {
  console.log('bench/conversation.ts: skipped (needs root: raw sockets and a firewall rule)');
  process.exit(0);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

// One server for both clients, in its own process: answers 'get' with '200 ok' and closes at once.
const SERVER = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(128)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(1)  # a client that never sends 'get' must not stall the next ones
    try:
        c.recv(100); c.sendall(b'200 ok')
    except OSError:
        pass
    c.close()
`;
const server = spawn(PYTHON, ['-c', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  server.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
});

async function synackOnce(): Promise<number> {
  const t = performance.now();
  const c = await connect({ dst: '127.0.0.1', dport: port, timeout: 2000 });
  await c.send('get');
  const reply = await c.recvAll({ timeout: 2000 });
  await c.close({ timeout: 2000 });
  const ms = performance.now() - t;
  if (String(reply) !== '200 ok' || c.state !== 'CLOSED') throw new Error(`bad conversation: '${reply}' ${c.state}`);
  return ms;
}

// Warm up (JIT, the shared capture, the guard's table), then measure.
for (let i = 0; i < 10; i++) await synackOnce();
const ours: number[] = [];
for (let i = 0; i < N; i++) ours.push(await synackOnce());

const SCAPY = `
import sys, time
from scapy.all import conf, TCP_client, Raw
conf.L3socket = __import__('scapy.supersocket', fromlist=['L3RawSocket']).L3RawSocket
conf.iface = 'lo'  # the automaton listens with conf.L2listen on conf.iface
conf.verb = 0
port, n = int(sys.argv[1]), int(sys.argv[2])
out = []
for i in range(n):
    t = time.perf_counter()
    s = TCP_client.tcplink(Raw, '127.0.0.1', port)
    s.send(b'get')
    r = s.recv() if __import__('select').select([s], [], [], 3)[0] else None
    deadline = time.perf_counter() + 3
    while s.atmt.state.state != 'CLOSED' and time.perf_counter() < deadline:
        time.sleep(0.0002)
    ok = s.atmt.state.state == 'CLOSED' and r is not None and bytes(r) == b'200 ok'
    s.close()
    out.append((time.perf_counter() - t) * 1000 if ok else -1)
print(' '.join('%.3f' % x for x in out))
`;

const rule = ['OUTPUT', '-p', 'tcp', '-d', '127.0.0.1', '--dport', String(port), '--tcp-flags', 'RST', 'RST', '-m', 'comment', '--comment', 'synack-bench-scapy', '-j', 'DROP'];
let scapy: number[] = [];
let scapyNote = '';
/** Whether iptables-nft's own table was there before us: adding a rule creates it, removing the rule leaves it. */
const filterTableExisted = (() => {
  try {
    execFileSync('nft', ['list', 'table', 'ip', 'filter'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function removeScapyRule(): void {
  try {
    execFileSync('iptables', ['-D', ...rule], { stdio: 'ignore' });
  } catch {
    // Not installed, or already removed.
  }
  if (filterTableExisted) return;
  // The table we caused, now empty of rules: leave the machine as we found it.
  try {
    if (!execFileSync('iptables', ['-S'], { encoding: 'utf8' }).includes('-A ')) execFileSync('nft', ['delete', 'table', 'ip', 'filter'], { stdio: 'ignore' });
  } catch {
    // No nft, or no such table.
  }
}

// Removed in the finally below; and on SIGINT/SIGTERM too, through synack's cleanup registry.
const unregister = onCleanup(removeScapyRule);
try {
  execFileSync('iptables', ['-I', ...rule]);
  // Asynchronously: the server answering Scapy runs on this process's event loop.
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(PYTHON, ['-c', SCAPY, String(port), String(SCAPY_N)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
  if (run.status !== 0) scapyNote = `scapy run failed (status ${run.status}): ${run.stderr.trim().split('\n').slice(-1)[0]}`;
  else scapy = run.stdout.trim().split(/\s+/).map(Number);
} catch (err) {
  scapyNote = `scapy run failed: ${(err as Error).message}`;
} finally {
  removeScapyRule();
  unregister();
}

server.kill('SIGTERM');
await flushGuards();
closeSharedCaptures();

const p50 = percentile(ours, 50);
console.log(`conversation (handshake + 'get'/'200 ok' + teardown), loopback, p50 per conversation:`);
console.log(`  synack connect()    ${p50.toFixed(3)} ms   (p90 ${percentile(ours, 90).toFixed(3)} ms, n=${N})`);
const scapyOk = scapy.filter((x) => x >= 0);
if (scapyOk.length) {
  const s50 = percentile(scapyOk, 50);
  console.log(`  scapy TCP_client    ${s50.toFixed(3)} ms   (p90 ${percentile(scapyOk, 90).toFixed(3)} ms, n=${scapyOk.length}${scapyOk.length < scapy.length ? `, ${scapy.length - scapyOk.length} failed` : ''})`);
  console.log(`  ratio               ${(s50 / p50).toFixed(1)}x faster (target >= 50x; < 5 ms per conversation: ${p50 < 5 ? 'met' : 'NOT met'})`);
} else console.log(`  scapy TCP_client    unavailable: ${scapyNote || 'no result'}`);
process.exit(0);
