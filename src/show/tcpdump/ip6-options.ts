/** IPv6 Hop-by-Hop and Destination Options headers as tcpdump prints them (print-ip6opts.c). */
import { HEX2, type PrintContext } from './context.js';

export interface ExtensionResult {
  /** Header length, or -1 when the options were bad (the line ends). */
  advance: number;
  /** A valid Jumbo Payload length found in a Hop-by-Hop header. */
  jumbo: number | undefined;
}

/** Prints `HBH ` or `DSTOPT ` and, with -v, the options; hop-by-hop options are always checked. */
export function printExtensionOptions(c: PrintContext, cp: number, hopByHop: boolean): ExtensionResult {
  c.proto = hopByHop ? 'hbhopt' : 'dstopt';
  const hlen = (c.u8(cp + 1) + 1) << 3;
  c.need(cp, hlen);
  c.w(hopByHop ? 'HBH ' : 'DSTOPT ');
  const result: ExtensionResult = { advance: hlen, jumbo: undefined };
  if (hopByHop || c.opts.verbose) {
    const payloadLen = hopByHop ? c.u16(cp - 40 + 4) : -1;
    if (!processOptions(c, cp + 2, hlen - 2, hopByHop, payloadLen, result)) {
      c.w(' [|' + c.proto + ']');
      result.advance = -1;
    }
  }
  return result;
}

function processOptions(c: PrintContext, bp: number, len: number, hopByHop: boolean, payloadLen: number, result: ExtensionResult): boolean {
  if (len === 0) return true;
  const v = c.opts.verbose;
  let foundJumbo = false;
  for (let i = 0, optlen = 0; i < len; i += optlen) {
    const type = c.u8(bp + i);
    if (type === 0) optlen = 1;
    else if (i + 1 < len) optlen = c.u8(bp + i + 1) + 2;
    else return false;
    if (i + optlen > len) return false;
    switch (type) {
      case 0:
        if (v) c.w('(pad1)');
        break;
      case 1:
        if (len - i < 2) {
          c.w('(padn: trunc)');
          return false;
        }
        if (v) c.w('(padn)');
        break;
      case 5:
        if (len - i < 4) {
          c.w('(rtalert: trunc)');
          return false;
        }
        if (c.u8(bp + i + 1) !== 2) {
          c.w('(rtalert: invalid len ' + c.u8(bp + i + 1) + ')');
          return false;
        }
        if (v) c.w('(rtalert: 0x' + HEX2[c.u8(bp + i + 2)] + HEX2[c.u8(bp + i + 3)] + ') ');
        break;
      case 0xc2: {
        if (len - i < 6) {
          c.w('(jumbo: trunc)');
          return false;
        }
        if (c.u8(bp + i + 1) !== 4) {
          c.w('(jumbo: invalid len ' + c.u8(bp + i + 1) + ')');
          return false;
        }
        const jumbolen = c.u32(bp + i + 2);
        if (foundJumbo) {
          if (v) c.w('(jumbo: ' + jumbolen + ' - already seen) ');
        } else {
          foundJumbo = true;
          if (!hopByHop) {
            if (v) c.w('(jumbo: ' + jumbolen + ' - not a hop-by-hop option) ');
          } else if (payloadLen !== 0) {
            if (v) c.w('(jumbo: ' + jumbolen + ' - payload len != 0) ');
          } else if (jumbolen < 65536) {
            if (v) c.w('(jumbo: ' + jumbolen + ' - < 65536) ');
          } else {
            result.jumbo = jumbolen;
            if (v) c.w('(jumbo: ' + jumbolen + ') ');
          }
        }
        break;
      }
      case 0xc9:
        if (len - i < 18) {
          c.w('(homeaddr: trunc)');
          return false;
        }
        if (c.u8(bp + i + 1) < 16) {
          c.w('(homeaddr: invalid len ' + c.u8(bp + i + 1) + ')');
          return false;
        }
        if (v) c.w('(homeaddr: ' + c.ipv6(bp + i + 2) + ')');
        break;
      default:
        if (len - i < 2) {
          c.w('(type ' + type + ': trunc)');
          return false;
        }
        if (v) c.w('(opt_type 0x' + HEX2[type] + ': len=' + c.u8(bp + i + 1) + ')');
    }
  }
  if (v) c.w(' ');
  return true;
}

