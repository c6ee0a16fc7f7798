/**
 * `synack sniff` without -i captures on `any`, whose frames are Linux cooked headers. cap 0.2.1
 * opens `any` with libpcap's default, LINUX_SLL (v1), and cannot ask for SLL2 the way tcpdump
 * 4.99 does, so the oracle is `tcpdump -i any -y LINUX_SLL` watching the same traffic at the
 * same time: the same lines (timestamps aside), a -w file tcpdump reads back the same, and
 * sniff() in the API reporting link 'sll' with CookedLinux/IP/TCP layers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniff } from '../src/index.js';
import { ensureBuilt, isRoot, startSynack, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-sniff-any-'));
let server: net.Server;
let port = 0;

beforeAll(async () => {
  ensureBuilt();
  server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d) => {
      s.write(`echo ${String(d)}`);
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
}, 120_000);

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exchange(): Promise<void> {
  await new Promise<void>((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('hello'));
    c.on('data', () => undefined);
    c.on('close', () => resolve());
    c.on('error', () => resolve());
  });
}

function untilListening(child: ChildProcess): Promise<void> {
  let said = '';
  return new Promise((resolve) => child.stderr!.on('data', (d: Buffer) => (said += String(d)).includes('listening on') && resolve()));
}

/**
 * tcpdump's ring in immediate mode is its -B buffer cut into snaplen-sized (256 KiB) slots: the
 * default 2 MiB holds 8 packets, and `any` sees each loopback packet twice, so it drops some.
 */
const BIG_RING = ['-B', '65536'];

/** Polls `ready` every 50 ms, at most 5 s. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
}

const noTime = (text: string): string[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{6} /, ''));

describe.skipIf(!isRoot)('sniff on any (root)', () => {
  it('prints what tcpdump -i any -y LINUX_SLL prints, and says the link type', async () => {
    const marker = dgram.createSocket('udp4');
    await new Promise<void>((r) => marker.bind(0, '127.0.0.1', r));
    const markerPort = marker.address().port;
    const filter = `tcp port ${port} or udp port ${markerPort}`;
    const dump = spawn('tcpdump', ['-nn', '-l', '-i', 'any', '-y', 'LINUX_SLL', '--immediate-mode', ...BIG_RING, filter], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    let expected = '';
    dump.stdout!.setEncoding('utf8').on('data', (d: string) => (expected += d));
    const dumpReady = untilListening(dump);
    const file = join(dir, 'any.pcap');
    const live = startSynack(['sniff', filter]);
    const written = startSynack(['sniff', '-w', file, filter]);
    await Promise.all([dumpReady, live.said('listening on'), written.said('listening on')]);
    await new Promise((r) => setTimeout(r, 200));
    await exchange();
    // A datagram after the exchange: once both have printed it, they have seen everything before it.
    await new Promise((r) => setTimeout(r, 100));
    await new Promise<void>((r) => marker.send('end', markerPort, '127.0.0.1', () => r()));
    await live.said('UDP, length 3');
    await until(() => expected.includes('UDP, length 3'));
    await new Promise((r) => setTimeout(r, 100));
    marker.close();
    dump.kill('SIGINT');
    live.kill('SIGINT');
    written.kill('SIGINT');
    await new Promise((r) => dump.on('close', r));
    const r = await live.wait();
    const w = await written.wait();
    expect(r.code, r.stderr).toBe(0);
    expect(w.code, w.stderr).toBe(0);
    expect(r.stderr).toContain('listening on any, link-type LINUX_SLL (Linux cooked v1), snapshot length 65535 bytes');
    expect(r.stdout).not.toContain('LLC');
    const want = noTime(expected);
    expect(want.length).toBeGreaterThanOrEqual(8);
    const ours = noTime(r.stdout);
    expect(ours.at(-1)).toMatch(/ UDP, length 3$/);
    expect(ours).toEqual(want);
    // The file has the cooked link type: tcpdump reads it back as the live lines.
    const back = spawnSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8' });
    expect(back.stderr).toContain('link-type LINUX_SLL (Linux cooked v1)');
    expect(noTime(back.stdout)).toEqual(ours);
  }, 30_000);

  it('-e prints the cooked header as tcpdump -e does', async () => {
    const filter = `tcp port ${port} and tcp[tcpflags] & tcp-syn != 0`;
    const dump = spawn('tcpdump', ['-nn', '-e', '-l', '-i', 'any', '-y', 'LINUX_SLL', '-c', '2', '--immediate-mode', ...BIG_RING, filter], { stdio: ['ignore', 'pipe', 'pipe'] });
    let expected = '';
    dump.stdout!.setEncoding('utf8').on('data', (d: string) => (expected += d));
    const dumpReady = untilListening(dump);
    const live = startSynack(['sniff', '-e', '-c', '2', filter]);
    await Promise.all([dumpReady, live.said('listening on')]);
    await new Promise((r) => setTimeout(r, 200));
    await exchange();
    await new Promise((r) => dump.on('close', r));
    const r = await live.wait();
    expect(noTime(r.stdout)).toEqual(noTime(expected));
    expect(r.stdout).toMatch(/^\S+  In 00:00:00:00:00:00 ethertype IPv4 \(0x0800\), length \d+: 127\.0\.0\.1\./m);
  }, 30_000);

  it("the API's sniff() reports the cooked link and decodes through it", async () => {
    const sniffer = sniff({ filter: `tcp port ${port}`, count: 2 });
    expect(sniffer.link).toBe('sll');
    await exchange();
    const packets = await sniffer.collect();
    expect(packets).toHaveLength(2);
    expect(packets[0]!.layers.map((l) => l.name)).toEqual(['CookedLinux', 'IP', 'TCP']);
  }, 20_000);

  it('a bad filter is diagnosed as read diagnoses it, not as libpcap\'s bare syntax error', async () => {
    const sniffed = await synack(['sniff', '-i', 'lo', 'tcp prot 80']);
    expect(sniffed.code).toBe(2);
    expect(sniffed.stderr).toBe("synack: bad filter 'tcp prot 80': unexpected 'prot' (did you mean 'port'?) at column 5\n");
    const file = join(dir, 'empty.pcap');
    const read = await synack(['build', '--pcap', file, "IP(dst='127.0.0.1')/TCP()"]).then(() => synack(['read', file, 'tcp prot 80']));
    expect(read.stderr).toBe(sniffed.stderr);
  });

  it("libpcap's warning about an interface without IPv4 does not reach stderr", async () => {
    const ns = `synack-cli${process.pid}`;
    const ip = (...args: string[]): void => void spawnSync('ip', args, { stdio: 'ignore' });
    ip('netns', 'add', ns);
    try {
      ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
      ip('-n', ns, 'link', 'set', 'v0', 'up');
      ip('-n', ns, 'link', 'set', 'v1', 'up');
      // stderr through a shell pipe, as at a terminal or `2>&1 | less` (a Node parent's stdio is
      // a socket pair, which cannot be reopened; see src/io/quiet-stderr.ts).
      const r = await synack(['sniff', '-i', 'v0', '--duration', '0.3'], { prefix: ['sh', '-c', '"$@" 2>&1 | cat', 'sh', 'ip', 'netns', 'exec', ns] });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/Warning|SIOCGIFADDR|no IPv4 address/);
      expect(r.stdout).toContain('listening on v0, link-type EN10MB (Ethernet)');
    } finally {
      ip('netns', 'del', ns);
    }
  });
});
