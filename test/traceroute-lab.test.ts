/**
 * `synack traceroute` across a real router, and lab hosts addressed by name. The test builds a
 * lab with the real CLI (`synack lab up --hosts client,server,router`: client ns - router ns -
 * server ns on 198.51.100.0/26 and .64/26, 2001:db8:0:1::/64 and :2::/64) and removes it after.
 * Inside the router, an nft rule (in the lab's own namespace) remarks the DSCP of everything it
 * receives, so the header it quotes back differs from the probe: the traceroute must say so.
 * The router's ICMP rate limit is lifted in its namespace so every probe gets its answer.
 * Needs root (namespaces, raw sockets, captures); skips with the reason otherwise.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isRoot, synack } from './helpers/cli.js';

const LAB = `tr${process.pid % 100000}`;
const ns = (host: string): string => `synack-${LAB}-${host}`;
const inHost = (host: string): { prefix: string[]; timeoutMs: number } => ({ prefix: ['ip', 'netns', 'exec', ns(host)], timeoutMs: 20_000 });

const ROUTER_TO_CLIENT = { v4: '198.51.100.1', v6: '2001:db8:0:1::1' };
const SERVER = { v4: '198.51.100.66', v6: '2001:db8:0:2::2' };

interface ProbeJson {
  from?: string;
  answer?: string;
  rtt?: number;
  changed?: Array<{ layer: string; field: string; sent: number | string; quoted: number | string }>;
  quoted?: Record<string, number | string>;
}
interface TraceJson {
  reached: boolean;
  hops: Array<{ ttl: number; probes: ProbeJson[] }>;
}

async function trace(args: string[]): Promise<TraceJson> {
  const r = await synack(['traceroute', ...args, '--json'], inHost('client'));
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as TraceJson;
}

describe.skipIf(!isRoot)('traceroute and lab names, in a lab with a router (root)', () => {
  beforeAll(async () => {
    ensureBuilt();
    const up = await synack(['lab', 'up', '--lab', LAB, '--hosts', 'client,server,router'], { timeoutMs: 60_000 });
    expect(up.code, up.stderr).toBe(0);
    execFileSync('ip', ['netns', 'exec', ns('router'), 'sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    execFileSync('ip', ['netns', 'exec', ns('router'), 'nft', '-f', '-'], {
      input: 'table inet remark {\n chain pre {\n  type filter hook prerouting priority mangle\n  ip dscp set cs1\n  ip6 dscp set cs1\n }\n}\n',
    });
    const serve = await synack(['lab', 'serve', 'get', '--host', 'server', '--port', '7000', '--lab', LAB], { timeoutMs: 30_000 });
    expect(serve.code, serve.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await synack(['lab', 'down', '--lab', LAB], { timeoutMs: 60_000 });
  }, 60_000);

  it('TCP SYN (default): the router answers time-exceeded and its quote shows the DSCP it set, then the server answers SYN-ACK', async () => {
    const t = await trace([SERVER.v4, '-p', '7000', '-q', '2', '-m', '5']);
    expect(t.reached).toBe(true);
    expect(t.hops.map((h) => h.ttl)).toEqual([1, 2]);
    const [hop1, hop2] = t.hops;
    for (const p of hop1!.probes) {
      expect(p.from).toBe(ROUTER_TO_CLIENT.v4);
      expect(p.answer).toBe('time-exceeded');
      expect(p.rtt).toBeGreaterThan(0);
      expect(p.quoted!['ttl']).toBe(1);
      expect(p.quoted!['dst']).toBe(SERVER.v4);
      // cs1 is DSCP 8: TOS 0x20. The header checksum follows the change; nothing else changed.
      const changed = Object.fromEntries(p.changed!.map((c) => [`${c.layer} ${c.field}`, [c.sent, c.quoted]]));
      expect(changed['IP tos']).toEqual([0, 0x20]);
      expect(Object.keys(changed).sort()).toEqual(['IP chksum', 'IP tos']);
    }
    for (const p of hop2!.probes) {
      expect(p.from).toBe(SERVER.v4);
      expect(p.answer).toBe('SYN-ACK');
    }
  });

  it('UDP (-U) ends in the server\'s port unreachable; ICMP (-I) in its echo reply; the lab name resolves', async () => {
    const u = await trace(['server', '-U', '-q', '1']);
    expect(u.hops.map((h) => [h.probes[0]!.from, h.probes[0]!.answer])).toEqual([
      [ROUTER_TO_CLIENT.v4, 'time-exceeded'],
      [SERVER.v4, 'port-unreachable'],
    ]);
    const i = await trace(['server', '-I', '-q', '1']);
    expect(i.hops.map((h) => [h.probes[0]!.from, h.probes[0]!.answer])).toEqual([
      [ROUTER_TO_CLIENT.v4, 'time-exceeded'],
      [SERVER.v4, 'echo-reply'],
    ]);
  });

  it('IPv6: the hop limit, the router\'s quote with the traffic class it set', async () => {
    const t = await trace(['server', '-6', '-I', '-q', '1']);
    expect(t.hops.map((h) => [h.probes[0]!.from, h.probes[0]!.answer])).toEqual([
      [ROUTER_TO_CLIENT.v6, 'time-exceeded'],
      [SERVER.v6, 'echo-reply'],
    ]);
    const p = t.hops[0]!.probes[0]!;
    expect(p.quoted!['hlim']).toBe(1);
    expect(p.changed!.find((c) => c.field === 'tc')).toMatchObject({ sent: 0, quoted: 0x20 });
  });

  it('prints hops as traceroute does, with what changed under the router', async () => {
    const r = await synack(['traceroute', 'server', '-p', '7000', '-q', '1'], inHost('client'));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('traceroute to 198.51.100.66, 30 hops max, TCP SYN probes');
    expect(lines[1]).toMatch(/^ 1  198\.51\.100\.1 \(time-exceeded\)  [\d.]+ ms$/);
    expect(lines[2]).toMatch(/^ {6}changed on the way: tos 0x00 -> 0x20, chksum 0x[0-9a-f]{4} -> 0x[0-9a-f]{4}$/);
    expect(lines[3]).toMatch(/^ 2  198\.51\.100\.66 \(SYN-ACK\)  [\d.]+ ms$/);
  });

  it('names a lab host in other commands: handshake server:7000 and scan server', async () => {
    const h = await synack(['handshake', 'server:7000', '--send', 'get'], inHost('client'));
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/198\.51\.100\.66\.7000/);
    const s = await synack(['scan', 'server', '-p', '6999-7001', '--json'], inHost('client'));
    expect(s.code, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as { host: string; ports: { open: number[] } }).ports.open).toEqual([7000]);
    const unknown = await synack(['handshake', 'nosuch:7000'], inHost('client'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(new RegExp(`lab '${LAB}' has no host 'nosuch': its hosts are client, server, router`));
  });

  it('out of bounds even inside a lab, in one line', async () => {
    const r = await synack(['traceroute', '192.0.2.1'], inHost('client'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^synack: synack traceroute: 192\.0\.2\.1 is out of bounds: .*127\.0\.0\.0\/8/);
  });

  it('lab messages name the option that exists (--lab), and --name is taken as its other spelling', async () => {
    const again = await synack(['lab', 'up', '--lab', LAB, '--hosts', 'client,server,router']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`synack lab down --lab ${LAB}\` first, or pick another --lab`);
    expect(again.stderr).not.toContain('--name');
    const bad = await synack(['lab', 'status', '--lab', 'Bad!']);
    expect(bad.stderr).toMatch(/\(e\.g\. --lab lab2\)/);
    const status = await synack(['lab', 'status', '--name', LAB, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { name: string }).name).toBe(LAB);
  });
});

if (!isRoot) console.log('traceroute-lab: skipped: not root (namespaces, raw sockets and captures need it)');
