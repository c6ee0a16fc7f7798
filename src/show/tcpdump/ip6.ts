/**
 * IPv6 as tcpdump 4.99 prints it (print-ip6.c): `IP6 ` (left out with -e), with -v the header
 * in parentheses on the same line, then the next headers: fragment (`frag (0|1448) `), and
 * the protocol above (TCP, UDP, ICMPv6, or `ip-proto-N length`).
 */
import { ByteText, DEC, type PrintContext } from './context.js';
import { IP_PROTO_NAMES } from './tables.js';
import { printTCP, type IPInfo } from './tcp.js';
import { printUDP } from './udp.js';
import { printICMP6 } from './icmp6.js';
import { printGRE } from './gre.js';
import { printExtensionOptions } from './ip6-options.js';

const IP6_TEXT = new ByteText('IP6 ');

export function printIPv6(c: PrintContext, off: number, length: number): void {
  c.proto = 'ip6';
  c.need(off, 40);
  if (length < 40) {
    c.w('truncated-ip6 ' + length);
    return;
  }
  const b = c.b;
  if (!c.opts.link) c.wt(IP6_TEXT);
  if (b[off]! >> 4 !== 6) {
    c.w('version error: ' + (b[off]! >> 4) + ' != 6');
    return;
  }
  let payloadLen = (b[off + 4]! << 8) | b[off + 5]!;
  let len: number;
  if (payloadLen !== 0) {
    len = payloadLen + 40;
    if (length < len) c.w('truncated-ip6 - ' + (len - length) + ' bytes missing!');
  } else len = length + 40;
  let nh = b[off + 6]!;
  if (c.opts.verbose) {
    const flow = c.u32(off);
    c.w('(');
    if (flow & 0x0ff00000) c.w('class 0x' + ((flow & 0x0ff00000) >>> 20).toString(16).padStart(2, '0') + ', ');
    if (flow & 0x000fffff) c.w('flowlabel 0x' + (flow & 0x000fffff).toString(16).padStart(5, '0') + ', ');
    c.w('hlim ' + DEC[b[off + 7]!] + ', next-header ' + IP_PROTO_NAMES[nh] + ' (' + DEC[nh] + ') payload length: ' + payloadLen + ') ');
  }
  const savedSnapend = c.snapend;
  if (off + len < c.snapend) c.snapend = off + len;
  let cp = off;
  let advance = 40;
  let totalAdvance = 0;
  let foundExtension = false;
  let foundHBH = false;
  let foundJumbo = false;
  let ph = 255;
  let fragmented = false;
  let finalDst: number | undefined;
  try {
    while (cp < c.snapend && advance > 0) {
      if (len < advance) {
        c.w(' [|' + c.proto + ']');
        return;
      }
      cp += advance;
      len -= advance;
      totalAdvance += advance;
      if (cp === off + 40 && nh !== 6 && nh !== 17 && nh !== 33 && nh !== 132) {
        c.wipv6(off + 8);
        c.w(' > ');
        c.wipv6(off + 24);
        c.w(': ');
      }
      switch (nh) {
        case 0:
        case 60: {
          if (nh === 0) {
            if (foundHBH) {
              c.w('[The Hop-by-Hop Options header was already found] (invalid)');
              return;
            }
            if (ph !== 255) {
              c.w("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)");
              return;
            }
          }
          const r = printExtensionOptions(c, cp, nh === 0);
          if (nh === 0) {
            if (r.jumbo !== undefined) {
              payloadLen = r.jumbo;
              foundJumbo = true;
            }
            if (payloadLen === 0 && r.jumbo === undefined) {
              c.w('[No valid Jumbo Payload Hop-by-Hop option found] (invalid)');
              return;
            }
            foundHBH = true;
          }
          if (r.advance < 0) return;
          advance = r.advance;
          foundExtension = true;
          nh = c.u8(cp);
          break;
        }
        case 43: {
          const r = printRoutingHeader(c, cp);
          if (r.advance < 0) return;
          if (r.finalDst !== undefined) finalDst = r.finalDst;
          advance = r.advance;
          foundExtension = true;
          nh = c.u8(cp);
          break;
        }
        case 44: {
          c.proto = 'frag6';
          const offlg = c.u16(cp + 2);
          // tcpdump computes it in size_t: a payload length too short for the headers wraps around 2^64.
          const fragLen = 40 + c.u16(off + 4) - (cp - off) - 8;
          const fragText = fragLen < 0 ? String(2n ** 64n + BigInt(fragLen)) : String(fragLen);
          if (c.opts.verbose) c.w('frag (0x' + c.u32(cp + 4).toString(16).padStart(8, '0') + ':' + (offlg & 0xfff8) + '|' + fragText + ')');
          else c.w('frag (' + (offlg & 0xfff8) + '|' + fragText + ')');
          if ((offlg & 0xfff8) !== 0) return;
          c.w(' ');
          advance = 8;
          if (c.snapend <= cp + advance) return;
          foundExtension = true;
          nh = c.u8(cp);
          fragmented = true;
          break;
        }
        default: {
          if (foundJumbo) {
            // A jumbogram: the Jumbo Payload option's length is the payload's, headers included.
            len = payloadLen + 40;
            if (len < totalAdvance) {
              c.w(' [|' + c.proto + ']');
              return;
            }
            if (length < len) c.w('truncated-ip6 - ' + (len - length) + ' bytes missing!');
            c.snapend = Math.min(c.snapend, off + len);
            len -= totalAdvance;
          } else if (payloadLen === 0) {
            if (foundExtension) {
              c.w(' [|' + c.proto + ']');
              return;
            }
            len = 40;
            c.snapend = Math.min(c.snapend, off + len);
            len -= totalAdvance;
          }
          const ip = c.ipAt(6, off, b[off + 6] === nh, finalDst);
          demux6(c, cp, len, ip, nh, fragmented);
          return;
        }
      }
      ph = nh;
      c.proto = 'ip6';
    }
  } finally {
    c.snapend = savedSnapend;
  }
}

function demux6(c: PrintContext, off: number, length: number, ip: IPInfo, nh: number, fragmented: boolean): void {
  switch (nh) {
    case 6:
      printTCP(c, off, length, ip, fragmented);
      return;
    case 17:
      printUDP(c, off, length, ip, fragmented);
      return;
    case 58:
      printICMP6(c, off, length, ip, fragmented);
      return;
    case 1:
      c.w('[ICMP requires IPv4] (invalid)');
      return;
    case 59:
      c.w('no next header');
      return;
    case 47:
      printGRE(c, off, length);
      return;
    default:
      c.w(' ip-proto-' + DEC[nh] + ' ' + length);
  }
}

/**
 * rt6_print: `RT6 (len=4, type=0 [Deprecated], segleft=1, [0]2001:db8::1, [1]2001:db8::2) `,
 * with -v the reserved word; segment routing (type 4) with last-entry, flags and tag, then as
 * many addresses as the length holds (tcpdump 4.99 reads TLV bytes as addresses too). An odd
 * length is `(invalid length 3) (invalid)`. Returns the header's length (-1: stop) and where
 * the destination the upper checksum covers lies: the last address of types 0 and 2, the first
 * segment of type 4 (ip6_finddst's choices).
 */
function printRoutingHeader(c: PrintContext, cp: number): { advance: number; finalDst?: number } {
  c.proto = 'rt6';
  c.w('RT6');
  const len = c.u8(cp + 1);
  const advance = (len + 1) << 3;
  const type = c.u8(cp + 2);
  c.w(' (len=' + len + ', type=' + type + (type === 0 ? ' [Deprecated]' : '') + ', segleft=' + c.u8(cp + 3));
  if (type === 0 || type === 2) {
    if (c.opts.verbose) c.w(', rsv=0x' + c.u32(cp + 4).toString(16));
    if (len % 2 === 1) return invalidLength(c, len);
    let finalDst: number | undefined;
    for (let i = 0; i < len >> 1; i++) {
      const at = cp + 8 + 16 * i;
      // GET_IP6ADDR_STRING: a cut address ends the packet's line ([|rt6]), hex from the frame's start.
      c.w(', [' + i + ']' + c.ipv6(at));
      finalDst = at;
    }
    c.w(') ');
    return { advance, finalDst };
  }
  if (type === 4) {
    const last = c.u8(cp + 4);
    const flags = c.u8(cp + 5);
    c.w(', last-entry=' + last);
    if (flags || c.opts.verbose) c.w(', flags=0x' + flags.toString(16));
    c.w(', tag=' + c.u16(cp + 6).toString(16));
    if (len % 2 === 1) return invalidLength(c, len);
    for (let i = 0; i < len >> 1; i++) {
      const at = cp + 8 + 16 * i;
      // GET_IP6ADDR_STRING: a cut address ends the packet's line ([|rt6]), hex from the frame's start.
      c.w(', [' + i + ']' + c.ipv6(at));
    }
    c.w(') ');
    return { advance, finalDst: len >= 2 ? cp + 8 : undefined };
  }
  c.w(' (unknown type) (invalid)');
  return { advance: -1 };
}

/** A routing header whose length cannot hold whole addresses: where tcpdump stops. */
function invalidLength(c: PrintContext, len: number): { advance: number } {
  c.w(' (invalid length ' + len + ') (invalid)');
  return { advance: -1 };
}
