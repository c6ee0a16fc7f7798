/**
 * The SYN-flood exercise: a backlog-1 listener, 200 spoofed SYNs, then one honest connect().
 * Without SYN cookies (sysctl inside the server's namespace) the honest SYN is dropped with
 * the rest; with them the server answers it from a cookie. Root only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAddress, labDown, labExec, labRun, labServe, labUp } from '../src/lab/index.js';

const root = process.getuid?.() === 0;
if (!root) console.log('lab flood test skipped: it needs root (network namespaces, raw sockets)');
const lab = `lf${process.pid % 10000}`;

/** A kernel counter of the server's namespace, read from /proc (nstat keeps a history file shared across namespaces). */
function counter(file: 'snmp' | 'netstat', group: string, name: string): number {
  const lines = labExec('server', ['cat', `/proc/net/${file}`], { lab }).stdout.split('\n').filter((l) => l.startsWith(`${group}:`));
  const names = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[names.indexOf(name)]);
}

describe.skipIf(!root)('SYN flood against backlog 1', () => {
  beforeAll(() => {
    labDown({ name: lab });
    labUp({ name: lab, hosts: ['client', 'server'] });
  });
  afterAll(() => {
    if (root) labDown({ name: lab });
  });

  it('without syncookies the honest client is starved; with them it gets through', async () => {
    const server = hostAddress('server', 4, lab);
    const flood = async (port: number) => {
      const r = await labRun('client', 'flood', [server, String(port), '200'], { lab, timeout: 15_000 });
      if (r.code !== 0) throw new Error(r.stdout + r.stderr);
      return r.result as { sent: number; outcome: string; ms: number };
    };
    labExec('server', ['sysctl', '-qw', 'net.ipv4.tcp_syncookies=0'], { lab });
    labServe('backlog1', { lab, host: 'server', port: 7010 });
    const without = await flood(7010);
    expect(without.sent).toBe(200);
    expect(without.outcome).toBe('timeout');

    labExec('server', ['sysctl', '-qw', 'net.ipv4.tcp_syncookies=1'], { lab });
    labServe('backlog1', { lab, host: 'server', port: 7011 });
    const cookiesBefore = counter('netstat', 'TcpExt', 'SyncookiesSent');
    const withCookies = await flood(7011);
    expect(withCookies.outcome).toBe('connected');
    expect(counter('netstat', 'TcpExt', 'SyncookiesSent')).toBeGreaterThan(cookiesBefore);
  });
});
