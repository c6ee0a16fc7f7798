/**
 * The link layers of pcap files as tcpdump prints them: Ethernet (without -e nothing of it is
 * printed), raw IP, Linux cooked (SLL, SLL2) and BSD null/loopback. Each returns the link
 * header length, which -x leaves out of the hex dump.
 */
import { HEX2, type PrintContext } from './context.js';
import { ethertypeName } from './tables.js';
import { printIPv4 } from './ip.js';
import { printIPv6 } from './ip6.js';
import { printARP } from './arp.js';
import { hexAsciiLines } from './hex.js';

function typeText(type: number, quiet = false): string {
  // -q names the type alone (print-ether.c's ether_type_print).
  if (quiet) {
    const name = ethertypeName(type);
    return name === 'Unknown' ? 'Unknown Ethertype (0x' + HEX2[type >> 8] + HEX2[type & 0xff] + ')' : name;
  }
  return 'ethertype ' + ethertypeName(type) + ' (0x' + HEX2[type >> 8] + HEX2[type & 0xff] + ')';
}

/** ethertype_print: false when the type has no printer here. */
function printEthertype(c: PrintContext, type: number, off: number, length: number): boolean {
  switch (type) {
    case 0x0800:
      printIPv4(c, off, length);
      return true;
    case 0x86dd:
      printIPv6(c, off, length);
      return true;
    case 0x0806:
    case 0x8035:
      printARP(c, off, length);
      return true;
    default:
      return false;
  }
}

/** What tcpdump prints for bytes it cannot decode (the default printer, hex and ASCII). */
function defaultPrint(c: PrintContext, off: number, caplen: number): void {
  c.w(hexAsciiLines(c.b, off, Math.max(0, Math.min(caplen, c.snapend - off)), '\n\t'));
}

/** ether_print at `off`: the frame itself (off c.frame), or one that GRE carries (transparent bridging). */
export function printEther(c: PrintContext, length: number, caplen: number, off: number): number {
  if (length < caplen) {
    c.w('[length ' + length + ' < caplen ' + caplen + '] (invalid)');
    return length;
  }
  if (caplen < 14) {
    c.w(' [|ether]');
    return caplen;
  }
  const e = c.opts.link;
  if (e) c.w(c.mac(off + 6) + ' > ' + c.mac(off) + ', ');
  let p = off + 12;
  let type = c.u16(p);
  p += 2;
  let len = length - 14;
  let cap = caplen - 14;
  let hdrlen = 14;
  let printedLength = false;
  while (type === 0x8100 || type === 0x9100 || type === 0x9200 || type === 0x88a8) {
    if (cap < 4 || len < 4) {
      c.w(' [|vlan]');
      return hdrlen + Math.min(cap, len);
    }
    if (e) {
      const tag = c.u16(p);
      c.w(typeText(type, c.opts.quiet));
      if (!printedLength) {
        c.w(', length ' + length + ': ');
        printedLength = true;
      } else c.w(', ');
      c.w('vlan ' + (tag & 0xfff) + ', p ' + (tag >> 13) + (tag & 0x1000 ? ', DEI' : '') + ', ');
    }
    type = c.u16(p + 2);
    p += 4;
    len -= 4;
    cap -= 4;
    hdrlen += 4;
  }
  if (type <= 1500) {
    // 802.3 with LLC: not decoded here; tcpdump would print the LLC header.
    if (e) c.w('802.3' + (printedLength ? '' : ', length ' + Math.min(type, len) + ': '));
    c.w('LLC, dsap/ssap unknown');
    return hdrlen;
  }
  if (e) c.w(typeText(type, c.opts.quiet) + (printedLength ? ', ' : ', length ' + length + ': '));
  if (off === c.frame) c.linkHeader = hdrlen;
  if (!printEthertype(c, type, p, len)) {
    if (!e) c.w(c.mac(off + 6) + ' > ' + c.mac(off) + ', ' + typeText(type, c.opts.quiet) + ', length ' + length + ': ');
    defaultPrint(c, p, cap);
  }
  return hdrlen;
}

/** Raw IP (ipN_print): the version nibble picks the printer; any other version is `unknown ip N`. */
export function printRawIP(c: PrintContext, off: number, length: number): number {
  if (c.opts.link) c.w('ip: ');
  const version = c.u8(off) >> 4;
  if (version === 6) printIPv6(c, off, length);
  else if (version === 4) printIPv4(c, off, length);
  else c.w('unknown ip ' + version);
  return 0;
}

/** BSD loopback (null) and OpenBSD loop at `off`: a 4-byte address family, host or network order. */
export function printNull(c: PrintContext, off: number, length: number, caplen: number, networkOrder: boolean): number {
  if (caplen < 4) {
    c.w(' [|null]');
    return caplen;
  }
  const b = c.b;
  let family = networkOrder ? c.u32(off) : b.readUInt32LE(off);
  if (!networkOrder && (family & 0xffff0000) !== 0) family = c.u32(off);
  if (c.opts.link) c.w(nullHeader(family, c.opts.quiet ?? false) + ', length ' + length + ': ');
  c.linkHeader = 4;
  if (family === 2) printIPv4(c, off + 4, length - 4);
  else if (family === 24 || family === 28 || family === 30 || family === 10) printIPv6(c, off + 4, length - 4);
  else {
    if (!c.opts.link) c.w(nullHeader(family, c.opts.quiet ?? false) + ', length ' + length + ': ');
    defaultPrint(c, off + 4, caplen - 4);
  }
  return 4;
}

/** null_hdr_print's family: `AF IPv4 (2)`, or with -q `IPv4` (`Unknown AF 7`). */
function nullHeader(family: number, quiet: boolean): string {
  const name = family === 2 ? 'IPv4' : family === 24 || family === 28 || family === 30 ? 'IPv6' : undefined;
  if (quiet) return name ?? 'Unknown AF ' + family;
  return 'AF ' + (name ?? 'Unknown') + ' (' + family + ')';
}

const SLL_TYPES: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

/** Linux cooked capture v1 (16-byte header) and v2 (20-byte header) at `off`. */
export function printSLL(c: PrintContext, off: number, length: number, caplen: number, v2: boolean): number {
  const hdr = v2 ? 20 : 16;
  if (caplen < hdr) {
    c.w(v2 ? ' [|sll2]' : ' [|sll]');
    return caplen;
  }
  const pkttype = v2 ? c.u8(off + 10) : c.u16(off);
  const halen = v2 ? c.u8(off + 11) : c.u16(off + 4);
  const addrOff = off + (v2 ? 12 : 6);
  const proto = v2 ? c.u16(off) : c.u16(off + 14);
  if (c.opts.link) {
    if (v2) c.w('ifindex ' + c.u32(off + 4) + ' ');
    // v1 as tcpdump's "%3s ": right-aligned in three columns (' In', 'Out', '  B').
    if (v2) c.w((SLL_TYPES[pkttype] ?? 'Unknown (' + pkttype + ')') + ' ');
    else c.w((SLL_TYPES[pkttype] ?? '?').padStart(3) + ' ');
    if (halen > 0) {
      let a = '';
      for (let i = 0; i < Math.min(halen, 8); i++) a += (i ? ':' : '') + HEX2[c.u8(addrOff + i)];
      c.w(a + ' ');
    }
    // -q leaves the protocol and the length out (print-sll.c).
    if (!c.opts.quiet) c.w(typeText(proto) + ', length ' + length + ': ');
  }
  c.linkHeader = hdr;
  if (!printEthertype(c, proto, off + hdr, length - hdr)) {
    if (!c.opts.link) c.w(typeText(proto) + ', length ' + length + ': ');
    defaultPrint(c, off + hdr, caplen - hdr);
  }
  return hdr;
}
