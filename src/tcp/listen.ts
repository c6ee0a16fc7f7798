/**
 * listen(): the passive side of a conversation, driven by hand, so both ends of a lab can be
 * crafted. It waits for a SYN to one of our addresses and ports (no kernel socket listens
 * there), answers with a crafted SYN-ACK and takes the peer's ACK: SYN-RECEIVED, then
 * ESTABLISHED.
 *
 * The kernel-RST guard, and why it starts wider than connect()'s. With no socket on the port,
 * the kernel answers the peer's SYN with a RST in the same softirq that delivers it, long
 * before this process sees the SYN on its capture, so a 4-tuple rule cannot be installed in
 * time: the peer is unknown until its SYN is here. So while waiting, the guard covers our
 * address and port with the peer unknown (unmarked RSTs from <address>.<port> only); the
 * moment the SYN is seen, a 4-tuple guard for that peer goes in and the port guard comes out,
 * so every other peer (and every other port, all along) gets the kernel's RST again.
 * With `peer` given, SYNs from anyone else are ignored (and, while we wait, not answered by
 * the kernel either: the port is silent for the listener's short life, as a firewalled port).
 */
import { listInterfaces, routeTo } from '../io/route.js';
import { isIPv6 } from '../wire/addr.js';
import { SynackError, usageError } from '../wire/errors.js';
import { TCPFlag, TCPLayer } from '../layers/tcp.js';
import type { Packet } from '../packet/packet.js';
import { Conversation, type ConversationOptions } from './conversation.js';
import { checkAddress, checkPort } from './connect.js';
import { checkAborted, raceAbort } from './abort.js';
import { installGuard, type Guard } from './guard.js';
import { openTcpWire, type TcpWire } from './wire.js';

export interface ListenOptions extends ConversationOptions {
  port: number;
  /** Our address (default 127.0.0.1, or ::1 when `peer` is IPv6). Nothing in the kernel may listen on it. */
  address?: string;
  /** Take a SYN only from this address. */
  peer?: string;
  /** How long to wait for the SYN, and then for the handshake, in ms (default 10000). */
  timeout?: number;
  /** Called once the guard and the capture are in place: a peer may connect from then on. */
  ready?: () => void;
  /** false: return in SYN-RECEIVED right after the peer's SYN, for a SYN-ACK crafted by hand. */
  handshake?: boolean;
  /** Aborting it stops the wait (for the SYN or the handshake): guards, capture and socket are released, the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The interface a SYN to `address` comes in by: lo for loopback, else the one holding the address. */
function ingressInterface(address: string, peer: string | undefined): string {
  if (peer) return routeTo(peer).iface;
  if (address === '::1' || address.startsWith('127.')) return 'lo';
  const owner = listInterfaces().find((i) => i.addresses.includes(address));
  if (!owner) throw usageError(`address ${address} is not on any interface here: listen on one of this host's addresses (or give peer)`);
  return owner.name;
}

export async function listen(options: ListenOptions): Promise<Conversation> {
  const { port, peer, signal } = options;
  checkAborted(signal, 'listen()');
  checkPort('port', port);
  if (peer !== undefined) checkAddress(peer);
  const address = options.address ?? (peer && isIPv6(peer) ? '::1' : '127.0.0.1');
  checkAddress(address);
  const family = isIPv6(address) ? 6 : 4;
  const timeout = options.timeout ?? 10_000;
  const iface = ingressInterface(address, peer);

  let portGuard: Guard | undefined;
  let tupleGuard: Guard | undefined;
  let wire: TcpWire | undefined;
  let conversation: Conversation | undefined;
  let onSyn: ((c: Conversation) => void) | undefined;
  const removeGuards = async (): Promise<void> => {
    await tupleGuard?.remove();
    await portGuard?.remove();
  };
  try {
    portGuard = await installGuard({ src: address, sport: port });
    wire = openTcpWire(iface, family, port, undefined, (p, from, to) => {
      if (to !== address) return;
      if (conversation) {
        const c = conversation;
        if (from === c.endpoints.dst && p.layer(TCPLayer).get('sport') === c.endpoints.dport) c.deliver(p);
        return;
      }
      if (peer !== undefined && from !== peer) return;
      if ((p.layer(TCPLayer).flagBits & (TCPFlag.S | TCPFlag.A | TCPFlag.R)) !== TCPFlag.S) return;
      conversation = firstSyn(p, from, address, port, options);
      conversation.attach(wire!.link(from, removeGuards));
      conversation.deliver(p);
      onSyn?.(conversation);
    });
    options.ready?.();
    let timer: NodeJS.Timeout | undefined;
    const syn = new Promise<Conversation>((resolve, reject) => {
      timer = setTimeout(() => reject(new SynackError(`no SYN to ${address}.${port}${peer ? ` from ${peer}` : ''} within ${timeout} ms`, 'timeout')), timeout);
      onSyn = (found) => {
        clearTimeout(timer);
        resolve(found);
      };
    });
    let c: Conversation;
    try {
      c = await raceAbort(signal, syn, 'listen()');
    } finally {
      clearTimeout(timer);
    }
    // Narrow the guard to this peer at once: other peers get the kernel's RST again.
    tupleGuard = await installGuard({ src: address, sport: port, dst: c.endpoints.dst, dport: c.endpoints.dport });
    await portGuard.remove();
    checkAborted(signal, 'listen()');
    if (options.handshake !== false) await raceAbort(signal, c.passiveOpen(timeout), 'listen()');
    return c;
  } catch (err) {
    if (conversation) await conversation.release();
    else wire?.close();
    await removeGuards();
    throw err;
  }
}

function firstSyn(p: Packet, from: string, address: string, port: number, options: ConversationOptions): Conversation {
  const c = new Conversation({ src: address, sport: port, dst: from, dport: p.layer(TCPLayer).get('sport') }, options);
  c.state = 'LISTEN';
  return c;
}
