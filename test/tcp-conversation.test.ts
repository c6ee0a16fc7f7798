/**
 * TCP conversations by hand against the real kernel (root only): every example's exchange
 * packet by packet (flags, relative seq and ack, lengths, our state after each), what the
 * server application received, the kernel's socket states (ss), no RST from our own kernel on
 * the wire (tcpdump runs through the whole file), the manual-level deviations, listen(), and
 * no firewall rule left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { TCPLayer } from '../src/layers/tcp.js';
import { RawLayer } from '../src/layers/raw.js';
import { tcpdumpFlags } from '../src/show/ladder.js';
import { connect, ephemeralPort, openConversation } from '../src/tcp/connect.js';
import { listen } from '../src/tcp/listen.js';
import { flushGuards } from '../src/tcp/guard.js';
import { runCleanups } from '../src/io/cleanup.js';
import { traceLines } from '../src/tcp/trace.js';
import type { Conversation } from '../src/tcp/conversation.js';
import * as S from '../examples/lib/scenarios.js';
import { startGetServer } from '../examples/lib/servers.js';

const root = process.getuid?.() === 0;
if (!root) console.log('tcp-conversation.test.ts: skipped, needs root (raw sockets, capture, nftables)');

type Row = [dir: 'out' | 'in', flags: string, seq: number, ack: number, len: number, state: string];

/** The trace as rows: seq relative to the sender's ISN, ack to the receiver's, as tcpdump shows them. */
function rows(c: Conversation): Row[] {
  const isn = { out: undefined as number | undefined, in: undefined as number | undefined };
  return c.trace.map((e) => {
    const tcp = e.packet.layer(TCPLayer);
    const raw = e.packet.getLayer(RawLayer);
    const len = raw && raw.name === 'Raw' ? raw.load.length : 0;
    isn[e.direction] ??= e.direction === 'out' ? c.iss : c.irs;
    const other = e.direction === 'out' ? 'in' : 'out';
    const otherIsn = other === 'out' ? c.iss : c.irs;
    const ack = tcp.flagBits & 0x10 ? (tcp.get('ack') - otherIsn) >>> 0 : 0;
    return [e.direction, tcpdumpFlags(tcp.flagBits), (tcp.get('seq') - isn[e.direction]!) >>> 0, ack, len, e.state];
  });
}

function states(r: S.ScenarioResult, moment: number): string[] {
  return r.kernel[moment]!.sockets.filter((s) => !s.local.endsWith(':*') && s.state !== 'LISTEN' && s.local.endsWith(`:${r.port}`)).map((s) => s.state);
}

const ours: Conversation[] = [];
function track(...cs: Conversation[]): void {
  ours.push(...cs);
}

/** Our sport -> how many RSTs we crafted from it (counted at the end, when every trace is complete). */
function craftedRsts(): Map<number, number> {
  const m = new Map<number, number>();
  for (const c of ours) {
    const rsts = c.trace.filter((e) => e.direction === 'out' && e.packet.layer(TCPLayer).flagBits & 0x04).length;
    m.set(c.endpoints.sport, (m.get(c.endpoints.sport) ?? 0) + rsts);
  }
  return m;
}

let tcpdump: ChildProcess | undefined;
let rstLines = '';

describe.skipIf(!root)('TCP conversations by hand', () => {
  beforeAll(async () => {
    // Every RST on loopback during the file; at the end, those from our ports must all be ours.
    tcpdump = spawn('tcpdump', ['-i', 'lo', '-nn', '-l', '-U', 'tcp[tcpflags] & tcp-rst != 0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    tcpdump.stdout!.on('data', (d) => (rstLines += d));
    await new Promise<void>((resolve) => tcpdump!.stderr!.on('data', (d) => String(d).includes('listening') && resolve()));
  });

  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 300));
    tcpdump?.kill('SIGINT');
    await new Promise((r) => tcpdump?.once('exit', r));
    await flushGuards();
    // Whatever a failed test left open goes too (vitest may end this fork without exit hooks).
    runCleanups();
    // No RST left our ports that we did not craft: the guard dropped every one of the kernel's.
    const ourPorts = craftedRsts();
    const fromUs = new Map<number, number>();
    for (const line of rstLines.split('\n')) {
      const m = /IP6? [\d.:a-f]+\.(\d+) > [\d.:a-f]+\.\d+: Flags \[R/.exec(line);
      if (m && ourPorts.has(Number(m[1]))) fromUs.set(Number(m[1]), (fromUs.get(Number(m[1])) ?? 0) + 1);
    }
    for (const [port, crafted] of ourPorts) {
      expect(fromUs.get(port) ?? 0, `RSTs from port ${port}:\n${rstLines.split('\n').filter((l) => l.includes(`.${port} `)).join('\n')}`).toBe(crafted);
    }
    // No firewall rule of ours left.
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(`synack_${process.pid}`);
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain(`synack:${process.pid}`);
  });

  it('3-packet close: the server closes at once, our FIN carries the ACK of its FIN', async () => {
    const r = await S.threePacketClose();
    const c = r.conversations[0]!;
    track(c);
    expect(rows(c)).toEqual<Row[]>([
      ['out', 'S', 0, 0, 0, 'SYN-SENT'],
      ['in', 'S.', 0, 1, 0, 'ESTABLISHED'],
      ['out', '.', 1, 1, 0, 'ESTABLISHED'],
      ['out', 'P.', 1, 1, 3, 'ESTABLISHED'],
      ['in', '.', 1, 4, 0, 'ESTABLISHED'],
      ['in', 'P.', 1, 4, 6, 'ESTABLISHED'],
      ['in', 'F.', 7, 4, 0, 'CLOSE-WAIT'],
      ['out', 'F.', 4, 8, 0, 'LAST-ACK'],
      ['in', '.', 8, 5, 0, 'CLOSED'],
    ]);
    expect(r.serverReceived).toEqual(['get']);
    expect(r.reply).toBe('200 ok');
    expect(states(r, 0)).toEqual(['TIME-WAIT']);
    expect(traceLines(c.trace)[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+: Flags \[S\], seq \d+, win 64240, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7\], length 0 +> SYN-SENT$/);
  });

  it('4-packet close: the lone FIN is acked at once, the server waits in FIN-WAIT-2', async () => {
    const r = await S.fourPacketClose();
    const c = r.conversations[0]!;
    track(c);
    expect(rows(c).slice(5)).toEqual<Row[]>([
      ['in', 'P.', 1, 4, 6, 'ESTABLISHED'],
      ['out', '.', 4, 7, 0, 'ESTABLISHED'],
      ['in', 'F.', 7, 4, 0, 'CLOSE-WAIT'],
      ['out', '.', 4, 8, 0, 'CLOSE-WAIT'],
      ['out', 'F.', 4, 8, 0, 'LAST-ACK'],
      ['in', '.', 8, 5, 0, 'CLOSED'],
    ]);
    expect(r.serverReceived).toEqual(['get']);
    expect(states(r, 0)).toEqual(['FIN-WAIT-2']);
    expect(states(r, 1)).toEqual(['TIME-WAIT']);
  });

  it('the client closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT; the server in CLOSE-WAIT meanwhile', async () => {
    const r = await S.clientClosesFirst();
    const c = r.conversations[0]!;
    track(c);
    expect(rows(c).slice(5)).toEqual<Row[]>([
      ['in', 'P.', 1, 4, 6, 'ESTABLISHED'],
      ['out', 'F.', 4, 7, 0, 'FIN-WAIT-1'],
      ['in', '.', 7, 5, 0, 'FIN-WAIT-2'],
      ['in', 'F.', 7, 5, 0, 'TIME-WAIT'],
      ['out', '.', 5, 8, 0, 'TIME-WAIT'],
    ]);
    expect(c.state).toBe('TIME-WAIT');
    expect(states(r, 0)).toEqual(['CLOSE-WAIT']);
    expect(states(r, 1)).toEqual([]);
  });

  it('simultaneous close: CLOSING on both sides, then TIME-WAIT on both', async () => {
    const r = await S.simultaneousClose();
    const c = r.conversations[0]!;
    track(c);
    const tail = rows(c).slice(-5);
    expect(tail).toEqual<Row[]>([
      ['in', 'P.', 1, 4, 6, 'ESTABLISHED'],
      ['out', 'F.', 4, 7, 0, 'FIN-WAIT-1'],
      ['in', 'F.', 7, 4, 0, 'CLOSING'],
      ['out', '.', 5, 8, 0, 'CLOSING'],
      ['in', '.', 8, 5, 0, 'TIME-WAIT'],
    ]);
    expect(r.serverReceived).toEqual(['get']);
    expect(states(r, 0)).toEqual(['CLOSING']);
    expect(states(r, 1)).toEqual(['TIME-WAIT']);
  });

  it('SYN to a closed port, and to a port bound but not listening: RST-ACK', async () => {
    for (const r of [await S.synToClosedPort(), await S.boundNotListening()]) {
      track(r.conversations[0]!);
      expect(rows(r.conversations[0]!)).toEqual<Row[]>([
        ['out', 'S', 0, 0, 0, 'SYN-SENT'],
        ['in', 'R.', 0, 1, 0, 'CLOSED'],
      ]);
      expect(r.errors[0]).toMatch(/refused/);
    }
  });

  it('a full backlog: SYN-ACK retransmitted when our ACK is dropped, a later SYN dropped', async () => {
    const cookies = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_syncookies'], { encoding: 'utf8' }).trim();
    const r = await S.fullBacklog();
    track(...r.conversations);
    const [, second, , fourth] = r.conversations;
    const listenLine = r.kernel[0]!.sockets.find((s) => s.state === 'LISTEN')!;
    expect(listenLine.recvQ).toBe(2);
    if (cookies === '1') {
      const synAcks = rows(second!).filter((x) => x[0] === 'in' && x[1] === 'S.');
      expect(synAcks.length).toBeGreaterThanOrEqual(2);
    }
    const f = rows(fourth!);
    expect(f.filter((x) => x[0] === 'in')).toEqual([]);
    expect(f.filter((x) => x[1] === 'S').length).toBeGreaterThanOrEqual(2);
  }, 20_000);

  it('CLOSE_WAIT left by a server that never closes, until our RST', async () => {
    const r = await S.closeWaitLeft();
    const c = r.conversations[0]!;
    track(c);
    expect(states(r, 0)).toEqual(['CLOSE-WAIT']);
    expect(states(r, 1)).toEqual(['CLOSE-WAIT']);
    expect(states(r, 2)).toEqual([]);
    expect(rows(c).slice(-3)).toEqual<Row[]>([
      ['out', 'F.', 4, 7, 0, 'FIN-WAIT-1'],
      ['in', '.', 7, 5, 0, 'FIN-WAIT-2'],
      ['out', 'R.', 5, 7, 0, 'CLOSED'],
    ]);
    expect(c.state).toBe('CLOSED');
  });

  it('listen(): a hand-made server and a kernel client', async () => {
    const r = await S.handMadeServer();
    const c = r.conversations[0]!;
    track(c);
    expect(rows(c).slice(0, 3)).toEqual<Row[]>([
      ['in', 'S', 0, 0, 0, 'SYN-RECEIVED'],
      ['out', 'S.', 0, 1, 0, 'SYN-RECEIVED'],
      ['in', '.', 1, 1, 0, 'ESTABLISHED'],
    ]);
    expect(r.serverReceived).toEqual(['get']);
    expect(r.reply).toBe('200 ok');
    expect(['TIME-WAIT', 'CLOSED']).toContain(c.state);
  });

  it('data: segmentation at the peer MSS, reassembly out of order, duplicates dropped, async iterator', async () => {
    const port = ephemeralPort();
    const accepting = listen({ port, timeout: 3000, ackDelay: 0 });
    await new Promise((r) => setTimeout(r, 50));
    const client = await connect({ dst: '127.0.0.1', dport: port, mss: 4 });
    const server = await accepting;
    track(client, server);
    expect(server.peerMss).toBe(4);
    await server.send('0123456789');
    const sizes = server.trace.filter((e) => e.direction === 'out' && e.packet.getLayer(RawLayer)).map((e) => e.packet.layer(RawLayer).load.length);
    expect(sizes).toEqual([4, 4, 2]);
    expect(String(await client.recv())).toBe('0123456789');
    // Out of order, then a duplicate: the client holds 'def', fills with 'abc', drops the copy.
    const base = server.sndNxt;
    await server.sendSegment({ flags: 'PA', seq: (base + 3) >>> 0, data: 'def' });
    await server.sendSegment({ flags: 'PA', seq: base, data: 'abc' });
    server.sndNxt = (base + 6) >>> 0;
    await server.sendSegment({ flags: 'PA', seq: base, data: 'abc' });
    await server.sendSegment({ flags: 'FA' });
    const chunks: string[] = [];
    for await (const chunk of client) chunks.push(String(chunk));
    expect(chunks.join('')).toBe('abcdef');
    await client.close();
    await server.close().catch(() => undefined);
  });

  it('the manual level: a guessed RST gets a challenge ACK, an old duplicate and an out-of-window segment get ACKs', async () => {
    const server = await startGetServer({ kind: 'never' });
    try {
      const c = await connect({ dst: '127.0.0.1', dport: server.port });
      track(c);
      await c.send('get');
      await c.recv();
      // RFC 5961 §3.2: in the window but not exactly rcv.nxt -> a challenge ACK, and the connection stays.
      await c.sendSegment({ flags: 'R', seq: (c.sndNxt + 100) >>> 0 });
      await c.expect({ flags: 'A', ack: c.sndNxt, length: 0 }, { timeout: 1000, pending: false });
      // An old duplicate of 'get': acked again (D-SACK), not delivered twice.
      await c.sendSegment({ flags: 'PA', seq: (c.iss + 1) >>> 0, data: 'get' });
      await c.expect({ flags: 'A', ack: c.sndNxt }, { timeout: 1000, pending: false });
      // Out of the window: a duplicate ACK (rate-limited by Linux to one per 0.5 s per socket).
      await new Promise((r) => setTimeout(r, 600));
      await c.sendSegment({ flags: 'PA', seq: (c.sndNxt + 0x40000000) >>> 0, data: 'x' });
      await c.expect({ flags: 'A', ack: c.sndNxt }, { timeout: 1000, pending: false });
      expect(c.state).toBe('ESTABLISHED');
      await c.abort();
      expect(server.received.map(String)).toEqual(['get']);
    } finally {
      await server.close();
    }
  });

  it('the manual level: SYN+FIN is ignored by Linux, a FIN with no data is acked, never acking shows retransmissions', async () => {
    const server = await startGetServer({ kind: 'never' });
    try {
      const synFin = await openConversation({ dst: '127.0.0.1', dport: server.port, sport: ephemeralPort() }, {});
      track(synFin);
      await synFin.sendSegment({ flags: 'SF', ack: 0, options: synFin.synOptions() });
      await expect(synFin.expect({}, { timeout: 400 })).rejects.toThrow(/no segment/);
      await synFin.release();

      const finFirst = await connect({ dst: '127.0.0.1', dport: server.port });
      track(finFirst);
      await finFirst.sendSegment({ flags: 'FA' });
      await finFirst.expect({ flags: 'A', ack: (finFirst.iss + 2) >>> 0 }, { timeout: 1000 });
      expect(finFirst.state).toBe('FIN-WAIT-2');
      await finFirst.abort();

      const silent = await connect({ dst: '127.0.0.1', dport: server.port, autoAck: false });
      track(silent);
      await silent.send('get');
      const first = await silent.expect({ length: 6 }, { timeout: 1000 });
      const again = await silent.expect({ length: 6 }, { timeout: 2000 });
      expect(again.layer(TCPLayer).get('seq')).toBe(first.layer(TCPLayer).get('seq'));
      await silent.abort();
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!root)('the guard under interruption', () => {
  it('SIGINT in the middle of a conversation leaves no rule behind', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const script = `import { connect } from ${JSON.stringify(new URL('../src/tcp/connect.ts', import.meta.url).pathname)};
const c = await connect({ dst: '127.0.0.1', dport: ${port} });
console.log('ESTABLISHED ' + c.endpoints.sport);
setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('ESTABLISHED')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    const table = `synack_${child.pid}`;
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).toContain(table);
    child.kill('SIGINT');
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    expect(signal === 'SIGINT' || code === 130).toBe(true);
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(table);
    server.close();
  });
});
