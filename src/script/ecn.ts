/**
 * packetdrill's ECN marks: the two low bits of the IPv4 TOS byte (IPv6 traffic class), RFC 3168.
 * `[noecn]` 00, `[ect1]` 01, `[ect0]` 10, `[ce]` 11; `[ect01]` accepts either ECT codepoint.
 */
import type { EcnMark } from './ast.js';
import { IPv4Layer } from '../layers/ipv4.js';
import { IPv6Layer } from '../layers/ipv6.js';
import type { Packet } from '../packet/packet.js';

const BITS: Record<Exclude<EcnMark, 'ect01'>, number> = { noecn: 0, ect1: 1, ect0: 2, ce: 3 };

/** The TOS byte a '<' line's mark puts on the wire. */
export function ecnBits(mark: EcnMark): number {
  return mark === 'ect01' ? BITS.ect0 : BITS[mark];
}

/** The mark a live packet carries (IPv4 tos or IPv6 tc). */
export function packetEcn(p: Packet): Exclude<EcnMark, 'ect01'> {
  const ip = p.layers[0];
  const byte = ip instanceof IPv4Layer ? Number(ip.get('tos') ?? 0) : ip instanceof IPv6Layer ? Number(ip.get('tc') ?? 0) : 0;
  const bits = byte & 3;
  return bits === 3 ? 'ce' : bits === 2 ? 'ect0' : bits === 1 ? 'ect1' : 'noecn';
}

/** Whether a live mark satisfies the line's. */
export function ecnMatches(expected: EcnMark, live: EcnMark): boolean {
  return expected === 'ect01' ? live === 'ect0' || live === 'ect1' : expected === live;
}
