/**
 * UDP as tcpdump 4.99 prints it (print-udp.c): `UDP, length N`, `truncated-udp N`,
 * `truncated-udplength N`, `UDP, bad length A > B`; with -v the checksum verdict (IPv4 only
 * from -vv, as tcpdump does). Of tcpdump's port-based dissectors, DNS (53), mDNS (5353), BOOTP/DHCP
 * (67, 68) and NTP (123) are followed.
 */
import { cksumResult, cksumShouldBe, HEX2, sum16, type PrintContext } from './context.js';
import { printDNS } from './dns.js';
import { addressesAndPorts, pseudoSum, type IPInfo } from './tcp.js';
import { printBOOTP } from './bootp.js';
import { printNTP } from './ntp.js';

/** Addresses and ports; a negative sport when the ports were not captured. */
function addresses(c: PrintContext, ip: IPInfo, sport: number, dport: number): void {
  if (sport >= 0) addressesAndPorts(c, ip, sport, dport);
  else if (ip.direct) {
    if (ip.version === 4) c.w(c.ipv4(ip.off + 12) + ' > ' + c.ipv4(ip.off + 16) + ': ');
    else c.w(c.ipv6(ip.off + 8) + ' > ' + c.ipv6(ip.off + 24) + ': ');
  }
}

export function printUDP(c: PrintContext, off: number, length: number, ip: IPInfo, fragmented: boolean): void {
  c.proto = 'udp';
  if (!c.has(off, 4)) {
    addresses(c, ip, -1, -1);
    c.w(' [|udp]');
    return;
  }
  const b = c.b;
  const sport = (b[off]! << 8) | b[off + 1]!;
  const dport = (b[off + 2]! << 8) | b[off + 3]!;
  if (length < 8) {
    addresses(c, ip, sport, dport);
    c.w('truncated-udp ' + length);
    return;
  }
  if (!c.has(off + 4, 2)) {
    addresses(c, ip, sport, dport);
    c.w(' [|udp]');
    return;
  }
  let ulen = (b[off + 4]! << 8) | b[off + 5]!;
  if (ulen === 0 && length > 65535) ulen = length;
  if (ulen < 8) {
    addresses(c, ip, sport, dport);
    c.w('truncated-udplength ' + ulen);
    return;
  }
  ulen -= 8;
  length -= 8;
  if (ulen < length) length = ulen;
  if (off + 8 > c.snapend) {
    addresses(c, ip, sport, dport);
    c.w(' [|udp]');
    return;
  }
  addresses(c, ip, sport, dport);
  if (c.opts.verbose && !fragmented) {
    const field = c.has(off + 6, 2) ? (b[off + 6]! << 8) | b[off + 7]! : 0;
    if (ip.version === 4 && c.opts.verbose > 1) {
      if (field === 0) c.w('[no cksum] ');
      else if (c.has(off + 8, length)) verdict(c, field, cksumResult(pseudoSum(c, ip, 17, length + 8) + sum16(b, off, off + length + 8)));
    } else if (ip.version === 6 && c.has(off + 8, length)) {
      verdict(c, field, cksumResult(pseudoSum(c, ip, 17, length + 8) + sum16(b, off, off + length + 8)));
    }
  }
  // As udp_print: the port's protocol first (a first fragment too, given what was captured), then
  // the length checks; -q prints no application layer.
  if (!c.opts.quiet && printByPort(c, off + 8, length, sport, dport)) return;
  if (ulen > length && !fragmented) c.w('UDP, bad length ' + ulen + ' > ' + length);
  else {
    c.w('UDP, length ');
    c.wn(ulen);
  }
}

/** udp_print's port dispatch for the protocols printed here (DNS 53, mDNS 5353, BOOTP 67/68, NTP 123); false for the rest. */
function printByPort(c: PrintContext, off: number, length: number, sport: number, dport: number): boolean {
  if (sport === 53 || dport === 53) printDNS(c, off, length, false, false);
  else if (sport === 5353 || dport === 5353) printDNS(c, off, length, false, true);
  else if (sport === 67 || dport === 67 || sport === 68 || dport === 68) printBOOTP(c, off, length);
  else if (sport === 123 || dport === 123) printNTP(c, off, length);
  else return false;
  return true;
}

function verdict(c: PrintContext, field: number, sum: number): void {
  if (sum !== 0) {
    const should = cksumShouldBe(field, sum);
    c.w('[bad udp cksum 0x' + HEX2[field >> 8] + HEX2[field & 0xff] + ' -> 0x' + HEX2[should >> 8] + HEX2[should & 0xff] + '!] ');
  } else c.w('[udp sum ok] ');
}
