/**
 * IPv4 as tcpdump 4.99 prints it (print-ip.c): `IP ` (left out with -e), with -v the header in
 * parentheses and the rest on an indented second line, then the protocol above; fragments
 * after the first print `ip-proto-N`, and protocols with no printer `ip-proto-N length`.
 */
import { ByteText, cksumResult, cksumShouldBe, DEC, sum16, TRUNCATED, type PrintContext } from './context.js';
import { printTCP, type IPInfo } from './tcp.js';
import { printUDP } from './udp.js';
import { printICMP } from './icmp.js';
import { printIGMP } from './igmp.js';
import { printGRE } from './gre.js';
import { IP_PROTO_NAMES } from './tables.js';
import { printIPOptions } from './ip-options.js';

const FRAG_FLAGS: readonly string[] = ['none', '+', 'DF', '+, DF', 'rsvd', '+, rsvd', 'DF, rsvd', '+, DF, rsvd'];
const ECN = ['', ',ECT(1)', ',ECT(0)', ',CE'];
const IP_TEXT = new ByteText('IP ');

export function printIPv4(c: PrintContext, off: number, length: number): void {
  c.proto = 'ip';
  const b = c.b;
  const vhl = c.u8(off);
  if (vhl >> 4 !== 4) {
    if (vhl >> 4 === 6) c.w('IP6, wrong link-layer encapsulation');
    else c.w('IP' + (vhl >> 4));
    c.w(' (invalid)');
    return;
  }
  if (!c.opts.link) c.wt(IP_TEXT);
  c.need(off, 20);
  if (length < 20) {
    c.w('truncated-ip ' + length);
    return;
  }
  const hlen = (vhl & 15) * 4;
  if (hlen < 20) {
    c.w('bad-hlen ' + hlen);
    return;
  }
  const totalLength = (b[off + 2]! << 8) | b[off + 3]!;
  // tcpdump 4.99.3 says so, but goes on with the length the header claims.
  if (totalLength > length) c.w('truncated-ip - ' + (totalLength - length) + ' bytes missing! ');
  // Length zero too (a TSO or BIG TCP capture): tcpdump guesses a TSO send only when built
  // with GUESS_TSO, which Debian's 4.99.3 is not.
  if (totalLength < hlen) {
    c.w('bad-len ' + totalLength);
    return;
  }
  // The IP payload ends where the header says, whatever the link layer carried after it.
  const savedSnapend = c.snapend;
  if (off + totalLength < c.snapend) c.snapend = off + totalLength;
  const len = totalLength - hlen;
  const fragWord = (b[off + 6]! << 8) | b[off + 7]!;
  const proto = b[off + 9]!;
  let truncated = false;
  if (c.opts.verbose) {
    const tos = b[off + 1]!;
    c.w('(tos 0x' + tos.toString(16) + ECN[tos & 3]);
    const ttl = b[off + 8]!;
    if (ttl >= 1) c.w(', ttl ' + DEC[ttl]);
    c.w(', id ' + ((b[off + 4]! << 8) | b[off + 5]!) + ', offset ' + (fragWord & 0x1fff) * 8 + ', flags [' + FRAG_FLAGS[fragWord >> 13] + '], proto ' + IP_PROTO_NAMES[proto] + ' (' + DEC[proto] + ')');
    c.w(', length ' + ((b[off + 2]! << 8) | b[off + 3]!));
    if (hlen > 20) {
      c.w(', options (');
      truncated = !printIPOptions(c, off + 20, hlen - 20);
      if (truncated) c.w(' [truncated-option]');
      c.w(')');
    }
    if (off + hlen <= c.snapend) {
      const sum = cksumResult(sum16(b, off, off + hlen));
      if (sum !== 0) {
        const field = (b[off + 10]! << 8) | b[off + 11]!;
        c.w(', bad cksum ' + field.toString(16) + ' (->' + cksumShouldBe(field, sum).toString(16) + ')!');
      }
    }
    c.w(')\n    ');
    if (truncated) {
      c.w(c.ipv4(off + 12) + ' > ' + c.ipv4(off + 16) + ':  [|ip]');
      c.snapend = savedSnapend;
      return;
    }
  }
  if ((fragWord & 0x1fff) === 0) {
    if (proto !== 6 && proto !== 17 && proto !== 132 && proto !== 33) {
      c.wipv4(off + 12);
      c.w(' > ');
      c.wipv4(off + 16);
      c.w(': ');
    }
    if (off + hlen > c.snapend) {
      c.w(' [remaining caplen(' + (c.snapend - off) + ') < header length(' + hlen + ')]');
      throw TRUNCATED;
    }
    const ip = c.ipAt(4, off, true, hlen > 20 ? sourceRouteEnd(c, off, hlen) : undefined);
    demux(c, off + hlen, len, ip, proto, (fragWord & 0x2000) !== 0);
  } else {
    c.w(c.ipv4(off + 12) + ' > ' + c.ipv4(off + 16) + ': ip-proto-' + DEC[proto]);
  }
  c.snapend = savedSnapend;
}

/** ip_demux_print: the protocol above IPv4 (or a quoted IPv4 in an ICMP error). */
function demux(c: PrintContext, off: number, length: number, ip: IPInfo, proto: number, fragmented: boolean): void {
  switch (proto) {
    case 6:
      printTCP(c, off, length, ip, fragmented);
      return;
    case 17:
      printUDP(c, off, length, ip, fragmented);
      return;
    case 1:
      printICMP(c, off, length, ip, fragmented);
      return;
    case 2:
      printIGMP(c, off, length);
      return;
    case 47:
      printGRE(c, off, length);
      return;
    default:
      c.w(' ip-proto-' + DEC[proto] + ' ' + length);
  }
}

/**
 * ip_finddst: behind a loose or strict source route, the upper checksum covers the route's
 * last address, not the header's destination. Where that address lies, or undefined.
 */
function sourceRouteEnd(c: PrintContext, off: number, hlen: number): number | undefined {
  let cp = off + 20;
  let left = hlen - 20;
  while (left > 0) {
    const tt = c.b[cp]!;
    if (tt === 0) break;
    let len = 1;
    if (tt !== 1) {
      if (!c.has(cp + 1, 1)) return undefined;
      len = c.b[cp + 1]!;
      if (len < 2) break;
    }
    if (left < len) return undefined;
    if ((tt === 131 || tt === 137) && len >= 7) return cp + len - 4;
    cp += len;
    left -= len;
  }
  return undefined;
}
