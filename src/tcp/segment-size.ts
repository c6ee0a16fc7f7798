/**
 * How much payload one segment may carry: the peer's MSS, and what fits in one IP packet on the
 * path once the IP header and the TCP header with its options are counted, where IPv4's total
 * length (IPv6's payload length) cannot pass 65,535:
 *   min(peer MSS, min(MTU, IPv4 65,535) - IP header - (20 + options))
 * On lo (MTU 65,536, peer MSS 65,495) with timestamps that is 65,483, which fits in one packet
 * (the peer MSS alone, 65,495, made 65,547-byte packets: "Message too long"). RFC 9293 §3.7.1
 * would also take the options off the MSS; the MSS is kept whole as the payload limit so that a
 * script's tiny MSS cuts data exactly there.
 */
const TCP_HEADER = 20;
const IP_LIMIT = 65535;

export interface SegmentLimits {
  peerMss: number;
  /** The interface MTU toward the peer. */
  mtu: number;
  family: 4 | 6;
  /** Bytes of TCP options each data segment carries (12 with timestamps). */
  tcpOptions: number;
}

export function maxSegmentPayload(l: SegmentLimits): number {
  const ipHeader = l.family === 4 ? 20 : 40;
  // IPv4's limit includes its header; IPv6's payload length excludes its own.
  const mmsS = l.family === 4 ? Math.min(l.mtu, IP_LIMIT) - ipHeader : Math.min(l.mtu - ipHeader, IP_LIMIT);
  return Math.max(1, Math.min(l.peerMss, mmsS - TCP_HEADER - l.tcpOptions));
}
