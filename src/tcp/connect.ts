/**
 * connect(): a TCP conversation opened by hand. It finds the route, installs the kernel-RST
 * guard for the 4-tuple, leases the shared capture of the outgoing interface (running before
 * the SYN leaves), sends through a marked raw socket, and performs the three-way handshake.
 * Whatever happens, the guard, socket and capture are released with the conversation.
 */
import { RawSender } from '../io/raw-sender.js';
import { leaseCapture, type HubLease } from '../io/capture-hub.js';
import { networkOffset } from '../io/framing.js';
import { routeTo } from '../io/route.js';
import { dissect } from '../packet/dissect.js';
import type { Packet } from '../packet/packet.js';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import { Conversation, type ConversationOptions, type Endpoints } from './conversation.js';
import { installGuard, type Guard } from './guard.js';

export interface ConnectOptions extends ConversationOptions {
  dst: string;
  dport: number;
  sport?: number;
  /** Handshake timeout in ms (default 2000). */
  timeout?: number;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`${name} ${port} is out of range: ports are 1-65535`);
}

/** A random port in Linux's ephemeral range, 32768-60999. */
export function ephemeralPort(): number {
  return 32768 + Math.floor(Math.random() * (60999 - 32768 + 1));
}

/**
 * Wires a conversation to the wire: raw socket out, shared capture in, guard around both.
 * Returns the conversation ready for handshake() (connect) or for a peer's SYN (listen).
 */
export async function openConversation(endpoints: Omit<Endpoints, 'src'> & { src?: string }, options: ConversationOptions): Promise<Conversation> {
  const { dst, dport, sport } = endpoints;
  if (!isIPv4(dst) && !isIPv6(dst)) throw usageError(`bad address '${dst}': give an IPv4 or IPv6 address like 127.0.0.1 or ::1`);
  checkPort('dport', dport);
  checkPort('sport', sport);
  const route = routeTo(dst);
  const src = endpoints.src ?? route.src;
  const conversation = new Conversation({ src, sport, dst, dport }, options);
  const family = isIPv6(dst) ? 6 : 4;
  let guard: Guard | undefined;
  let lease: HubLease | undefined;
  let sender: RawSender | undefined;
  const releaseAll = async (): Promise<void> => {
    lease?.release();
    sender?.close();
    await guard?.remove();
  };
  try {
    sender = new RawSender(family);
    // The kernel's RST would leave from our side of the 4-tuple, toward the peer.
    guard = await installGuard({ src, sport, dst, dport });
    lease = leaseCapture(route.iface, (buf, length, _time, link) => {
      const off = networkOffset(buf, length, link);
      if (off < 0) return;
      if (!isFromPeer(buf, off, length, family, dport, sport)) return;
      // The capture buffer is reused: dissect copies what it keeps.
      const p = dissect(buf.subarray(off, length), 'ip');
      if (p.layers[0]?.get('src' as never) !== dst) return;
      conversation.deliver(p);
    });
  } catch (err) {
    await releaseAll();
    throw err;
  }
  const activeSender = sender;
  conversation.attach({
    send: async (p: Packet) => {
      const bytes = p.bytes();
      // A full queue is rare for one conversation; yield and try again a few times.
      for (let i = 0; i < 100 && !activeSender.trySend(bytes, dst); i++) await new Promise((r) => setImmediate(r));
    },
    close: releaseAll,
  });
  return conversation;
}

/** Quick pre-filter on raw bytes before dissecting: TCP, and the ports of this conversation. */
function isFromPeer(buf: Buffer, off: number, length: number, family: 4 | 6, peerPort: number, ourPort: number): boolean {
  let tcp: number;
  if (family === 4) {
    if (length < off + 20 || buf[off]! >> 4 !== 4 || buf[off + 9] !== 6) return false;
    tcp = off + (buf[off]! & 15) * 4;
  } else {
    if (length < off + 40 || buf[off]! >> 4 !== 6 || buf[off + 6] !== 6) return false;
    tcp = off + 40;
  }
  if (length < tcp + 4) return false;
  return buf.readUInt16BE(tcp) === peerPort && buf.readUInt16BE(tcp + 2) === ourPort;
}

/** Performs the three-way handshake from crafted packets and returns the ESTABLISHED conversation. */
export async function connect(options: ConnectOptions): Promise<Conversation> {
  const sport = options.sport ?? ephemeralPort();
  const conversation = await openConversation({ dst: options.dst, dport: options.dport, sport }, options);
  try {
    await conversation.handshake(options.timeout ?? 2000);
  } catch (err) {
    await conversation.release();
    throw err;
  }
  return conversation;
}
