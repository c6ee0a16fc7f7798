/**
 * send (L3, through raw sockets) and sendp (L2, whole frames injected through cap).
 */
import { Packet } from '../packet/packet.js';
import { usageError } from '../wire/errors.js';
import { Capture } from '../io/capture.js';
import { linkHeaderFor, frame } from '../io/framing.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { routeTo } from '../io/route.js';
import { networkIndex } from './match.js';
import { eachPacket, prepareL3, type Outgoing, type PacketInput } from './prepare.js';
import { L3Senders } from './senders.js';
import { transmit } from './transmit.js';

export interface SendOptions {
  /** Send the whole list this many times (default 1). */
  count?: number;
  /** Milliseconds between packets. */
  inter?: number;
  /** send: leave by this interface (SO_BINDTODEVICE). sendp: the interface to inject on. */
  iface?: string;
  signal?: AbortSignal;
  /** Packets per event-loop turn (default 128). */
  window?: number;
}

function repeated<T>(items: T[], count: number | undefined): T[] {
  const n = count ?? 1;
  if (!Number.isInteger(n) || n < 1) throw usageError(`count must be a whole number >= 1, got ${String(count)}`);
  if (n === 1) return items;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(...items);
  return out;
}

/** Sends IP packets (or IP bytes) through raw sockets; resolves to how many left. */
export async function send(pkts: PacketInput, options: SendOptions = {}): Promise<number> {
  options.signal?.throwIfAborted();
  requireRawPrivilege('send');
  const items: Outgoing[] = repeated(prepareL3(pkts, options.iface), options.count);
  const senders = new L3Senders(options.iface);
  try {
    senders.open(items);
    await transmit(items, senders.trySend, { inter: options.inter, window: options.window ?? 1024, signal: options.signal });
  } finally {
    senders.close();
  }
  return items.length;
}

/**
 * Sends whole frames on an interface. A packet that starts at IP is framed for the link
 * (zero MACs on lo; the interface's and the next hop's MACs on Ethernet). Buffers are sent
 * as given. Resolves to how many frames left.
 */
export async function sendp(pkts: PacketInput, options: SendOptions = {}): Promise<number> {
  options.signal?.throwIfAborted();
  requireRawPrivilege('sendp');
  const packets = [...eachPacket(pkts)];
  const iface = options.iface ?? defaultIface(packets);
  // A capture that matches nothing: cap injects through its handle, and we want no copies back.
  const injector = new Capture(iface, () => {}, { filter: 'less 1', bufferSize: 1 << 20 });
  try {
    const frames = repeated(
      packets.map((p) => toFrame(p, iface, injector.link)),
      options.count,
    );
    await transmit(
      frames,
      (f) => {
        injector.inject(f);
        return true;
      },
      { inter: options.inter, window: options.window ?? 1024, signal: options.signal },
    );
    return frames.length;
  } finally {
    injector.close();
  }
}

function defaultIface(packets: (Packet | Buffer)[]): string {
  for (const p of packets) {
    if (p instanceof Packet && networkIndex(p.layers) === 0) return prepareL3(p)[0]!.route.iface;
  }
  throw usageError('sendp needs iface when the frames do not start with IP (e.g. sendp(frames, {iface: "lo"}))');
}

function toFrame(p: Packet | Buffer, iface: string, link: Capture['link']): Buffer {
  if (Buffer.isBuffer(p)) return p;
  if (networkIndex(p.layers) !== 0) return p.bytes();
  const out = prepareL3(p, iface)[0]!;
  const route = { ...routeTo(out.dst), iface };
  return frame(linkHeaderFor(route, link, out.family), out.bytes);
}
