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

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
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

/** Where the network-layer packet starts in a captured frame, or -1 when it is not IP. */
export function networkOffset(buf: Buffer, length: number, link: LinkType): number {
  switch (link) {
    case 'ip':
    case 'ipv4':
    case 'ipv6':
      return 0;
    case 'ether': {
      if (length < 14) return -1;
      let off = 12;
      let type = buf.readUInt16BE(off);
      // 802.1Q / 802.1ad tags: skip up to two.
      for (let i = 0; i < 2 && (type === 0x8100 || type === 0x88a8) && length >= off + 6; i++) {
        off += 4;
        type = buf.readUInt16BE(off);
      }
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? off + 2 : -1;
    }
    case 'sll': {
      if (length < 16) return -1;
      const type = buf.readUInt16BE(14);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? 16 : -1;
    }
    case 'sll2': {
      if (length < 20) return -1;
      const type = buf.readUInt16BE(0);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? 20 : -1;
    }
    case 'null':
    case 'loop':
      return length >= 4 ? 4 : -1;
    default:
      return -1;
  }
}
