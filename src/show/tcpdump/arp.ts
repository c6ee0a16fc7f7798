/** ARP as tcpdump 4.99 prints it (print-arp.c): `ARP, Request who-has A tell B, length 28`. */
import { HEX2, type PrintContext } from './context.js';
import { ethertypeName } from './tables.js';
import { hexAsciiLines } from './hex.js';

const OPS: Record<number, string> = { 1: 'Request', 2: 'Reply', 3: 'Reverse Request', 4: 'Reverse Reply', 8: 'Inverse Request', 9: 'Inverse Reply', 10: 'NACK Reply' };
const HARDWARE: Record<number, string> = { 1: 'Ethernet', 6: 'TokenRing', 7: 'ArcNet', 15: 'FrameRelay', 23: 'Strip', 24: 'IEEE 1394', 19: 'ATM', 32: 'InfiniBand' };

function linkAddr(c: PrintContext, off: number, len: number): string {
  if (len === 0) return '<empty>';
  c.needOrJump(off, len);
  if (len === 6) return c.mac(off);
  let s = HEX2[c.b[off]!]!;
  for (let i = 1; i < len; i++) s += ':' + HEX2[c.b[off + i]!];
  return s;
}

/** An operation tcpdump does not know is followed by the captured ARP bytes in hex and ASCII. */
export function printARP(c: PrintContext, off: number, length: number): void {
  c.proto = 'arp';
  c.needOrJump(off, 8);
  const b = c.b;
  const hrd = (b[off]! << 8) | b[off + 1]!;
  const pro = (b[off + 2]! << 8) | b[off + 3]!;
  const hln = b[off + 4]!;
  const pln = b[off + 5]!;
  const op = (b[off + 6]! << 8) | b[off + 7]!;
  const sha = off + 8;
  const spa = sha + hln;
  const tha = spa + pln;
  const tpa = tha + hln;
  c.needOrJump(tpa, pln);
  if (!c.opts.link) c.w('ARP, ');
  const v = c.opts.verbose;
  if ((pro !== 0x0800 && pro !== 0x1000) || pln !== 4 || hln === 0 || v) {
    const proName = ethertypeName(pro);
    c.w((HARDWARE[hrd] ?? 'Unknown Hardware (' + hrd + ')') + ' (len ' + hln + '), ' + (proName === 'Unknown' ? 'Unknown Protocol (0x' + HEX2[pro >> 8] + HEX2[pro & 0xff] + ')' : proName) + ' (len ' + pln + ')');
    if (!v) {
      c.w(', length ' + length);
      return;
    }
  }
  c.w((v ? ', ' : '') + (OPS[op] ?? 'Unknown (' + op + ')') + ' ');
  const ipOf = (at: number): string => (pro !== 0x0800 && pro !== 0x1000 ? '<wrong proto type>' : pln !== 4 ? '<wrong len>' : c.ipv4(at));
  switch (op) {
    case 1: {
      c.w('who-has ' + ipOf(tpa));
      let nonzero = false;
      for (let i = 0; i < hln; i++) if (c.u8(tha + i) !== 0) nonzero = true;
      if (nonzero) c.w(' (' + linkAddr(c, tha, hln) + ')');
      c.w(' tell ' + ipOf(spa));
      break;
    }
    case 2:
      c.w(ipOf(spa) + ' is-at ' + linkAddr(c, sha, hln));
      break;
    case 3:
    case 8:
      c.w('who-is ' + linkAddr(c, tha, hln) + ' tell ' + linkAddr(c, sha, hln));
      break;
    case 4:
      c.w(linkAddr(c, tha, hln) + ' at ' + ipOf(tpa));
      break;
    case 9:
      c.w(linkAddr(c, sha, hln) + ' at ' + ipOf(spa));
      break;
    default:
      // The default printer, on what was captured from the ARP header on (link padding too).
      c.w(hexAsciiLines(c.b, off, Math.max(0, c.snapend - off), '\n\t'));
      return;
  }
  c.w(', length ' + length);
}
