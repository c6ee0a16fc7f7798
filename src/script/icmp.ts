/**
 * packetdrill's ICMP lines (`< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]`): the
 * type and code names packetdrill knows for ICMPv4 and ICMPv6, and the packet it builds for
 * them. packetdrill quotes the kernel's segment as an ICMP error does: the IP header of that
 * segment (kernel to script, its total length counting a 20-byte TCP header and the bracketed
 * payload) and the first 8 bytes after it, the ports and the sequence number. The sequence
 * number is the bracketed start in the kernel's relative space (0 when no brackets), mapped
 * onto its ISN: Linux ignores an ICMP error whose quoted seq lies outside the window.
 */
import { IP, ICMP, ICMPv6Unknown, IPv6, TCP } from '../packet/factories.js';
import type { Packet } from '../packet/packet.js';

type Codes = Readonly<Record<string, number>>;
interface TypeInfo {
  type: number;
  codes?: Codes;
}

const ICMPV4_UNREACHABLE: Codes = {
  net_unreachable: 0, host_unreachable: 1, protocol_unreachable: 2, port_unreachable: 3, frag_needed: 4,
  source_route_failed: 5, net_unknown: 6, host_unknown: 7, source_host_isolated: 8, net_prohibited: 9,
  host_prohibited: 10, net_unreachable_for_tos: 11, host_unreachable_for_tos: 12, packet_filtered: 13,
  precedence_violation: 14, precedence_cutoff: 15,
};

const ICMPV4_TYPES: Readonly<Record<string, TypeInfo>> = {
  echo_reply: { type: 0 }, unreachable: { type: 3, codes: ICMPV4_UNREACHABLE }, source_quench: { type: 4 },
  redirect: { type: 5 }, echo_request: { type: 8 }, time_exceeded: { type: 11 }, parameter_problem: { type: 12 },
  timestamp_request: { type: 13 }, timestamp_reply: { type: 14 }, information_request: { type: 15 },
  information_reply: { type: 16 }, address_mask_request: { type: 17 }, address_mask_reply: { type: 18 },
};

const ICMPV6_TYPES: Readonly<Record<string, TypeInfo>> = {
  unreachable: { type: 1, codes: { net_unreachable: 0, no_route: 0, admin_prohibited: 1, not_neighbour: 2, address_unreachable: 3, port_unreachable: 4 } },
  packet_too_big: { type: 2 },
  time_exceeded: { type: 3, codes: { exceeded_hop_limit: 0, exceeded_frag_time: 1 } },
  parameter_problem: { type: 4, codes: { header_field: 0, unknown_next_header: 1, unknown_option: 2 } },
  echo_request: { type: 128 }, echo_reply: { type: 129 },
};

const FAMILY_TYPES = { 4: ICMPV4_TYPES, 6: ICMPV6_TYPES } as const;

/** The IP header and the 8 bytes of TCP header an ICMP error quotes (RFC 792's "64 bits"). */
const QUOTED_TCP_BYTES = 8;
const TCP_HEADER_BYTES = 20;

/** `type_N` / `code_N`: packetdrill's tcpdump-style numbers for names it has no entry for. */
function numbered(word: string, prefix: 'type' | 'code'): number | undefined {
  const m = new RegExp(`^${prefix}_(\\d+)$`).exec(word);
  return m ? Number(m[1]) : undefined;
}

/**
 * The wire type and code for a family, or a one-line reason. A missing code is 0, as in
 * packetdrill; a name neither family knows is the parser's error (icmpNameProblem).
 */
export function resolveIcmp(family: 4 | 6, typeName: string, codeName: string | undefined): { type: number; code: number } | string {
  const info = FAMILY_TYPES[family][typeName];
  const type = info?.type ?? numbered(typeName, 'type');
  if (type === undefined || type > 255) return `ICMP${family === 6 ? 'v6' : ''} has no type '${typeName}' (${Object.keys(FAMILY_TYPES[family]).join(', ')}, or type_N)`;
  if (codeName === undefined) return { type, code: 0 };
  const code = info?.codes?.[codeName] ?? numbered(codeName, 'code');
  if (code === undefined || code > 255) {
    const known = info?.codes ? Object.keys(info.codes).join(', ') + ', or code_N' : 'code_N';
    return `ICMP${family === 6 ? 'v6' : ''} type '${typeName}' has no code '${codeName}' (${known})`;
  }
  return { type, code };
}

/** Why a type/code pair is unknown to both families (a parse error), or undefined. */
export function icmpNameProblem(typeName: string, codeName: string | undefined): string | undefined {
  const v4 = resolveIcmp(4, typeName, codeName);
  const v6 = resolveIcmp(6, typeName, codeName);
  if (typeof v4 !== 'string' || typeof v6 !== 'string') return undefined;
  if (!icmpTypeKnown(typeName)) return `unknown ICMP type '${typeName}' (${Object.keys(ICMPV4_TYPES).join(', ')}; ICMPv6 also packet_too_big; or type_N)`;
  return ICMPV4_TYPES[typeName] || numbered(typeName, 'type') !== undefined ? v4 : v6;
}

/** Whether either family has this type (a name or type_N). */
export function icmpTypeKnown(typeName: string): boolean {
  return ICMPV4_TYPES[typeName] !== undefined || ICMPV6_TYPES[typeName] !== undefined || numbered(typeName, 'type') !== undefined;
}

/** Whether `mtu N` fits: packetdrill takes it for unreachable frag_needed (v4) and packet_too_big (v6) only. */
export function icmpTakesMtu(typeName: string, codeName: string | undefined): boolean {
  return (typeName === 'unreachable' && codeName === 'frag_needed') || (typeName === 'packet_too_big' && codeName === undefined);
}

export interface IcmpSpec {
  type: number;
  code: number;
  mtu: number | undefined;
  /** Script side (outer source) and kernel side (outer destination). */
  src: string;
  dst: string;
  /** The script's port and the kernel's (the quoted segment goes kernel to script). */
  sport: number;
  dport: number;
  /** The quoted segment's sequence number on the wire, and its payload length. */
  seq: number;
  length: number;
}

/** The ICMP error packet packetdrill sends for an ICMP line (IPv4 or IPv6 by the addresses). */
export function icmpPacket(family: 4 | 6, s: IcmpSpec): Packet {
  const segment = TCP({ sport: s.dport, dport: s.sport, seq: s.seq, ack: 0, flags: 0, window: 0 });
  if (family === 4) {
    const quotedIp = IP({ src: s.dst, dst: s.src, len: 20 + TCP_HEADER_BYTES + s.length, id: 0, flags: 0, ttl: 0 }).add(segment);
    const quoted = quotedIp.bytes().subarray(0, 20 + QUOTED_TCP_BYTES);
    return IP({ src: s.src, dst: s.dst }).add(ICMP({ type: s.type, code: s.code, ...(s.mtu !== undefined && s.type === 3 ? { nexthopmtu: s.mtu } : {}) })).add(Buffer.from(quoted));
  }
  const quotedIp = IPv6({ src: s.dst, dst: s.src, plen: TCP_HEADER_BYTES + s.length, hlim: 0 }).add(segment);
  const quoted = quotedIp.bytes().subarray(0, 40 + QUOTED_TCP_BYTES);
  // The word after type, code and checksum: the MTU for packet too big, unused (0) otherwise.
  const word = Buffer.alloc(4);
  if (s.mtu !== undefined) word.writeUInt32BE(s.mtu >>> 0, 0);
  return IPv6({ src: s.src, dst: s.dst }).add(ICMPv6Unknown({ type: s.type, code: s.code, msgbody: Buffer.concat([word, quoted]) }));
}
