/**
 * IGMP as tcpdump 4.99 prints it (print-igmp.c): `igmp query v2 [gaddr ...]`, `igmp v2 report
 * G`, `igmp leave G`, `igmp v3 report, N group record(s)` (with -v each record, with -vv its
 * sources), IGMPv3 queries with their max response time; with -v a bad checksum.
 */
import { cksumResult, sum16, type PrintContext } from './context.js';

const REPORT_TYPES: Readonly<Record<number, string>> = { 1: 'is_in', 2: 'is_ex', 3: 'to_in', 4: 'to_ex', 5: 'allow', 6: 'block' };

/** unsigned_relts_print: seconds as tcpdump writes a relative time (1h2m3s). */
function relativeTime(secs: number): string {
  if (secs === 0) return '0s';
  const units: [number, string][] = [[31536000, 'y'], [604800, 'w'], [86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let out = '';
  for (const [size, name] of units) {
    if (secs >= size) {
      out += Math.floor(secs / size) + name;
      secs %= size;
    }
  }
  return out;
}

function printV3Report(c: PrintContext, off: number, len: number): void {
  if (len < 16 || len & 3) {
    c.w(' [invalid len ' + len + ']');
    return;
  }
  const groups = c.u16(off + 6);
  c.w(', ' + groups + ' group record(s)');
  if (!c.opts.verbose) return;
  let g = 8;
  for (let i = 0; i < groups; i++) {
    if (len < g + 8) {
      c.w(' [invalid number of groups]');
      return;
    }
    c.w(' [gaddr ' + c.ipv4(off + g + 4));
    const rtype = c.u8(off + g);
    c.w(' ' + (REPORT_TYPES[rtype] ?? ' [v3-report-#' + rtype + ']'));
    const sources = c.u16(off + g + 2);
    if (len < g + 8 + (sources << 2)) {
      c.w(' [invalid number of sources ' + sources + ']');
      return;
    }
    if (c.opts.verbose === 1) c.w(', ' + sources + ' source(s)');
    else {
      c.w(' {');
      for (let j = 0; j < sources; j++) c.w(' ' + c.ipv4(off + g + 8 + (j << 2)));
      c.w(' }');
    }
    g += 8 + (sources << 2);
    c.w(']');
  }
}

function printV3Query(c: PrintContext, off: number, len: number): void {
  c.w(' v3');
  if (len < 12 || len & 3) {
    c.w(' [invalid len ' + len + ']');
    return;
  }
  const mrc = c.u8(off + 1);
  const mrt = mrc < 128 ? mrc : ((mrc & 0x0f) | 0x10) << (((mrc & 0x70) >> 4) + 3);
  if (mrc !== 100) {
    c.w(' [max resp time ');
    c.w(mrt < 600 ? (mrt * 0.1).toFixed(1) + 's' : relativeTime(Math.floor(mrt / 10)));
    c.w(']');
  }
  if (c.u32(off + 4) === 0) return;
  c.w(' [gaddr ' + c.ipv4(off + 4));
  const sources = c.u16(off + 10);
  if (sources > 0) {
    if (len < 12 + (sources << 2)) c.w(' [invalid number of sources]');
    else if (c.opts.verbose > 1) {
      c.w(' {');
      for (let i = 0; i < sources; i++) c.w(' ' + c.ipv4(off + 12 + (i << 2)));
      c.w(' }');
    } else c.w(', ' + sources + ' source(s)');
  }
  c.w(']');
}

export function printIGMP(c: PrintContext, off: number, len: number): void {
  c.proto = 'igmp';
  const type = c.u8(off);
  switch (type) {
    case 0x11:
      c.w('igmp query');
      if (len >= 12) printV3Query(c, off, len);
      else {
        const mrc = c.u8(off + 1);
        if (mrc) {
          c.w(' v2');
          if (mrc !== 100) c.w(' [max resp time ' + mrc + ']');
        } else c.w(' v1');
        if (c.u32(off + 4)) c.w(' [gaddr ' + c.ipv4(off + 4) + ']');
        if (len !== 8) c.w(' [len ' + len + ']');
      }
      break;
    case 0x12:
      c.w('igmp v1 report ' + c.ipv4(off + 4));
      if (len !== 8) c.w(' [len ' + len + ']');
      break;
    case 0x16:
      c.w('igmp v2 report ' + c.ipv4(off + 4));
      break;
    case 0x22:
      c.w('igmp v3 report');
      printV3Report(c, off, len);
      break;
    case 0x17:
      c.w('igmp leave ' + c.ipv4(off + 4));
      break;
    default:
      c.w('igmp-' + type);
  }
  if (c.opts.verbose && len >= 4 && c.has(off, len)) {
    if (cksumResult(sum16(c.b, off, off + len)) !== 0) c.w(' bad igmp cksum ' + c.u16(off + 2).toString(16) + '!');
  }
}
