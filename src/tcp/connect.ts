/**
 * connect(): a TCP conversation opened by hand. It finds the route, installs the kernel-RST
 * guard for the 4-tuple, leases the shared capture of the outgoing interface (running before
 * the SYN leaves), sends through a marked raw socket, and performs the three-way handshake.
 * Whatever happens, the guard, socket and capture are released with the conversation.
 */
import { routeTo } from '../io/route.js';
import { canonicalAddress, isIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import { Conversation, type ConversationOptions, type Endpoints } from './conversation.js';
import { checkAborted, raceAbort } from './abort.js';
import { installGuard, type Guard } from './guard.js';
import { openTcpWire, type TcpWire } from './wire.js';

export interface ConnectOptions extends ConversationOptions {
  dst: string;
  dport: number;
  sport?: number;
  /** Our address (default: the one the route to dst would use). */
  src?: string;
  /** Handshake timeout in ms (default 2000). */
  timeout?: number;
  /** Aborting it stops the handshake: the guard, capture and socket are released, the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export function checkPort(name: string, port: number): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`${name} ${typeof port === 'string' ? JSON.stringify(String(port).slice(0, 40)) : String(port)} is out of range: ports are integers 1-65535`);
}

export function checkAddress(addr: string, what = 'address'): void {
  // The address parser, not a pattern: what passes holds only digits, hex, '.' and ':', so it
  // is safe in the guard's nft line and in `ip route get`.
  canonicalAddress(addr, what);
}

const EPHEMERAL_LOW = 32768;
const EPHEMERAL_COUNT = 60999 - 32768 + 1;
let nextPort = Math.floor(Math.random() * EPHEMERAL_COUNT);

/**
 * A port in Linux's ephemeral range, 32768-60999: from a random start, then the next one each
 * time, so a process's back-to-back conversations never reuse a 4-tuple that a server still
 * holds in TIME-WAIT (random picks collide within a few hundred conversations).
 */
export function ephemeralPort(): number {
  nextPort = (nextPort + 1) % EPHEMERAL_COUNT;
  return EPHEMERAL_LOW + nextPort;
}

/**
 * Wires a conversation to the wire: raw socket out, shared capture in, guard around both.
 * Returns the conversation ready for handshake(), or for sendSegment() by hand.
 */
export async function openConversation(endpoints: Omit<Endpoints, 'src'> & { src?: string }, options: ConversationOptions): Promise<Conversation> {
  const { dst, dport, sport } = endpoints;
  checkAddress(dst, 'dst');
  if (endpoints.src !== undefined) {
    checkAddress(endpoints.src, 'src');
    if (isIPv6(endpoints.src) !== isIPv6(dst)) throw usageError(`src ${endpoints.src} and dst ${dst} are of different families: give both as IPv4 or both as IPv6`);
  }
  checkPort('dport', dport);
  checkPort('sport', sport);
  const route = routeTo(dst);
  const src = endpoints.src ?? route.src;
  const conversation = new Conversation({ src, sport, dst, dport }, options);
  let guard: Guard | undefined;
  let wire: TcpWire | undefined;
  // The kernel's RST would leave from our side of the 4-tuple, toward the peer. The guard's
  // nft round trip runs while we open the wire (nothing is sent before both are ready).
  const guarding = installGuard({ src, sport, dst, dport });
  try {
    wire = openTcpWire(route.iface, isIPv6(dst) ? 6 : 4, sport, dport, (p, from, to) => {
      if (from === dst && to === src) conversation.deliver(p);
    });
    guard = await guarding;
  } catch (err) {
    wire?.close();
    // A guard that did get installed is removed; one that failed has nothing to undo.
    if (guard) await guard.remove();
    else await guarding.then((g) => g.remove(), () => undefined);
    throw err;
  }
  const ownGuard = guard;
  conversation.attach(wire.link(dst, () => ownGuard.remove()));
  return conversation;
}

/** Performs the three-way handshake from crafted packets and returns the ESTABLISHED conversation. */
export async function connect(options: ConnectOptions): Promise<Conversation> {
  const { signal } = options;
  checkAborted(signal, 'connect()');
  const sport = options.sport ?? ephemeralPort();
  const conversation = await openConversation({ dst: options.dst, dport: options.dport, sport, ...(options.src ? { src: options.src } : {}) }, options);
  try {
    checkAborted(signal, 'connect()');
    await raceAbort(signal, conversation.handshake(options.timeout ?? 2000), 'connect()');
  } catch (err) {
    await conversation.release();
    throw err;
  }
  return conversation;
}
