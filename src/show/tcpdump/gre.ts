/**
 * GRE as tcpdump 4.99 prints it (print-gre.c): `GREv0`, with -v `, Flags [...]` and the
 * checksum, the offset, key and sequence number the flags turn on, with -e the payload's
 * EtherType, `, length N`, then `: ` (or, with -v, a new line and a tab) and the packet inside.
 * Version 1 (PPTP's enhanced GRE) prints its call id, sequence and acknowledgement numbers and
 * the PPP frame it carries; version 0 carries IPv4, IPv6 and Ethernet (transparent bridging,
 * 0x6558, printed as the frame itself is).
 */
import { TRUNCATED_CHECK, type PrintContext } from './context.js';
import { ethertypeName } from './tables.js';
import { printIPv4 } from './ip.js';
import { printIPv6 } from './ip6.js';
import { printEther } from './link.js';
import { printPPP } from './ppp.js';

const FLAG_BITS: readonly [number, string][] = [
  [0x8000, 'checksum present'], [0x4000, 'routing present'], [0x2000, 'key present'], [0x1000, 'sequence# present'],
  [0x0800, 'source routing present'], [0x0080, 'ack present'],
];

function flagText(flags: number): string {
  const names = FLAG_BITS.filter(([bit]) => flags & bit).map(([, name]) => name);
  return names.length ? names.join(', ') : 'none';
}

/** tok2str(ethertype_values, "unknown", proto), with PPP that GREv1 carries. */
function protoName(proto: number): string {
  if (proto === 0x880b) return 'PPP';
  const name = ethertypeName(proto);
  return name === 'Unknown' ? 'unknown' : name;
}

function hex(n: number): string {
  return n.toString(16);
}

export function printGRE(c: PrintContext, off: number, length: number): void {
  c.proto = 'gre';
  if (length < 2) throw TRUNCATED_CHECK;
  const flags = c.u16(off);
  const version = flags & 7;
  c.w('GREv' + version);
  if (version === 0) printVersion0(c, off, length, flags);
  else if (version === 1) printVersion1(c, off, length, flags);
  else c.w(' ERROR: unknown-version');
}

function printVersion0(c: PrintContext, off: number, length: number, flags: number): void {
  if (c.opts.verbose) c.w(', Flags [' + flagText(flags) + ']');
  let p = off + 2;
  let len = length - 2;
  if (len < 2) throw TRUNCATED_CHECK;
  const proto = c.u16(p);
  p += 2;
  len -= 2;
  if (flags & 0xc000) {
    if (len < 2) throw TRUNCATED_CHECK;
    if (c.opts.verbose) c.w(', sum 0x' + hex(c.u16(p)));
    p += 2;
    len -= 2;
    if (len < 2) throw TRUNCATED_CHECK;
    c.w(', off 0x' + hex(c.u16(p)));
    p += 2;
    len -= 2;
  }
  if (flags & 0x2000) {
    if (len < 4) throw TRUNCATED_CHECK;
    c.w(', key=0x' + hex(c.u32(p)));
    p += 4;
    len -= 4;
  }
  if (flags & 0x1000) {
    if (len < 4) throw TRUNCATED_CHECK;
    c.w(', seq ' + c.u32(p));
    p += 4;
    len -= 4;
  }
  if (flags & 0x4000) {
    // Source route entries (RFC 1701): address family, offset, length, then the route.
    for (;;) {
      if (len < 4) throw TRUNCATED_CHECK;
      const af = c.u16(p);
      const sreLen = c.u8(p + 3);
      p += 4;
      len -= 4;
      if (af === 0 && sreLen === 0) break;
      c.w(', (rtaf=0x' + hex(af) + ')');
      if (len < sreLen) throw TRUNCATED_CHECK;
      p += sreLen;
      len -= sreLen;
    }
  }
  if (c.opts.link) c.w(', proto ' + protoName(proto) + ' (0x' + hex(proto).padStart(4, '0') + ')');
  c.w(', length ' + length);
  c.w(c.opts.verbose ? '\n\t' : ': ');
  switch (proto) {
    case 0x0800:
      printIPv4(c, p, len);
      return;
    case 0x86dd:
      printIPv6(c, p, len);
      return;
    case 0x6558:
      printEther(c, len, Math.max(0, c.snapend - p), p);
      return;
    default:
      c.w('gre-proto-0x' + hex(proto));
  }
}

function printVersion1(c: PrintContext, off: number, length: number, flags: number): void {
  let p = off + 2;
  let len = length - 2;
  if (c.opts.verbose) c.w(', Flags [' + flagText(flags) + ']');
  if (len < 2) throw TRUNCATED_CHECK;
  const proto = c.u16(p);
  p += 2;
  len -= 2;
  if (flags & 0x2000) {
    if (len < 4) throw TRUNCATED_CHECK;
    c.w(', call ' + (c.u32(p) & 0xffff));
    p += 4;
    len -= 4;
  }
  if (flags & 0x1000) {
    if (len < 4) throw TRUNCATED_CHECK;
    c.w(', seq ' + c.u32(p));
    p += 4;
    len -= 4;
  }
  if (flags & 0x0080) {
    if (len < 4) throw TRUNCATED_CHECK;
    c.w(', ack ' + c.u32(p));
    p += 4;
    len -= 4;
  }
  if ((flags & 0x1000) === 0) c.w(', no-payload');
  if (c.opts.link) c.w(', proto ' + protoName(proto) + ' (0x' + hex(proto).padStart(4, '0') + ')');
  c.w(', length ' + length);
  if ((flags & 0x1000) === 0) return;
  c.w(c.opts.verbose ? '\n\t' : ': ');
  if (proto === 0x880b) printPPP(c, p, len);
  else c.w('gre-proto-0x' + hex(proto));
}
