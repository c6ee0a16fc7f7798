/**
 * Local mode against this kernel (root: a network namespace, a veth pair, AF_PACKET): a set of
 * packetdrill's own gtests/net/tcp scripts, unmodified (test/fixtures/packetdrill, see its
 * README), pass; copies with one thing wrong fail at the right line and field (a return value,
 * an errno, a segment); lines that cannot be performed are reported as skipped by name; and
 * nothing is left behind (helper, namespace, processes a shell line started) after a pass, a
 * failure or Ctrl-C.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/index.js';
import { parseLocalScript, runLocal } from '../src/script/local/run.js';
import { cliWithin, spawnCli } from './helpers/script-cli.js';

const ROOT = join(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'packetdrill', 'tcp');
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('script-local.test: skipped: local mode makes a network namespace, which needs root');

const dir = mkdtempSync(join(tmpdir(), 'synack-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A script written next to the fixtures' common/ (so `../common/defaults.sh` resolves). */
function fixture(group: string, name: string): string {
  return readFileSync(join(FIXTURES, group, name), 'utf8');
}

/** The CLI to its end, with time for a folder of scripts (each a namespace and a few seconds of TCP). */
const cliLong = (args: string[]) => cliWithin(110_000, args);

const CLOSE = fixture('close', 'close-local-close-then-remote-fin.pkt');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie that its parent never reaped is gone for our purposes.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Processes in a network namespace other than ours whose command line names helper.py. */
function strayHelpers(): number[] {
  const ours = readlinkSync('/proc/self/ns/net');
  const out: number[] = [];
  for (const line of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || !m[2]!.includes('script/local/helper.py')) continue;
    try {
      if (readlinkSync(`/proc/${m[1]}/ns/net`) !== ours) out.push(Number(m[1]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(!isRoot)('local mode: packetdrill scripts against this kernel', () => {
  it("packetdrill's own scripts pass unchanged (a folder, TAP report)", async () => {
    const r = await cliLong(['script', '--local', FIXTURES, '--report', 'tap']);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
    expect(failed, r.stdout + r.stderr).toEqual([]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1\.\.\d+$/m);
  }, 120_000);

  it('a wrong return value fails at its line, field result', async () => {
    const text = CLOSE.replace('+0 write(3, ..., 1000) = 1000', '+0 write(3, ..., 1000) = 999');
    const line = text.split('\n').findIndex((l) => l.includes('= 999')) + 1;
    const r = await runLocal(parseLocalScript(text, join(FIXTURES, 'close', 'mutant.pkt')), { pcapOnFailure: false });
    expect(r.failure?.line).toBe(line);
    expect(r.failure?.field).toBe('result');
    expect(r.failure?.message).toContain('expected result 999, got 1000');
  });

  it('a wrong errno fails at its line, field errno; a wrong segment at its line, field length', async () => {
    const nonblocking = [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0',
      '+0 connect(3, ..., ...) = -1 EALREADY',
    ].join('\n');
    const r = await runLocal(parseLocalScript(nonblocking, 'errno.pkt'), { pcapOnFailure: false });
    expect(r.failure?.line).toBe(3);
    expect(r.failure?.field).toBe('errno');
    expect(r.failure?.message).toContain('expected errno EALREADY, got errno EINPROGRESS');

    const text = CLOSE.replace('+0 >  P. 1:1001(1000) ack 1', '+0 >  P. 1:801(800) ack 1');
    const line = text.split('\n').findIndex((l) => l.includes('1:801(800)')) + 1;
    const bad = await runLocal(parseLocalScript(text, join(FIXTURES, 'close', 'mutant.pkt')), { pcapOnFailure: false });
    expect(bad.failure?.line).toBe(line);
    expect(bad.failure?.field).toBe('length');
  });

  it("an ICMP line's code reaches the kernel: port_unreachable for host_unreachable fails the read at its errno", async () => {
    const text = fixture('fastopen/server/opt34', 'icmp-before-accept.pkt').replace('< icmp unreachable host_unreachable [0:10(10)]', '< icmp unreachable port_unreachable [0:10(10)]');
    const line = text.split('\n').findIndex((l) => l.includes('EHOSTUNREACH')) + 1;
    const r = await runLocal(parseLocalScript(text, join(FIXTURES, 'fastopen/server/opt34', 'mutant.pkt')), { pcapOnFailure: false });
    expect(r.failure?.line).toBe(line);
    expect(r.failure?.field).toBe('errno');
    expect(r.failure?.message).toContain('got errno ECONNREFUSED');
  });

  it('an ICMPv6 packet too big about the data in flight makes the kernel resend it at once (IPv6)', async () => {
    // Quoting a seq outside the window instead, the kernel ignores it and resends only at its RTO.
    const text = [
      '--ip_version=ipv6',
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0',
      '+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)',
      '+0 > S 0:0(0) <...>',
      '+.01 < S. 0:0(0) ack 1 win 65535 <mss 1440,nop,nop,sackOK>',
      '+0 > . 1:1(0) ack 1',
      '+0 write(3, ..., 1400) = 1400',
      '+0 > P. 1:1401(1400) ack 1',
      '+.01 < icmp packet_too_big mtu 1280 [1:1401(1400)]',
      '+0 > P. 1:1401(1400) ack 1',
    ].join('\n');
    const r = await runLocal(parseLocalScript(text, join(dir, 'ptb.pkt')), { pcapOnFailure: false });
    expect(r.failure?.message).toBeUndefined();
    expect(r.ok).toBe(true);
  });

  it('lines it cannot perform are skipped by name, and the rest still runs', async () => {
    const text = [
      // The namespace's own receive buffer sizes, so the window scale is packetdrill's 8.
      '`sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640"`',
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0',
      '+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", 4) = 0',
      '+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", [4]) = 0',
      '+0 setsockopt(3, SOL_TCP, TCP_MAXSEG, [1200], 4) = 0',
      '+0 bind(3, ..., ...) = 0',
      '+0 listen(3, 1) = 0',
      '+0 epoll_create(1) = 4',
      '+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>',
      '+0 > S. 0:0(0) ack 1 <mss 1200,nop,wscale 8>',
      '+0 %{ assert tcpi_state == 3 }%',
      '+.01 < . 1:1(0) ack 1 win 257',
      '+0 accept(3, ..., ...) = 5',
      '+0 getsockopt(5, SOL_TCP, TCP_INFO, {tcpi_state=1}, [4]) = 0',
      '+0 close(5) = 0',
      '+0 > F. 1:1(0) ack 1',
    ].join('\n');
    const r = await runLocal(parseLocalScript(text, 'skips.pkt'), { pcapOnFailure: false });
    expect(r.failure?.message).toBeUndefined();
    expect(r.skipped).toEqual([
      { line: 9, what: 'epoll_create() (epoll)' },
      { line: 12, what: 'python block' },
      { line: 15, what: 'getsockopt TCP_INFO into a struct' },
    ]);
    expect(r.namespace.madeMs).toBeGreaterThan(0);
  });

  it('a shell line runs inside the namespace, and a failing one fails the run', async () => {
    // The namespace's own sysctl, and only its interfaces: lo, tun0, peer0.
    const text = ['`sysctl -q net.ipv4.tcp_syn_retries=1 && test "$(ip -o link | wc -l)" = 3`', '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', '+0 `false`'].join('\n');
    const before = readFileSync('/proc/sys/net/ipv4/tcp_syn_retries', 'utf8');
    const r = await runLocal(parseLocalScript(text, 'shell.pkt'), { pcapOnFailure: false });
    expect(r.failure?.line).toBe(3);
    expect(r.failure?.field).toBe('shell');
    expect(readFileSync('/proc/sys/net/ipv4/tcp_syn_retries', 'utf8')).toBe(before);
  });

  it('leaves nothing behind after a pass, a failure, and Ctrl-C (helper, namespace, shell children)', async () => {
    expect(strayHelpers()).toEqual([]);
    const pidFile = join(dir, 'pids');
    const text = [`\`sleep 60 & echo $! $PPID > ${pidFile}\``, '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', '+0 bind(3, ..., ...) = 0', '+0 listen(3, 1) = 0', '+0...20 accept(3, ..., ...) = 4'].join('\n');
    const file = join(dir, 'wait.pkt');
    writeFileSync(file, text);
    const child = spawnCli(['script', '--local', file]);
    let output = '';
    child.stderr!.on('data', (d: Buffer) => (output += String(d)));
    const deadline = Date.now() + 20_000;
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim().split(' ').length < 2) {
      if (Date.now() > deadline) throw new Error(`the script never started: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [sleepPid, helperPid] = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
    expect(alive(sleepPid)).toBe(true);
    expect(alive(helperPid)).toBe(true);
    const exited = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 130 : null))));
    child.kill('SIGINT');
    await exited;
    const gone = Date.now() + 5000;
    while ((alive(sleepPid) || alive(helperPid)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(alive(sleepPid)).toBe(false);
    expect(alive(helperPid)).toBe(false);
    expect(strayHelpers()).toEqual([]);
  }, 40_000);
});
