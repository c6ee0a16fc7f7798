/**
 * The wire against the real kernel: loopback in this process, and a second host in a network
 * namespace joined by veth (probed from a child process inside the first namespace). Root
 * only: without root every test is skipped with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, Raw, send, sniff, sr, sr1, type Packet } from '../src/index.js';
import { closeSharedCaptures } from '../src/io/capture-hub.js';
import { createNetnsPair, isRoot, type NetnsPair } from './helpers/netns.js';

const root = isRoot();
if (!root) console.log('wire tests skipped: they open raw sockets and captures, run them as root');

const flagsOf = (p: Packet | undefined): number | undefined => p?.getLayer('TCP')?.fields.flags as number | undefined;
const names = (p: Packet | undefined): string => p?.layers.map((l) => l.name).join('/') ?? 'no reply';

/** A port nobody listens on: bind, note, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!root)('wire on loopback', () => {
  const servers: net.Server[] = [];
  let openPort = 0;

  beforeAll(async () => {
    const s = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => s.listen(0, '::', r));
    servers.push(s);
    openPort = (s.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    closeSharedCaptures();
  });

  it('sr1: SYN to a listening port gets SYN-ACK, with time and RTT', async () => {
    const syn = IP({ dst: '127.0.0.1' }).add(TCP({ sport: 43001, dport: openPort, flags: 'S', seq: 1000 }));
    const { answered } = await sr(syn, { timeout: 1000 });
    expect(answered.length).toBe(1);
    const [sent, reply] = answered[0]!;
    expect(flagsOf(reply)).toBe(0x12);
    expect(reply.getLayer('TCP')!.fields.ack).toBe(1001);
    expect(sent.getLayer('IP')!.fields.src).toBe('127.0.0.1');
    expect(reply.time! - sent.time!).toBeCloseTo(answered[0]!.rtt, 3);
    expect(answered[0]!.rtt).toBeGreaterThan(0);
    expect(answered[0]!.rtt).toBeLessThan(100_000);
    expect(Math.abs(reply.time! / 1000 - Date.now())).toBeLessThan(5000);
  });

  it('sr1: SYN to a closed port gets RST-ACK', async () => {
    const port = await closedPort();
    const reply = await sr1(IP({ dst: '127.0.0.1' }).add(TCP({ sport: 43002, dport: port, flags: 'S' })), { timeout: 1000 });
    expect(flagsOf(reply)).toBe(0x14);
  });

  it('sr1: SYN over IPv6 loopback gets SYN-ACK', async () => {
    const reply = await sr1(IPv6({ dst: '::1' }).add(TCP({ sport: 43003, dport: openPort, flags: 'S' })), { timeout: 1000 });
    expect(names(reply)).toBe('IPv6/TCP');
    expect(flagsOf(reply)).toBe(0x12);
  });

  it.each([
    ['FIN', 'F', 0x14],
    ['Null', '', 0x14],
    ['Xmas', 'FPU', 0x14],
    ['ACK', 'A', 0x04],
  ])('%s probe with an ack number to a closed port gets its RST matched', async (_name, flags, want) => {
    const port = await closedPort();
    // A stray ack on FIN/Null/Xmas: the RST comes back with seq 0 and must still match.
    const probe = IP({ dst: '127.0.0.1' }).add(TCP({ sport: 43010, dport: port, flags, seq: 5000, ack: 123456 }));
    const reply = await sr1(probe, { timeout: 1000 });
    expect(flagsOf(reply)).toBe(want);
  });

  it('UDP to a closed port gets ICMP port unreachable matched, v4', async () => {
    const port = await closedPort();
    const reply = await sr1(IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43020, dport: port }), Raw({ load: 'x' })), { timeout: 1000 });
    expect(names(reply)).toMatch(/^IP\/ICMP\/IPerror\/UDPerror/);
    expect(reply!.getLayer('ICMP')!.fields).toMatchObject({ type: 3, code: 3 });
  });

  it('UDP to a closed port gets ICMPv6 port unreachable matched, v6', async () => {
    const port = await closedPort();
    const reply = await sr1(IPv6({ dst: '::1' }).add(UDP({ sport: 43021, dport: port })), { timeout: 1000 });
    expect(names(reply)).toMatch(/^IPv6\/ICMPv6DestUnreach\/IPerror6\/UDPerror/);
    expect(reply!.layers[1]!.fields).toMatchObject({ code: 4 });
  });

  it('an ICMP error quoting someone else\'s datagram does not match', async () => {
    const port = await closedPort();
    // Two probes to the same closed port from different source ports: each error goes to its own.
    const { answered } = await sr(
      [IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43022, dport: port })), IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43023, dport: port }))],
      { timeout: 1000 },
    );
    expect(answered.length).toBe(2);
    for (const [sent, reply] of answered) {
      expect(reply.getLayer('UDPerror')!.fields.sport).toBe(sent.getLayer('UDP')!.fields.sport);
    }
  });

  it('ICMP echo v4 and v6', async () => {
    const r4 = await sr1(IP({ dst: '127.0.0.1' }).add(ICMP({ id: 4242, seq: 7 })), { timeout: 1000 });
    expect(r4!.getLayer('ICMP')!.fields).toMatchObject({ type: 0, id: 4242, seq: 7 });
    const r6 = await sr1(IPv6({ dst: '::1' }).add(ICMPv6EchoRequest({ id: 4243, seq: 8 })), { timeout: 1000 });
    expect(names(r6)).toBe('IPv6/ICMPv6EchoReply');
    expect(r6!.layers[1]!.fields).toMatchObject({ id: 4243, seq: 8 });
  });

  it('sr of 1,000 SYNs to 1,000 ports: every one answered and classified', async () => {
    const base = 45000;
    const listening: number[] = [];
    for (const offset of [3, 250, 501, 777, 999]) {
      const s = net.createServer((c) => c.destroy());
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(base + offset, '127.0.0.1', resolve);
        });
        servers.push(s);
        listening.push(base + offset);
      } catch {
        // Port taken by something else on this machine: it answers SYN-ACK anyway.
      }
    }
    const probes = IP({ dst: '127.0.0.1' }).add(TCP({ sport: 44000, dport: [[base, base + 999]] as never, flags: 'S' }));
    const t0 = performance.now();
    const { answered, unanswered } = await sr(probes, { timeout: 2000 });
    const ms = performance.now() - t0;
    expect(unanswered.length).toBe(0);
    expect(answered.length).toBe(1000);
    const open = answered.filter(([, r]) => flagsOf(r) === 0x12).map(([s]) => s.getLayer('TCP')!.fields.dport as number);
    const closed = answered.filter(([, r]) => flagsOf(r) === 0x14);
    for (const port of listening) expect(open).toContain(port);
    expect(open.length + closed.length).toBe(1000);
    for (const [sent, reply] of answered) expect(reply.getLayer('TCP')!.fields.sport).toBe(sent.getLayer('TCP')!.fields.dport);
    console.log(`sr of 1000 SYNs on lo: ${ms.toFixed(0)} ms, ${open.length} open`);
  });

  it('sniff with a filter and a count', async () => {
    const port = await closedPort();
    const sniffer = sniff({ iface: 'lo', filter: `udp and dst port ${port}`, count: 3, timeout: 3000 });
    // Noise the filter must keep out, then five packets it lets in.
    await send(IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43030, dport: port + 1 })), { count: 2 });
    await send(IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43030, dport: port })), { count: 5 });
    const got = await sniffer.collect();
    expect(got.length).toBe(3);
    for (const p of got) {
      expect(names(p)).toMatch(/^Ether\/IP\/UDP/);
      expect(p.getLayer('UDP')!.fields.dport).toBe(port);
      expect(p.time).toBeGreaterThan(0);
    }
  });

  it('send with a count repeats the list in order, and a list too long to keep is prepared again each pass', async () => {
    // A bound UDP socket is the oracle: the kernel delivers what left, in order.
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    const port = (sink.address() as net.AddressInfo).port;
    const got: string[] = [];
    sink.on('message', (m) => got.push(String(m)));
    const datagram = (load: string): Packet => IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43031, dport: port })).add(Raw({ load }));
    try {
      // Replayed: passes after the first reuse the prepared packets (and so the same bytes).
      expect(await send([datagram('a'), datagram('b').bytes()], { count: 3 })).toBe(6);
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
      // More than send keeps (4096): every pass is prepared again, and all of them leave.
      const many = IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43031, dport: [[port + 1, port + 4097]] as never }));
      expect(await send(many, { count: 2 })).toBe(2 * 4097);
    } finally {
      sink.close();
    }
  });

  it('sniff ends on stop() and on an aborted signal', async () => {
    const s1 = sniff({ iface: 'lo', filter: 'udp and port 9' });
    setTimeout(() => s1.stop(), 50);
    expect(await s1.collect()).toEqual([]);
    const ac = new AbortController();
    const s2 = sniff({ iface: 'lo', filter: 'udp and port 9', signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect(await s2.collect()).toEqual([]);
  });

  it('a timeout with no answer resolves in time', async () => {
    // A bound UDP socket takes the datagram and answers nothing.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    try {
      const t0 = performance.now();
      const reply = await sr1(IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43040, dport: port })), { timeout: 300 });
      const ms = performance.now() - t0;
      expect(reply).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(800);
      const { answered, unanswered } = await sr(IP({ dst: '127.0.0.1' }).add(UDP({ sport: 43041, dport: port })), { timeout: 100, retry: 2 });
      expect(answered.length).toBe(0);
      expect(unanswered.length).toBe(1);
    } finally {
      sock.close();
    }
  });

  it('an aborted sr rejects and releases everything', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const t0 = performance.now();
      await expect(sr1(IP({ dst: '127.0.0.1' }).add(UDP({ dport: sock.address().port })), { timeout: 5000, signal: ac.signal })).rejects.toThrow();
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      sock.close();
    }
  });
});

describe.skipIf(!root)('wire between two namespaces (veth)', () => {
  let pair: NetnsPair | undefined;
  const OPEN = 7001;
  const CLOSED = 7003;
  const DROPPED = 7002;

  beforeAll(async () => {
    pair = createNetnsPair();
    // B: a listening server on both families, and a firewall that drops one port silently.
    const server = pair.spawn(pair.b, [process.execPath, '-e', `require('net').createServer(c=>c.destroy()).listen(${OPEN}, '::', () => console.log('up'))`]);
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`server in ${pair!.b} exited with ${code}`)));
    });
    pair.exec(pair.b, ['nft', '-f', '-'], `table inet synack_test {\n  chain input {\n    type filter hook input priority 0;\n    tcp dport ${DROPPED} drop\n  }\n}\n`);
  });

  afterAll(() => {
    pair?.remove();
  });

  it('SYN, UDP, echo and timeouts over veth, v4 and v6', () => {
    const output = pair!.exec(pair!.a, [
      process.execPath, '--import', 'tsx', 'test/helpers/wire-child.ts',
      pair!.addrB.v4, pair!.addrB.v6, String(OPEN), String(CLOSED), String(DROPPED),
    ]);
    const r = JSON.parse(output.trim().split('\n').pop()!) as Record<string, any>;
    expect(r.synOpen4).toEqual(['IP', 'TCP:18']);
    expect(r.synClosed4).toEqual(['IP', 'TCP:20']);
    expect(r.synOpen6).toEqual(['IPv6', 'TCP:18']);
    expect(r.udpClosed4?.slice(0, 4)).toEqual(['IP', 'ICMP:3/3', 'IPerror', 'UDPerror']);
    expect(r.udpClosed6?.slice(0, 4)).toEqual(['IPv6', 'ICMPv6DestUnreach:1/4', 'IPerror6', 'UDPerror']);
    expect(r.echo4).toEqual(['IP', 'ICMP:0/0']);
    expect(r.echo6).toEqual(['IPv6', 'ICMPv6EchoReply:129/0']);
    expect(r.dropped.reply).toBeUndefined();
    expect(r.dropped.ms).toBeLessThan(800);
    // 100 ports around the open one: the firewalled port is the one left unanswered.
    expect(r.scan).toEqual({ answered: 99, unanswered: [DROPPED], open: [OPEN] });
  });
});

describe.skipIf(!root)('privilege', () => {
  it('without root or CAP_NET_RAW: one clear error naming both ways out', () => {
    const script = `
      import { IP, TCP, sr1 } from './src/index.ts';
      try { await sr1(IP({dst:'127.0.0.1'}).add(TCP({dport: 9})), {timeout: 100}); console.log(JSON.stringify({ok: true})); }
      catch (e) { console.log(JSON.stringify({kind: e.kind, message: e.message})); }`;
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', env: { ...process.env, HOME: '/tmp', TSX_TSCONFIG_PATH: undefined } as NodeJS.ProcessEnv },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.kind).toBe('privilege');
    expect(r.message).toMatch(/root/);
    expect(r.message).toMatch(/setcap cap_net_raw,cap_net_admin\+ep/);
  });
});
