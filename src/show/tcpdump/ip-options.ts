/** IPv4 options as tcpdump -v prints them inside the header line (print-ip.c ip_optprint). */
import type { PrintContext } from './context.js';

const OPTION_NAMES: Record<number, string> = { 0: 'EOL', 1: 'NOP', 68: 'timestamp', 130: 'security', 7: 'RR', 137: 'SSRR', 131: 'LSRR', 148: 'RA', 82: 'traceroute' };

/** Prints the options at cp; false when they run past the captured bytes (tcpdump's -1). */
export function printIPOptions(c: PrintContext, cp: number, length: number): boolean {
  let sep = false;
  for (let optLen = 0; length > 0; cp += optLen, length -= optLen) {
    if (sep) c.w(',');
    sep = true;
    const code = c.u8(cp);
    c.w(OPTION_NAMES[code] ?? 'unknown ' + code);
    if (code === 0 || code === 1) optLen = 1;
    else {
      optLen = c.u8(cp + 1);
      if (optLen < 2) {
        c.w(' [bad length ' + optLen + ']');
        return true;
      }
    }
    if (optLen > length) {
      c.w(' [bad length ' + optLen + ']');
      return true;
    }
    if (!c.has(cp, optLen)) return false;
    switch (code) {
      case 0:
        return true;
      case 68:
        printTimestamp(c, cp, optLen);
        break;
      case 7:
      case 137:
      case 131:
        printRoute(c, cp, optLen);
        break;
      case 148:
        if (optLen < 4) c.w(' [bad length ' + optLen + ']');
        else {
          const v = c.u16(cp + 2);
          if (v !== 0) c.w(' value ' + v);
        }
        break;
      default:
        break;
    }
  }
  return true;
}

function printRoute(c: PrintContext, cp: number, length: number): void {
  if (length < 3) {
    c.w(' [bad length ' + length + ']');
    return;
  }
  if ((length + 1) & 3) c.w(' [bad length ' + length + ']');
  const ptr = c.u8(cp + 2) - 1;
  if (ptr < 3 || (ptr + 1) & 3 || ptr > length + 1) c.w(' [bad ptr ' + c.u8(cp + 2) + ']');
  for (let len = 3; len < length; len += 4) {
    c.w(' ' + c.ipv4(cp + len));
    if (ptr > len) c.w(',');
  }
}

function printTimestamp(c: PrintContext, cp: number, length: number): void {
  if (length < 4) {
    c.w('[bad length ' + length + ']');
    return;
  }
  c.w(' TS{');
  const flags = c.u8(cp + 3);
  const hoplen = (flags & 15) !== 0 ? 8 : 4;
  if ((length - 4) & (hoplen - 1)) c.w('[bad length ' + length + ']');
  const ptr = c.u8(cp + 2) - 1;
  let len = 0;
  if (ptr < 4 || (ptr - 4) & (hoplen - 1) || ptr > length + 1) c.w('[bad ptr ' + c.u8(cp + 2) + ']');
  const kind = flags & 15;
  if (kind === 0 || kind === 1 || kind === 3) {
    c.w(kind === 0 ? 'TSONLY' : kind === 1 ? 'TS+ADDR' : 'PRESPEC');
    let type = ' ';
    for (len = 4; len < length; len += hoplen) {
      if (ptr === len) type = ' ^ ';
      c.w(type + c.u32(cp + len + hoplen - 4) + '@' + (hoplen !== 8 ? '' : c.ipv4(cp + len)));
      type = ' ';
    }
  } else c.w('[bad ts type ' + kind + ']');
  c.w(ptr === len ? ' ^ ' : '');
  if (flags >> 4) c.w(' [' + (flags >> 4) + ' hops not recorded]} ');
  else c.w('}');
}
