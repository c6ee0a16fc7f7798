/**
 * UDP as tcpdump 4.99 prints it (print-udp.c): `UDP, length N`, `truncated-udp N`,
 * `truncated-udplength N`, `UDP, bad length A > B`; with -v the checksum verdict (IPv4 only
 * from -vv, as tcpdump does). tcpdump's port-based dissectors (DNS, NTP, ...) are not followed.
 */
import { cksumResult, cksumShouldBe, HEX2, sum16, type PrintContext } from './context.js';
import { pseudoSum, type IPInfo } from './tcp.js';

function addresses(c: PrintContext, ip: IPInfo, sport: number, dport: number): void {
  if (ip.direct) {
    if (ip.version === 4) {
      if (sport < 0) c.s += c.ipv4(ip.off + 12) + ' > ' + c.ipv4(ip.off + 16) + ': ';
      else c.s += c.ipv4(ip.off + 12) + '.' + sport + ' > ' + c.ipv4(ip.off + 16) + '.' + dport + ': ';
    } else if (sport < 0) c.s += c.ipv6(ip.off + 8) + ' > ' + c.ipv6(ip.off + 24) + ': ';
    else c.s += c.ipv6(ip.off + 8) + '.' + sport + ' > ' + c.ipv6(ip.off + 24) + '.' + dport + ': ';
  } else if (sport >= 0) c.s += sport + ' > ' + dport + ': ';
}

export function printUDP(c: PrintContext, off: number, length: number, ip: IPInfo, fragmented: boolean): void {
  c.proto = 'udp';
  if (!c.has(off, 4)) {
    addresses(c, ip, -1, -1);
    c.s += ' [|udp]';
    return;
  }
  const b = c.b;
  const sport = (b[off]! << 8) | b[off + 1]!;
  const dport = (b[off + 2]! << 8) | b[off + 3]!;
  if (length < 8) {
    addresses(c, ip, sport, dport);
    c.s += 'truncated-udp ' + length;
    return;
  }
  if (!c.has(off + 4, 2)) {
    addresses(c, ip, sport, dport);
    c.s += ' [|udp]';
    return;
  }
  let ulen = (b[off + 4]! << 8) | b[off + 5]!;
  if (ulen === 0 && length > 65535) ulen = length;
  if (ulen < 8) {
    addresses(c, ip, sport, dport);
    c.s += 'truncated-udplength ' + ulen;
    return;
  }
  ulen -= 8;
  length -= 8;
  if (ulen < length) length = ulen;
  if (off + 8 > c.snapend) {
    addresses(c, ip, sport, dport);
    c.s += ' [|udp]';
    return;
  }
  addresses(c, ip, sport, dport);
  if (c.opts.verbose && !fragmented) {
    const field = c.has(off + 6, 2) ? (b[off + 6]! << 8) | b[off + 7]! : 0;
    if (ip.version === 4 && c.opts.verbose > 1) {
      if (field === 0) c.s += '[no cksum] ';
      else if (c.has(off + 8, length)) verdict(c, field, cksumResult(pseudoSum(c, ip, 17, length + 8) + sum16(b, off, off + length + 8)));
    } else if (ip.version === 6 && c.has(off + 8, length)) {
      verdict(c, field, cksumResult(pseudoSum(c, ip, 17, length + 8) + sum16(b, off, off + length + 8)));
    }
  }
  if (ulen > length && !fragmented) c.s += 'UDP, bad length ' + ulen + ' > ' + length;
  else c.s += 'UDP, length ' + ulen;
}

function verdict(c: PrintContext, field: number, sum: number): void {
  if (sum !== 0) {
    const should = cksumShouldBe(field, sum);
    c.s += '[bad udp cksum 0x' + HEX2[field >> 8] + HEX2[field & 0xff] + ' -> 0x' + HEX2[should >> 8] + HEX2[should & 0xff] + '!] ';
  } else c.s += '[udp sum ok] ';
}
