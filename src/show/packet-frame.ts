/**
 * A Packet as a frame for the tcpdump printer: its bytes, and the link type its first layer
 * implies. A packet built without a link layer prints like raw IP, as tcpdump prints a
 * LINKTYPE_RAW capture.
 */
import type { Packet } from '../packet/packet.js';

const LINK_BY_FIRST_LAYER: Record<string, number> = {
  Ether: 1,
  CookedLinux: 113,
  CookedLinuxV2: 276,
  Loopback: 0,
  // No capture link type carries bare ARP; the printer takes -1 as "ARP, no link layer".
  ARP: -1,
};

export function packetFrame(p: Packet): { data: Buffer; linkType: number } {
  const first = p.layers[0];
  const linkType = (first && LINK_BY_FIRST_LAYER[first.name]) ?? 101;
  return { data: p.bytes(), linkType };
}
