/**
 * The seed scenarios as functions: each starts its own real server, drives the client side
 * by hand (or the server side, for listen), and returns the conversations, what each
 * application received, and the kernel's socket states at the moments that matter. The
 * examples print these; the tests assert them packet by packet.
 */
import net from 'node:net';
import { connect, ephemeralPort, openConversation } from '../tcp/connect.js';
import { listen } from '../tcp/listen.js';
import type { Conversation } from '../tcp/conversation.js';
import { closedPort, REPLY, REQUEST, startGetServer, startPythonSocket, type ClosePolicy } from './servers.js';
import { kernelSockets, type KernelSocket } from './ss.js';

export interface Snapshot {
  /** When it was taken, in words. */
  moment: string;
  sockets: KernelSocket[];
}

export interface ScenarioResult {
  name: string;
  host: string;
  port: number;
  /** The hand-made conversations; the first is the one the scenario is about. */
  conversations: Conversation[];
  /** What the server application read (one entry per accepted connection). */
  serverReceived: string[];
  /** What our side received. */
  reply: string;
  /** Errors the hand-made side met on purpose (a refused connection...). */
  errors: string[];
  kernel: Snapshot[];
}

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function result(name: string, port: number, conversations: Conversation[]): ScenarioResult {
  return { name, host: HOST, port, conversations, serverReceived: [], reply: '', errors: [], kernel: [] };
}

function snap(r: ScenarioResult, moment: string): void {
  r.kernel.push({ moment, sockets: kernelSockets(r.port) });
}

/** Handshake, 'get', '200 ok', then whatever close the server's policy makes. */
async function getExchange(name: string, policy: ClosePolicy, body: (c: Conversation, r: ScenarioResult) => Promise<void>): Promise<ScenarioResult> {
  const server = await startGetServer(policy, HOST);
  const r = result(name, server.port, []);
  try {
    const c = await connect({ dst: HOST, dport: server.port, timeout: 2000 });
    r.conversations.push(c);
    try {
      await body(c, r);
    } finally {
      await c.release();
    }
    return r;
  } finally {
    r.serverReceived = server.received.map(String);
    await server.close();
  }
}

/** The server answers and closes at once: its FIN comes right behind the data, our FIN carries the ACK of both (3 packets). */
export function threePacketClose(): Promise<ScenarioResult> {
  return getExchange('3-packet close (server closes at once)', { kind: 'at-once' }, async (c, r) => {
    await c.send(REQUEST);
    r.reply = String(await c.recvAll({ timeout: 2000 }));
    await c.close();
    snap(r, 'after the close: the server closed first, so its socket waits in TIME-WAIT');
  });
}

/** The server closes 0.1 s after answering: its lone FIN is acked at once and our FIN follows (4 packets). */
export function fourPacketClose(): Promise<ScenarioResult> {
  return getExchange('4-packet close (server closes 0.1 s later)', { kind: 'after', ms: 100 }, async (c, r) => {
    await c.send(REQUEST);
    r.reply = String(await c.recvAll({ timeout: 2000 }));
    snap(r, "the server's FIN acked, ours not sent yet: the server waits in FIN-WAIT-2");
    await sleep(20);
    await c.close();
    snap(r, 'after the close: the server socket in TIME-WAIT');
  });
}

/** We close first: FIN-WAIT-1, FIN-WAIT-2 (the server sits in CLOSE-WAIT), its FIN, TIME-WAIT on our side. */
export function clientClosesFirst(): Promise<ScenarioResult> {
  return getExchange('the client closes first', { kind: 'after-peer', ms: 100 }, async (c, r) => {
    await c.send(REQUEST);
    r.reply = String(await c.recv({ timeout: 2000 }));
    await c.shutdown();
    snap(r, 'our FIN acked: we are in FIN-WAIT-2, the server in CLOSE-WAIT');
    await c.close();
    snap(r, 'after the close: we are in TIME-WAIT; the server socket is gone (LAST-ACK, then closed)');
  });
}

/**
 * Both sides close at once (CLOSING on both). On loopback the two FINs cannot cross by
 * chance, so the script makes them cross: it holds what arrives from the server's FIN on,
 * sends its own FIN as if that FIN had not come yet (acking the data before it), then lets
 * the server's FIN in.
 */
export function simultaneousClose(): Promise<ScenarioResult> {
  return getExchange('simultaneous close (CLOSING)', { kind: 'reply-later', ms: 50 }, async (c, r) => {
    c.holdIncoming({ hasFlags: 'F' });
    await c.send(REQUEST);
    await c.waitHeld({ hasFlags: 'F' }, { timeout: 2000 });
    await c.sendSegment({ flags: 'FA' });
    await sleep(2);
    snap(r, 'both FINs sent, neither acked: the server is in CLOSING');
    c.releaseHeld();
    r.reply = String(await c.recvAll({ timeout: 2000 }));
    await c.close();
    snap(r, 'after the close: TIME-WAIT on both sides');
  });
}

/** A SYN to a port nothing is bound to: the kernel answers RST-ACK. */
export async function synToClosedPort(): Promise<ScenarioResult> {
  const port = await closedPort(HOST);
  return refusedSyn('SYN to a closed port', port);
}

/** A port bound but not listening: Linux answers RST-ACK too (the seed's macOS stayed silent). */
export async function boundNotListening(): Promise<ScenarioResult> {
  const sock = await startPythonSocket('bind', HOST);
  try {
    return await refusedSyn('SYN to a port bound but not listening', sock.port, (r) => snap(r, 'while bound: `ss -tan` lists no socket (bound, neither listening nor connected)'));
  } finally {
    await sock.close();
  }
}

async function refusedSyn(name: string, port: number, during?: (r: ScenarioResult) => void): Promise<ScenarioResult> {
  const c = await openConversation({ dst: HOST, dport: port, sport: ephemeralPort() }, {});
  const r = result(name, port, [c]);
  try {
    during?.(r);
    await c.handshake(2000);
  } catch (err) {
    r.errors.push((err as Error).message);
  } finally {
    await c.release();
  }
  return r;
}

/**
 * A listener with backlog 1 whose application never accepts (Linux holds backlog + 1 = 2
 * connections in the accept queue, and 1 request in the SYN queue).
 * 1. A full handshake: one in the accept queue.
 * 2. A SYN, answered; its ACK held back for now: the SYN queue is full.
 * 3. A SYN, answered with a SYN cookie (net.ipv4.tcp_syncookies=1, the default), and acked:
 *    the accept queue is full (2).
 * 4. The ACK of 2 now finds the accept queue full and is dropped: the server retransmits its
 *    SYN-ACK (about 1 s later), and again each time our ACK is dropped.
 * 5. A fourth SYN is dropped outright, and our retransmission of it too.
 */
export async function fullBacklog(): Promise<ScenarioResult> {
  const sock = await startPythonSocket({ backlog: 1 }, HOST);
  const r = result('full listen backlog (backlog 1, never accepting)', sock.port, []);
  const open = async (): Promise<Conversation> => {
    const c = await openConversation({ dst: HOST, dport: sock.port, sport: ephemeralPort() }, {});
    r.conversations.push(c);
    return c;
  };
  try {
    const first = await open();
    await first.handshake(2000);
    const second = await open();
    second.state = 'SYN-SENT';
    await second.sendSegment({ flags: 'S', options: second.synOptions() });
    await second.expect({ flags: 'SA' }, { timeout: 2000 });
    const third = await open();
    await third.handshake(2000);
    snap(r, 'accept queue full (Recv-Q 2 on the LISTEN socket), one request in the SYN queue');
    await second.sendSegment({ flags: 'A' });
    // The server's SYN-ACK again (our ACK was dropped); our conversation acks it each time.
    await second.expect({ flags: 'SA' }, { timeout: 2500, pending: false });
    const fourth = await open();
    try {
      await fourth.handshake(1500);
    } catch (err) {
      r.errors.push(`fourth SYN: ${(err as Error).message}`);
    }
    snap(r, 'after the SYN-ACK and SYN retransmissions');
    for (const c of r.conversations) await c.abort();
    return r;
  } finally {
    for (const c of r.conversations) await c.release();
    await sock.close();
  }
}

/** The server never closes: after our FIN, its socket stays in CLOSE-WAIT (until our RST ends it). */
export function closeWaitLeft(): Promise<ScenarioResult> {
  return getExchange('CLOSE_WAIT left by a server that never closes', { kind: 'never' }, async (c, r) => {
    await c.send(REQUEST);
    r.reply = String(await c.recv({ timeout: 2000 }));
    await c.shutdown();
    snap(r, 'our FIN acked: the server socket in CLOSE-WAIT');
    await sleep(200);
    snap(r, '0.2 s later: still CLOSE-WAIT (the application never calls close)');
    await c.abort();
    await sleep(5);
    snap(r, 'after our RST: gone');
  });
}

/** TIME-WAIT stays with the side that closed first: here the server. */
export async function timeWaitOnFirstCloser(): Promise<ScenarioResult> {
  const r = await threePacketClose();
  r.name = 'TIME_WAIT on the side that closed first (the server)';
  return r;
}

/**
 * Both ends crafted the other way round: listen() is the server, driven by hand; a kernel
 * client (Node net) connects, sends 'get', reads '200 ok' and closes when we do.
 */
export async function handMadeServer(): Promise<ScenarioResult> {
  const port = await closedPort(HOST);
  const r = result('a hand-made server (listen) and a kernel client', port, []);
  const clientGot: Buffer[] = [];
  let client: net.Socket | undefined;
  let ended: Promise<void> = Promise.resolve();
  // The kernel client connects only once the listener is up (guard and capture in place).
  const accepting = listen({
    port,
    address: HOST,
    timeout: 3000,
    ready: () => {
      const s = net.connect({ host: HOST, port, allowHalfOpen: false });
      s.on('error', (err) => r.errors.push(`client: ${err.message}`));
      s.on('data', (d) => clientGot.push(d));
      s.write(REQUEST);
      ended = new Promise<void>((resolve) => s.on('close', () => resolve()));
      client = s;
    },
  });
  let c: Conversation | undefined;
  try {
    c = await accepting;
    r.conversations.push(c);
    const request = String(await c.recv({ timeout: 2000 }));
    r.serverReceived.push(request);
    await c.send(REPLY);
    await c.close();
    await Promise.race([ended, sleep(1000)]);
    r.reply = Buffer.concat(clientGot).toString();
    return r;
  } finally {
    client?.destroy();
    await c?.release();
  }
}
