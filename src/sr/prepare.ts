/**
 * From what the user passes to send/sr to what leaves: packet sets expanded, an unset IP
 * source filled from the route (on a copy: the user's packet is not touched), the bytes
 * built once, and the route (interface, next hop) attached.
 */
import { Packet } from '../packet/packet.js';
import { packets as expandSet } from '../packet/sets.js';
import type { Layer } from '../layers/layer.js';
import { formatIPv4, formatIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import { routeTo, type Route } from '../io/route.js';
import { networkIndex } from './match.js';

/** What send/sr accept: packets (sets allowed), prebuilt IP bytes, or lists of either. */
export type PacketInput = Packet | Buffer | Iterable<Packet | Buffer>;

export interface Outgoing {
  /** The packet as sent (source filled in); for prebuilt bytes, undefined. */
  packet: Packet | undefined;
  /** The network-layer bytes (IP header first). */
  bytes: Buffer;
  family: 4 | 6;
  dst: string;
  route: Route;
}

/** Every packet the input stands for, in order. */
export function* eachPacket(input: PacketInput): Generator<Packet | Buffer> {
  if (input instanceof Packet) {
    yield* expandSet(input);
    return;
  }
  if (Buffer.isBuffer(input)) {
    yield input;
    return;
  }
  for (const item of input) {
    if (item instanceof Packet) yield* expandSet(item);
    else if (Buffer.isBuffer(item)) yield item;
    else throw usageError(`send/sr take Packets or Buffers of IP bytes, not ${typeof item}: build one with IP({dst}).add(TCP({dport}))`);
  }
}

/** Packets ready for the L3 sender. `iface` overrides the routed interface. */
export function prepareL3(input: PacketInput, iface?: string): Outgoing[] {
  const out: Outgoing[] = [];
  for (const item of eachPacket(input)) out.push(prepareOne(item, iface));
  return out;
}

/** One packet (a member of a set, not a set) or IP bytes, ready for the L3 sender. */
export function prepareOne(item: Packet | Buffer, iface?: string): Outgoing {
  return Buffer.isBuffer(item) ? fromBytes(item, iface) : fromPacket(item, iface);
}

function withIface(route: Route, iface: string | undefined): Route {
  return iface && iface !== route.iface ? { ...route, iface } : route;
}

function fromBytes(bytes: Buffer, iface: string | undefined): Outgoing {
  const version = bytes.length > 0 ? bytes[0]! >> 4 : 0;
  if (version === 4 && bytes.length >= 20) {
    const dst = formatIPv4(bytes, 16);
    return { packet: undefined, bytes, family: 4, dst, route: withIface(routeTo(dst), iface) };
  }
  if (version === 6 && bytes.length >= 40) {
    const dst = formatIPv6(bytes, 24);
    return { packet: undefined, bytes, family: 6, dst, route: withIface(routeTo(dst), iface) };
  }
  throw usageError('bytes given to send/sr must start with an IPv4 or IPv6 header (for whole frames use sendp)');
}

function fromPacket(packet: Packet, iface: string | undefined): Outgoing {
  const net = networkIndex(packet.layers);
  if (net !== 0) {
    const names = packet.layers.map((l) => l.name).join('/');
    throw usageError(
      net < 0
        ? `send/sr need an IP or IPv6 packet, got ${names || 'an empty packet'}: start it with IP({dst}) or IPv6({dst})`
        : `send/sr send from the IP layer, but ${names} starts with a link layer: use sendp for whole frames`,
    );
  }
  const ip = packet.layers[0]!;
  const family: 4 | 6 = ip.name === 'IPv6' || ip.name === 'IPerror6' ? 6 : 4;
  const dst = String((ip as unknown as { dst: string }).dst ?? ip.fields['dst' as never]);
  const route = withIface(routeTo(dst), iface);
  let sent = packet;
  if ((ip.fields as Record<string, unknown>).src === undefined) {
    const filled: Layer = ip.clone();
    (filled.fields as Record<string, unknown>).src = route.src;
    sent = new Packet([filled, ...packet.layers.slice(1)]);
  }
  return { packet: sent, bytes: sent.bytes(), family, dst, route };
}
