/**
 * Link-layer framing for injecting IP packets as whole frames (sendp, and sr's L2 fast path):
 * on lo an Ethernet header with zero MACs is what the kernel itself uses; on Ethernet-like
 * interfaces (veth) the source is the interface's MAC and the destination the next hop's,
 * from the kernel's neighbour table.
 */
import { writeMAC } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import type { LinkType } from '../packet/dissect.js';
import { interfaceInfo, neighborMAC, type Route } from './route.js';
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, ipOffset, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
} from '../wire/network-start.js';

export const ETHER_HEADER_LENGTH = 14;

/** The 14 bytes to put before an IP packet leaving by `route` on a link of type `link`. */
export function linkHeaderFor(route: Route, link: LinkType, ipVersion: 4 | 6): Buffer {
  if (link === 'ip' || link === 'ipv4' || link === 'ipv6') return Buffer.alloc(0);
  if (link !== 'ether') throw usageError(`cannot inject frames on ${route.iface}: its link type is ${String(link)}, not Ethernet`);
  const header = Buffer.alloc(ETHER_HEADER_LENGTH);
  header.writeUInt16BE(ipVersion === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 12);
  const info = interfaceInfo(route.iface);
  if (info.linkType === 'loopback') return header;
  const nextHop = route.gateway ?? route.dst;
  const mac = neighborMAC(nextHop, route.iface);
  if (!mac) {
    throw usageError(
      `the link-layer address of ${nextHop} on ${route.iface} is not known yet: send one packet with send() ` +
        `(the kernel resolves it), or give the Ether layer's dst yourself`,
    );
  }
  writeMAC(mac, header, 0);
  if (info.mac) writeMAC(info.mac, header, 6);
  return header;
}

/** An IP packet framed for the link: header and packet in one new Buffer. */
export function frame(header: Buffer, packet: Buffer): Buffer {
  if (header.length === 0) return packet;
  const out = Buffer.allocUnsafe(header.length + packet.length);
  header.copy(out, 0);
  packet.copy(out, header.length);
  return out;
}

/** Where the network-layer packet starts in a captured frame, or -1 when it is not IP (VLAN tags skipped). */
export function networkOffset(buf: Buffer, length: number, link: LinkType): number {
  const linkType = linkTypeNumber(link);
  return linkType < 0 ? -1 : ipOffset(buf, 0, length, linkType);
}

/** The LINKTYPE number of a link type (-1 for a name it does not know): per-packet loops resolve it once. */
export function linkTypeNumber(link: LinkType): number {
  return typeof link === 'number' ? link : (LINK_NUMBERS[link] ?? -1);
}

const LINK_NUMBERS: Readonly<Record<string, number>> = { ip: LINKTYPE_RAW, ipv4: LINKTYPE_RAW, ipv6: LINKTYPE_RAW, ether: LINKTYPE_ETHERNET, sll: LINKTYPE_LINUX_SLL, sll2: LINKTYPE_LINUX_SLL2, null: LINKTYPE_NULL, loop: LINKTYPE_LOOP };
