/**
 * `synack read` is `tcpdump -nn -r`: the same lines for a capture of real loopback traffic made
 * here (by tcpdump itself), with and without filters and display options, and for a generated
 * capture of several megabytes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ether, IP, IPv6, TCP, UDP, writePcap } from '../src/index.js';
import { ensureBuilt, isRoot, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-cli-read-'));
const capture = join(dir, 'lo.pcap');
const big = join(dir, 'big.pcap');
let tcpPort = 0;
let udpPort = 0;

function tcpdump(args: string[]): string {
  const r = spawnSync('tcpdump', ['-nn', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
  return r.stdout;
}

async function makeLoopbackCapture(): Promise<void> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d) => {
      s.write(`echo ${String(d)}`);
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tcpPort = (server.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  udpPort = udp.address().port;
  const dump = spawn('tcpdump', ['-i', 'lo', '-Z', 'root', '--immediate-mode', '-U', '-w', capture, `tcp port ${tcpPort} or udp port ${udpPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  await new Promise<void>((resolve) => dump.stderr.on('data', (d: Buffer) => (said += String(d)).includes('listening on') && resolve()));
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => {
      const c = net.connect(tcpPort, '127.0.0.1', () => c.write(`hello ${i}`));
      c.on('data', () => undefined);
      c.on('close', () => resolve());
      c.on('error', () => resolve());
    });
    await new Promise<void>((r) => udp.send(Buffer.from(`datagram ${i}`), udpPort, '127.0.0.1', () => r()));
  }
  await new Promise((r) => setTimeout(r, 300));
  dump.kill('SIGINT');
  await new Promise((r) => dump.on('close', r));
  udp.close();
  server.close();
}

/** A capture over 8 MB: TCP conversations over IPv4 and IPv6, and UDP. */
function makeBigCapture(): void {
  const w = writePcap(big, { linkType: 'ether' });
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < 9000; i++) {
    const v6 = i % 4 === 0;
    const a = v6 ? '2001:db8::10' : `198.51.100.${10 + (i % 50)}`;
    const b = v6 ? '2001:db8::1' : '198.51.100.1';
    const ip = (fwd: boolean) => (v6 ? IPv6({ src: fwd ? a : b, dst: fwd ? b : a }) : IP({ src: fwd ? a : b, dst: fwd ? b : a, id: i & 0xffff }));
    const sport = 40000 + i;
    const c = (i * 7919) >>> 0;
    const s = (i * 104729) >>> 0;
    const seg = (fwd: boolean, flags: string, seq: number, ack: number, data?: Buffer) => {
      let p = Ether({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).add(ip(fwd)).add(TCP({ sport: fwd ? sport : 9000, dport: fwd ? 9000 : sport, flags, seq, ack, window: 502 }));
      if (data) p = p.add(data);
      w.write(p, (t += 37));
    };
    seg(true, 'S', c, 0);
    seg(false, 'SA', s, c + 1);
    seg(true, 'A', c + 1, s + 1);
    seg(true, 'PA', c + 1, s + 1, Buffer.alloc(900, 0x61));
    seg(false, 'PA', s + 1, c + 901, Buffer.alloc(200, 0x62));
    seg(true, 'FA', c + 901, s + 201);
    seg(false, 'FA', s + 201, c + 902);
    seg(true, 'A', c + 902, s + 202);
    w.write(Ether({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).add(IP({ src: a.includes(':') ? '198.51.100.9' : a, dst: '198.51.100.1' })).add(UDP({ sport: 50000, dport: 41000 })).add(Buffer.alloc(40, 0x7a)), (t += 11));
  }
  w.close();
}

beforeAll(async () => {
  ensureBuilt();
  makeBigCapture();
  if (isRoot) await makeLoopbackCapture();
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synack read = tcpdump -nn -r', () => {
  const cases: string[][] = [[], ['-v'], ['-e'], ['-x'], ['-xx'], ['-S'], ['-vv', '-e']];
  for (const opts of cases) {
    it.skipIf(!isRoot)(`loopback capture ${opts.join(' ') || '(plain)'}`, async () => {
      const ours = await synack(['read', capture, ...opts]);
      expect(ours.code, ours.stderr).toBe(0);
      const theirs = tcpdump(['-r', capture, ...opts]);
      expect(theirs.split('\n').length).toBeGreaterThan(40);
      expect(ours.stdout).toBe(theirs);
      expect(ours.stderr).toBe(`reading from file ${capture}, link-type EN10MB (Ethernet), snapshot length 262144\n`);
    });
  }

  const filters = () => [`tcp and port ${tcpPort}`, 'udp', 'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0', `not tcp or dst port ${tcpPort}`, 'greater 70', 'less 66', 'ip and src host 127.0.0.1 and (tcp[13] = 0x18 or udp)'];
  it.skipIf(!isRoot)('filters pick the same packets as libpcap', async () => {
    for (const f of filters()) {
      const ours = await synack(['read', capture, f]);
      expect(ours.code, ours.stderr).toBe(0);
      const theirs = tcpdump(['-r', capture, f]);
      expect(theirs.length, f).toBeGreaterThan(0);
      expect(ours.stdout, f).toBe(theirs);
    }
  });

  it('a capture of 8+ MB (two threads) prints as tcpdump does', async () => {
    const ours = await synack(['read', big], { timeoutMs: 60_000 });
    expect(ours.code, ours.stderr).toBe(0);
    const theirs = tcpdump(['-r', big]);
    expect(theirs.split('\n').length).toBeGreaterThan(80_000);
    expect(ours.stdout === theirs).toBe(true);
    const filtered = await synack(['read', big, 'tcp[tcpflags] & tcp-syn != 0 and greater 60']);
    expect(filtered.stdout).toBe(tcpdump(['-r', big, 'tcp[tcpflags] & tcp-syn != 0 and greater 60']));
  });

  it('-c stops after N packets', async () => {
    const r = await synack(['read', big, '-c', '5']);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(5);
    expect(r.stdout).toBe(tcpdump(['-r', big, '-c', '5']));
  });

  it('--ladder draws each conversation; --svg writes them', async () => {
    const svg = join(dir, 'ladder.svg');
    const r = await synack(['read', big, '-c', '18', '--ladder', '--svg', svg]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('conversation 1: 2001:db8::10.40000 <-> 2001:db8::1.9000, 8 segments');
    expect(r.stdout).toContain('conversation 2: 198.51.100.11.40001 <-> 198.51.100.1.9000, 8 segments');
    expect(r.stdout).toMatch(/\|-+ \[S\] seq 0 -+>\|/);
    expect(r.stdout).toMatch(/\|<-+ \[S\.\] seq 0 ack 1 -+\|/);
    expect(existsSync(join(dir, 'ladder-1.svg'))).toBe(true);
    expect(readFileSync(join(dir, 'ladder-1.svg'), 'utf8')).toContain('<svg');
  });
});
