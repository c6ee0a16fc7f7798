/** Names tcpdump prints for numbers (ipproto.c, ethertype.c), measured against tcpdump 4.99.3. */

const IP_PROTOS: Record<number, string> = {
  0: 'Options', 1: 'ICMP', 2: 'IGMP', 4: 'IPIP', 6: 'TCP', 8: 'EGP', 9: 'IGRP', 17: 'UDP', 33: 'DCCP',
  41: 'IPv6', 43: 'Routing', 44: 'Fragment', 46: 'RSVP', 47: 'GRE', 50: 'ESP', 51: 'AH', 55: 'Mobile IP',
  58: 'ICMPv6', 62: 'Mobile IP (old)', 88: 'EIGRP', 89: 'OSPF', 103: 'PIM', 108: 'Compressed IP',
  112: 'VRRP', 113: 'PGM', 132: 'SCTP', 135: 'Mobility', 143: 'Ethernet',
};

/** tok2str(ipproto_values, "unknown", p) for every protocol number. */
export const IP_PROTO_NAMES: readonly string[] = Array.from({ length: 256 }, (_, p) => IP_PROTOS[p] ?? 'unknown');

const ETHERTYPES: Record<number, string> = {
  0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q', 0x8035: 'Reverse ARP', 0x88cc: 'LLDP',
  0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x888e: 'EAPOL', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S',
  0x9000: 'Loopback', 0x88a8: '802.1Q-QinQ', 0x8137: 'IPX', 0x809b: 'Appletalk', 0x6558: 'TEB',
};

export function ethertypeName(type: number): string {
  return ETHERTYPES[type] ?? 'Unknown';
}
