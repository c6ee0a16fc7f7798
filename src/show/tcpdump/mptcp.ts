/**
 * The Multipath TCP option (TCP option kind 30, RFC 8684; v0 RFC 6824) as tcpdump 4.99.3 prints
 * it inside `options [...]` (print-mptcp.c): ` 20 capable v1 {0x...,0x...}`, ` 8 dss ack 256`,
 * ` 16 add-addr v1 id 3 198.51.100.1 hmac 0x...`, ` 12 fast-close key 0x...`. Each subtype is
 * printed only in the lengths (and, for the handshake ones, the TCP flags) the RFC gives it;
 * any other is a bad option, which ends the line. 4.99.3 knows subtypes 0-7: MP_TCPRST (8) and
 * anything above print as ` unknown`.
 *
 * The caller has checked that the whole option was captured and lowered the snapshot end to the
 * option's end, as tcpdump does, so no read here can run into the options after it.
 */
import { HEX2, type PrintContext } from './context.js';

const SYN = 0x02;
const ACK = 0x10;

/** Prints the option at `opt` (its kind byte), `len` bytes long; false when tcpdump calls it a bad option. */
export function printMPTCP(c: PrintContext, opt: number, len: number, tcpFlags: number): boolean {
  // tcpdump names the protocol here and never gives it back: a later cut-off prints [|mptcp].
  c.proto = 'mptcp';
  if (len < 3) return false;
  const subtype = Math.min(c.u8(opt + 2) >> 4, SUBTYPES.length - 1);
  c.w(' ' + len + ' ' + SUBTYPES[subtype]!.name);
  return SUBTYPES[subtype]!.print(c, opt, len, tcpFlags);
}

type SubtypePrinter = (c: PrintContext, opt: number, len: number, tcpFlags: number) => boolean;

/** MP_CAPABLE: the version, `csum` when the C bit asks for checksums, then the keys this form carries. */
function capable(c: PrintContext, opt: number, len: number, tcpFlags: number): boolean {
  const onSyn = (len === 12 || len === 4) && (tcpFlags & SYN) !== 0;
  const onThirdAck = (len === 20 || len === 22) && (tcpFlags & (SYN | ACK)) === ACK;
  if (!onSyn && !onThirdAck) return false;
  const version = c.u8(opt + 2) & 0xf;
  if (version > 1) {
    c.w(' Unknown Version (' + version + ')');
    return true;
  }
  c.w(' v' + version);
  if (c.u8(opt + 3) & 0x80) c.w(' csum');
  if (len === 12 || len >= 20) {
    c.w(' {0x' + hex64(c, opt + 4));
    if (len >= 20) c.w(',0x' + hex64(c, opt + 12));
    c.w('}');
  }
  return true;
}

/** MP_JOIN in its three forms, told apart by length: SYN (12), SYN/ACK (16), third ACK (24). */
function join(c: PrintContext, opt: number, len: number, tcpFlags: number): boolean {
  if (!(len === 12 && tcpFlags & SYN) && !(len === 16 && (tcpFlags & (SYN | ACK)) === (SYN | ACK)) && !(len === 24 && tcpFlags & ACK)) return false;
  if (len !== 24) {
    if (c.u8(opt + 2) & 0x01) c.w(' backup');
    c.w(' id ' + c.u8(opt + 3));
  }
  if (len === 12) c.w(' token 0x' + c.u32(opt + 4).toString(16) + ' nonce 0x' + c.u32(opt + 8).toString(16));
  else if (len === 16) c.w(' hmac 0x' + hex64(c, opt + 4) + ' nonce 0x' + c.u32(opt + 12).toString(16));
  else {
    c.w(' hmac 0x');
    for (let i = 0; i < 20; i++) c.w(HEX2[c.u8(opt + 4 + i)]!);
  }
  return true;
}

/** DSS: the flags say which parts follow (data ACK of 4 or 8 bytes, a mapping with a 4- or 8-byte DSN, a checksum if room is left). */
function dss(c: PrintContext, opt: number, len: number, tcpFlags: number): boolean {
  if (len < 4 || tcpFlags & SYN) return false;
  const flags = c.u8(opt + 3);
  if (flags & 0x10) c.w(' fin');
  let p = opt + 4;
  let left = len - 4;
  if (flags & 0x01) {
    c.w(' ack ');
    const size = flags & 0x02 ? 8 : 4;
    if (left < size) return false;
    c.w(size === 8 ? dec64(c, p) : String(c.u32(p)));
    p += size;
    left -= size;
  }
  if (flags & 0x04) {
    c.w(' seq ');
    const size = flags & 0x08 ? 8 : 4;
    if (left < size) return false;
    c.w(size === 8 ? dec64(c, p) : String(c.u32(p)));
    p += size;
    left -= size;
    if (left < 4) return false;
    c.w(' subseq ' + c.u32(p));
    p += 4;
    left -= 4;
    if (left < 2) return false;
    c.w(' len ' + c.u16(p));
    p += 2;
    left -= 2;
    // The checksum is there only when it was negotiated: tcpdump takes two bytes left over as it.
    if (left >= 2) {
      c.w(' csum 0x' + c.u16(p).toString(16));
      left -= 2;
    }
  }
  return left === 0;
}

/** ADD_ADDR's low four bits: v0's IP version, or v1's echo bit. */
const ADD_ADDR_VERSION: Record<number, string> = { 6: 'v0-ip6', 4: 'v0-ip4', 1: 'v1-echo', 0: 'v1' };

/** ADD_ADDR: the address family, port and HMAC are all told by the length alone. */
function addAddr(c: PrintContext, opt: number, len: number): boolean {
  const v4 = len === 8 || len === 10 || len === 16 || len === 18;
  const v6 = len === 20 || len === 22 || len === 28 || len === 30;
  if (!v4 && !v6) return false;
  c.w(' ' + (ADD_ADDR_VERSION[c.u8(opt + 2) & 0xf] ?? '[bad version/echo]') + ' id ' + c.u8(opt + 3) + ' ');
  const end = opt + 4 + (v4 ? 4 : 16);
  if (v4) c.wipv4(opt + 4);
  else c.wipv6(opt + 4);
  const withPort = len === 10 || len === 18 || len === 22 || len === 30;
  if (withPort) c.w(':' + c.u16(end));
  if (len === 16 || len === 18 || len === 28 || len === 30) c.w(' hmac 0x' + hex64(c, withPort ? end + 2 : end));
  return true;
}

/** REMOVE_ADDR: the list of address IDs. */
function removeAddr(c: PrintContext, opt: number, len: number): boolean {
  if (len < 4) return false;
  c.w(' id');
  for (let i = 3; i < len; i++) c.w(' ' + c.u8(opt + i));
  return true;
}

/** MP_PRIO: the backup bit, and the address ID when the option carries one. */
function prio(c: PrintContext, opt: number, len: number): boolean {
  if (len !== 3 && len !== 4) return false;
  c.w(c.u8(opt + 2) & 0x01 ? ' backup' : ' non-backup');
  if (len === 4) c.w(' id ' + c.u8(opt + 3));
  return true;
}

/** MP_FAIL: the data sequence number where the checksum failed. */
function fail(c: PrintContext, opt: number, len: number): boolean {
  if (len !== 12) return false;
  c.w(' seq ' + dec64(c, opt + 4));
  return true;
}

/** MP_FASTCLOSE: the receiver's key. */
function fastClose(c: PrintContext, opt: number, len: number): boolean {
  if (len !== 12) return false;
  c.w(' key 0x' + hex64(c, opt + 4));
  return true;
}

/** By subtype, in the order of their numbers; the last entry stands for every number after. */
const SUBTYPES: readonly { name: string; print: SubtypePrinter }[] = [
  { name: 'capable', print: capable },
  { name: 'join', print: join },
  { name: 'dss', print: dss },
  { name: 'add-addr', print: addAddr },
  { name: 'rem-addr', print: removeAddr },
  { name: 'prio', print: prio },
  { name: 'fail', print: fail },
  { name: 'fast-close', print: fastClose },
  { name: 'unknown', print: () => true },
];

function u64(c: PrintContext, off: number): bigint {
  return (BigInt(c.u32(off)) << 32n) | BigInt(c.u32(off + 4));
}

/** A 64-bit field as PRIx64 writes it: lower-case hex without leading zeros. */
function hex64(c: PrintContext, off: number): string {
  return u64(c, off).toString(16);
}

/** A 64-bit field as PRIu64 writes it. */
function dec64(c: PrintContext, off: number): string {
  return u64(c, off).toString();
}
