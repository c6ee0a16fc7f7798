/**
 * Segments crafted by synack against real kernel servers on 127.0.0.1, for the flags that
 * ordinary stacks rarely produce, written from the conversations' traces as pcap files:
 *   - out-of-order: the second half of a request sent before the first, well inside the
 *     initial RTT (the handshake's last ACK is held back 40 ms so the iRTT is long enough)
 *   - spurious retransmission: a segment sent again after the server acknowledged it
 *   - ACKed unseen segment: an ACK for server data that never was
 *   - zero window probe and its ACK: a server that does not read fills its small buffer,
 *     advertises a zero window, and answers a one-byte probe at the window's edge
 * Root only (raw sockets, the kernel-RST guard).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { openConversation, ephemeralPort } from '../../src/tcp/connect.js';
import type { Conversation } from '../../src/tcp/conversation.js';
import { writePcap } from '../../src/pcap/pcap-writer.js';
import { TCPLayer } from '../../src/layers/tcp.js';

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function writeTrace(file: string, conversations: Conversation[]): void {
  const w = writePcap(file, { linkType: 'ip' });
  const all = conversations.flatMap((c) => c.trace.map((e) => e.packet));
  all.sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  for (const p of all) w.write(p);
  w.close();
}

/** The handshake by hand, its last ACK held back `holdMs` (a long iRTT). */
async function slowOpen(port: number, holdMs: number): Promise<Conversation> {
  const c = await openConversation({ dst: HOST, dport: port, sport: ephemeralPort() }, {});
  await c.sendSegment({ flags: 'S', ack: 0, options: c.synOptions() });
  await c.expect({ flags: 'SA' }, { timeout: 2000 });
  await sleep(holdMs);
  await c.sendSegment({ flags: 'A' });
  return c;
}

async function sinkServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A Python server whose application never reads (for 5 s), with a small receive buffer. */
async function stalledServer(): Promise<{ port: number; close: () => void }> {
  const code = [
    'import socket, time',
    's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)',
    "s.bind(('127.0.0.1', 0)); s.listen(1); print(s.getsockname()[1], flush=True)",
    's.settimeout(5); c, _ = s.accept(); time.sleep(5)',
  ].join('\n');
  const child = spawn('/usr/bin/python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('python server did not start')), 5000);
    child.stdout.once('data', (d: Buffer) => {
      clearTimeout(t);
      resolve(Number(String(d).trim()));
    });
  });
  return { port, close: () => child.kill('SIGTERM') };
}

export async function captureCraftedTraffic(file: string): Promise<void> {
  const sink = await sinkServer();
  const stalled = await stalledServer();
  const conversations: Conversation[] = [];
  try {
    // Out-of-order, spurious retransmission, ACKed unseen segment.
    const c = await slowOpen(sink.port, 40);
    conversations.push(c);
    const start = c.sndNxt;
    await Promise.all([c.sendSegment({ seq: (start + 4) >>> 0, data: 'bbbb' }), c.sendSegment({ seq: start, data: 'aaaa' })]);
    c.sndNxt = (start + 8) >>> 0;
    await c.expect({ ack: c.sndNxt }, { timeout: 2000 });
    await sleep(5);
    await c.sendSegment({ seq: (start + 4) >>> 0, data: 'bbbb' });
    await c.expect({}, { timeout: 2000 });
    await c.sendSegment({ flags: 'A', ack: (c.rcvNxt + 100) >>> 0 });
    await sleep(20);
    await c.abort();

    // Zero window probe and its ACK.
    const z = await slowOpen(stalled.port, 0);
    conversations.push(z);
    // Fill exactly what the server offers (it drops what overruns its window) until it offers 0.
    let zero = false;
    let offered = 1000;
    for (let i = 0; i < 30 && !zero; i++) {
      const seq = z.sndNxt;
      await z.sendSegment({ data: Buffer.alloc(Math.min(1000, offered), 0x61) });
      const ack = await z.expect({ test: (t) => t.get('ack') !== seq }, { timeout: 500 }).catch(() => undefined);
      const tcp = ack?.getLayer(TCPLayer);
      if (!tcp) break;
      offered = tcp.get('window');
      if (offered === 0) zero = true;
    }
    if (!zero) throw new Error('the stalled server never advertised a zero window');
    await sleep(5);
    await z.sendSegment({ data: 'z' });
    await z.expect({}, { timeout: 1000 }).catch(() => undefined);
    await sleep(5);
    await z.abort();
  } finally {
    for (const c of conversations) await c.release();
    await sink.close();
    stalled.close();
    writeTrace(file, conversations);
  }
}
