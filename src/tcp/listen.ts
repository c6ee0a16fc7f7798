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
 *
 * openListener() takes several peers on one port (a script's named connections in the
 * listening role): the port guard then stays until the last awaited peer's SYN is in and its
 * 4-tuple guarded, and listen() is openListener() for one peer.
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
  const { signal } = options;
  checkAborted(signal, 'listen()');
  const timeout = options.timeout ?? 10_000;
  const listener = await openListener({ ...options, peers: 1 });
  let c: Conversation | undefined;
  try {
    options.ready?.();
    c = await raceAbort(signal, listener.accept(timeout), 'listen()');
    // The one peer is in: the port guard goes (other peers get the kernel's RST again); the
    // wire stays with the conversation.
    await listener.close();
    checkAborted(signal, 'listen()');
    if (options.handshake !== false) await raceAbort(signal, c.passiveOpen(timeout), 'listen()');
    return c;
  } catch (err) {
    await c?.release();
    await listener.close();
    throw err;
  }
}

export interface ListenerOptions extends ConversationOptions {
  port: number;
  /** Our address (default 127.0.0.1, or ::1 when `peer` is IPv6). Nothing in the kernel may listen on it. */
  address?: string | undefined;
  /** Take SYNs only from this address. */
  peer?: string | undefined;
  /** How many peers it takes (default 1); the port guard stays until the last one's SYN is in. */
  peers?: number | undefined;
}

/** Several peers on one port, each a conversation of its own, in the order their SYNs came. */
export interface Listener {
  /**
   * The next peer, in LISTEN with its SYN delivered (pending for the caller) and its 4-tuple
   * guarded; rejects when none comes within `timeout` ms.
   */
  accept(timeout: number): Promise<Conversation>;
  /** Takes no more peers: the port guard goes; the wire goes with the last conversation. */
  close(): Promise<void>;
}

/**
 * The listening wire: the port guard and the capture at once (a peer may connect as soon as
 * this resolves), then one conversation per new peer's SYN, up to `peers`. Each peer's 4-tuple
 * gets its own guard the moment its SYN is seen; the port guard comes out once every peer it
 * waits for has its 4-tuple guard, or when the listener is closed. The peers' conversations
 * share the capture and the raw socket, which are released with the last of them.
 */
export async function openListener(options: ListenerOptions): Promise<Listener> {
  const { port, peer } = options;
  checkPort('port', port);
  if (peer !== undefined) checkAddress(peer);
  const address = options.address ?? (peer && isIPv6(peer) ? '::1' : '127.0.0.1');
  checkAddress(address);
  const family = isIPv6(address) ? 6 : 4;
  const peers = options.peers ?? 1;
  const iface = ingressInterface(address, peer);

  const portGuard = await installGuard({ src: address, sport: port });
  const byPeer = new Map<string, Conversation>();
  const waiting: Array<{ conversation: Conversation; guard: Promise<Guard> }> = [];
  const tupleGuards: Array<Promise<Guard>> = [];
  let wakeAccept: (() => void) | undefined;
  let stopAccept: (() => void) | undefined;
  let closed = false;
  let liveLinks = 0;
  let wire: TcpWire;
  const removePortGuard = async (): Promise<void> => {
    await Promise.allSettled(tupleGuards);
    await portGuard.remove();
  };
  const releaseWire = (): void => {
    if (closed && liveLinks === 0) wire.close();
  };
  try {
    wire = openTcpWire(iface, family, port, undefined, (p, from, to) => {
      if (to !== address) return;
      const sport = p.layer(TCPLayer).get('sport');
      const key = `${from}.${sport}`;
      const known = byPeer.get(key);
      if (known) {
        known.deliver(p);
        return;
      }
      if (closed || byPeer.size >= peers) return;
      if (peer !== undefined && from !== peer) return;
      if ((p.layer(TCPLayer).flagBits & (TCPFlag.S | TCPFlag.A | TCPFlag.R)) !== TCPFlag.S) return;
      const c = firstSyn(p, from, address, port, options);
      byPeer.set(key, c);
      const guard = installGuard({ src: address, sport: port, dst: from, dport: sport });
      guard.catch(() => undefined);
      tupleGuards.push(guard);
      const link = wire.link(from, async () => undefined);
      liveLinks++;
      c.attach({
        mtu: link.mtu,
        send: link.send,
        close: async () => {
          liveLinks--;
          releaseWire();
          await guard.then((g) => g.remove(), () => undefined);
        },
      });
      c.deliver(p);
      waiting.push({ conversation: c, guard });
      if (byPeer.size === peers) void removePortGuard();
      wakeAccept?.();
    });
  } catch (err) {
    await portGuard.remove();
    throw err;
  }
  return {
    async accept(timeout) {
      if (waiting.length === 0) {
        if (closed) throw new SynackError('the listener is closed', 'usage');
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve, reject) => {
          timer = setTimeout(() => reject(new SynackError(`no SYN to ${address}.${port}${peer ? ` from ${peer}` : ''} within ${timeout} ms`, 'timeout')), timeout);
          wakeAccept = resolve;
          stopAccept = () => reject(new SynackError('the listener is closed', 'usage'));
        }).finally(() => {
          clearTimeout(timer);
          wakeAccept = undefined;
          stopAccept = undefined;
        });
      }
      const next = waiting.shift()!;
      try {
        await next.guard;
      } catch (err) {
        await next.conversation.release();
        throw err;
      }
      return next.conversation;
    },
    async close() {
      if (closed) return;
      closed = true;
      stopAccept?.();
      // Peers whose SYN came but that nobody took: released (their guards go with them).
      for (const w of waiting.splice(0)) await w.conversation.release();
      await removePortGuard();
      releaseWire();
    },
  };
}

function firstSyn(p: Packet, from: string, address: string, port: number, options: ConversationOptions): Conversation {
  const c = new Conversation({ src: address, sport: port, dst: from, dport: p.layer(TCPLayer).get('sport') }, options);
  c.state = 'LISTEN';
  return c;
}
