/**
 * A real Multipath TCP conversation, printed as tcpdump prints it. Inside a network namespace
 * of its own (198.51.100.1 and .2 on its loopback, the second announced by the path manager),
 * the kernel's MPTCP (IPPROTO_MPTCP sockets from Python) runs a connection through the
 * handshake (MP_CAPABLE), data (DSS), the announcement of the second address (ADD_ADDR and its
 * echo), a second subflow (MP_JOIN's three forms), a change to backup (MP_PRIO), the removal
 * of the address (REMOVE_ADDR) and an abortive close (MP_FASTCLOSE with MP_TCPRST), captured
 * there by tcpdump. synack's lines must equal `tcpdump -nn -r` line for line, plain, -v and -x.
 * Every wait in the driver polls the socket's MPTCP_INFO with a deadline; nothing is timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missing, oracleMissing } from './helpers/oracle.js';
import { isRoot } from './helpers/netns.js';
import { ourLines, tcpdumpLines } from './helpers/tcpdump-lines.js';

process.env.TZ = 'UTC';
const NS = `synack-mptcp-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'synack-mptcp-'));
const pcap = join(dir, 'mptcp.pcap');

function why(): string | undefined {
  if (!isRoot()) return 'needs root (network namespaces and capture)';
  const noTcpdump = oracleMissing('tcpdump', ['--version']);
  if (noTcpdump) return noTcpdump;
  const sysctl = spawnSync('sysctl', ['-n', 'net.mptcp.enabled'], { encoding: 'utf8' });
  if (sysctl.stdout.trim() !== '1') return missing('the kernel has no MPTCP (net.mptcp.enabled is not 1)');
  if (spawnSync('ip', ['mptcp', 'limits', 'show'], { stdio: 'ignore' }).status !== 0) return missing('ip mptcp does not run (iproute2 too old?)');
  return undefined;
}
const skip = why();

// The connection, step by step; each step waits for what the kernel reports, never for a time.
const DRIVER = String.raw`
import socket, sys, time, subprocess, struct
IPPROTO_MPTCP, SOL_MPTCP, MPTCP_INFO = 262, 284, 1
def info(s):
    return s.getsockopt(SOL_MPTCP, MPTCP_INFO, 64)
def until(what, test, limit=10.0):
    end = time.monotonic() + limit
    while not test():
        if time.monotonic() > end:
            sys.exit('timed out waiting for ' + what)
        time.sleep(0.01)
def endpoint(*args):
    subprocess.run(['ip', 'mptcp', 'endpoint', *args], check=True)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
srv.bind(('0.0.0.0', 7000)); srv.listen(1); srv.settimeout(10)
cl = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP); cl.settimeout(10)
cl.connect(('198.51.100.1', 7000)); conn, _ = srv.accept(); conn.settimeout(10)
cl.sendall(b'hello'); assert conn.recv(100) == b'hello'
until('the second subflow', lambda: info(cl)[0] >= 1)
conn.sendall(b'world'); assert cl.recv(100) == b'world'
endpoint('change', 'id', '1', 'backup')
conn.sendall(b'again'); assert cl.recv(100) == b'again'
endpoint('delete', 'id', '1')
until('the second subflow to close', lambda: info(cl)[0] == 0)
cl.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); cl.close()
try:
    conn.recv(100)
except ConnectionResetError:
    pass
conn.close(); srv.close()
`;

function ipns(args: string[]): void {
  execFileSync('ip', ['-n', NS, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Resolves when the child has printed `text` on stderr or ended; rejects after `ms`. */
function saidOrEnded(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no '${text}' from tcpdump within ${ms} ms: ${err}`)), ms);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe.skipIf(skip !== undefined)(`a live MPTCP connection against tcpdump${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let capture: ChildProcess | undefined;

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', NS]);
    ipns(['link', 'set', 'lo', 'up']);
    ipns(['addr', 'add', '198.51.100.1/32', 'dev', 'lo']);
    ipns(['addr', 'add', '198.51.100.2/32', 'dev', 'lo']);
    ipns(['mptcp', 'limits', 'set', 'subflow', '2', 'add_addr_accepted', '2']);
    ipns(['mptcp', 'endpoint', 'add', '198.51.100.2', 'dev', 'lo', 'id', '1', 'signal']);
    capture = spawn('ip', ['netns', 'exec', NS, 'tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-w', pcap, 'tcp port 7000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await saidOrEnded(capture, 'listening on', 10_000);
    writeFileSync(join(dir, 'driver.py'), DRIVER);
    const run = spawnSync('ip', ['netns', 'exec', NS, '/usr/bin/python3', join(dir, 'driver.py')], { encoding: 'utf8', timeout: 30_000 });
    if (run.status !== 0) throw new Error(`the MPTCP driver failed: ${run.stderr || run.error?.message}`);
    // Immediate mode hands tcpdump each packet as it comes (TPACKET_V3 would otherwise hold a
    // block for up to a second, and SIGINT drops what it holds); -U writes each one at once.
    const exited = new Promise<void>((resolve) => capture!.on('exit', () => resolve()));
    capture.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  }, 60_000);

  afterAll(() => {
    if (capture && capture.exitCode === null && capture.signalCode === null) capture.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('captured every MPTCP option the conversation takes', () => {
    const seen = new Set(tcpdumpLines(pcap, []).flatMap((l) => [...l.matchAll(/mptcp (\d+ [a-z-]+)/g)].map((m) => m[1]!)));
    for (const form of ['4 capable', '12 capable', '20 capable', '12 dss', '8 add-addr', '16 add-addr', '12 join', '16 join', '24 join', '3 prio', '4 rem-addr', '12 fast-close', '4 unknown']) {
      expect([...seen]).toContain(form);
    }
  });

  for (const flags of [[], ['-v'], ['-x']]) {
    it(`prints the capture as tcpdump -nn ${flags.join(' ')}`, () => {
      const expected = tcpdumpLines(pcap, flags);
      expect(expected.length).toBeGreaterThan(10);
      expect(ourLines(pcap, flags)).toEqual(expected);
    });
  }
});
