/**
 * NTP as tcpdump 4.99 prints it (print-ntp.c, ntp.c): `NTPv4, Client, length 48`; with -v the
 * leap indicator, stratum, poll, precision, root delay and dispersion, reference id and the
 * four timestamps (seconds.nanoseconds and the UTC date), and the originator's differences.
 * Control messages (mode 6) print their header's fields with -v (their data uninterpreted, as
 * tcpdump says); private messages (mode 7) only the leap indicator, as tcpdump does.
 */
import { TRUNCATED_CHECK, type PrintContext } from './context.js';

const MODES: readonly string[] = ['unspecified', 'symmetric active', 'symmetric passive', 'Client', 'Server', 'Broadcast', 'Control Message', 'Reserved'];
const LEAP: Readonly<Record<number, string>> = { 0x00: '', 0x40: '+1s', 0x80: '-1s', 0xc0: 'clock unsynchronized' };
const JAN_1970 = 2208988800;
/** NTP_CTRLMSG_MINLEN: a control message's fixed header. */
const CONTROL_HEADER = 12;
const FMAXINT = 4294967296;

function s8(v: number): number {
  return v >= 128 ? v - 256 : v;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** p_sfix: a 16.16 value as seconds with six decimals. */
function shortFixed(c: PrintContext, off: number): string {
  const i = c.u16(off);
  const f = Math.trunc((c.u16(off + 2) / 65536) * 1000000);
  return i + '.' + pad(f, 6);
}

function nanos(fraction: number): number {
  return Math.trunc((fraction / FMAXINT) * 1000000000);
}

/** p_ntp_time: seconds.nanoseconds and, unless zero, the UTC date. */
function timestamp(c: PrintContext, off: number): string {
  const i = c.u32(off);
  let text = i + '.' + pad(nanos(c.u32(off + 4)), 9);
  if (i) {
    const d = new Date((i - JAN_1970) * 1000);
    text += ' (' + d.toISOString().replace(/\.\d{3}Z$/, 'Z') + ')';
  }
  return text;
}

/** p_ntp_delta: the signed difference of two timestamps (or the second, when the first is zero). */
function delta(c: PrintContext, oldOff: number, newOff: number): string {
  const u = c.u32(newOff);
  const ou = c.u32(oldOff);
  const uf = c.u32(newOff + 4);
  const ouf = c.u32(oldOff + 4);
  if (ou === 0 && ouf === 0) return timestamp(c, newOff);
  let sign: boolean;
  let i: number;
  let f: number;
  if (u > ou) {
    sign = false;
    i = u - ou;
    f = (uf - ouf) >>> 0;
    if (ouf > uf) i -= 1;
  } else if (u < ou) {
    sign = true;
    i = ou - u;
    f = (ouf - uf) >>> 0;
    if (uf > ouf) i -= 1;
  } else {
    i = 0;
    sign = !(uf > ouf);
    f = uf > ouf ? uf - ouf : ouf - uf;
  }
  return (sign ? '-' : '+') + (i >>> 0) + '.' + pad(nanos(f), 9);
}

export function printNTP(c: PrintContext, off: number, length: number): void {
  c.proto = 'ntp';
  const status = c.u8(off);
  const version = (status >> 3) & 7;
  const mode = status & 7;
  c.w('NTPv' + version);
  if (!c.opts.verbose) {
    c.w(', ' + MODES[mode] + ', length ' + length);
    return;
  }
  c.w(', ' + MODES[mode] + ', length ' + length + '\n');
  const leap = status & 0xc0;
  c.w('\tLeap indicator: ' + LEAP[leap] + ' (' + leap + ')');
  if (mode <= 5) printTime(c, off, length);
  else if (mode === 6) printControl(c, off, length);
}

/** ntp_control_print: the mode 6 header's fields; the data is not interpreted (tcpdump says so). */
function printControl(c: PrintContext, off: number, length: number): void {
  const invalid = (): void => {
    c.w(' (invalid)');
    if (!c.has(off, length)) throw TRUNCATED_CHECK;
  };
  if (length < CONTROL_HEADER) return invalid();
  const control = c.u8(off + 1);
  c.w(', ' + (control & 0x80 ? 'Response' : 'Request') + ', ' + (control & 0x40 ? 'Error' : 'OK') + ', ' + (control & 0x20 ? 'More' : 'Last') + ', OpCode=' + (control & 0x1f) + '\n');
  const status = c.u16(off + 4);
  const count = c.u16(off + 10);
  c.w('\tSequence=' + c.u16(off + 2) + ', Status=' + (status ? '0x' + status.toString(16) : '0') + ', Assoc.=' + c.u16(off + 6) + ', Offset=' + c.u16(off + 8) + ', Count=' + count);
  if (CONTROL_HEADER + count > length) return invalid();
  if (count !== 0) {
    if (!c.has(off + CONTROL_HEADER, count)) throw TRUNCATED_CHECK;
    c.w('\n\tTO-BE-DONE: data not interpreted');
  }
}

function printTime(c: PrintContext, off: number, length: number): void {
  if (length < 48) {
    c.w(' (invalid)');
    return;
  }
  const stratum = c.u8(off + 1);
  const stratumName = stratum === 0 ? 'unspecified' : stratum === 1 ? 'primary reference' : stratum >= 2 && stratum <= 15 ? 'secondary reference' : 'reserved';
  c.w(', Stratum ' + stratum + ' (' + stratumName + ')');
  const poll = s8(c.u8(off + 2));
  c.w(', poll ' + poll);
  if (poll > -32 && poll < 32) c.w(poll >= 0 ? ' (' + 2 ** poll + 's)' : ' (1/' + 2 ** -poll + 's)');
  c.w(', precision ' + s8(c.u8(off + 3)));
  if (!c.has(off + 4, 4)) throw TRUNCATED_CHECK;
  c.w('\n\tRoot Delay: ' + shortFixed(c, off + 4));
  if (!c.has(off + 8, 4)) throw TRUNCATED_CHECK;
  c.w(', Root dispersion: ' + shortFixed(c, off + 8));
  if (!c.has(off + 12, 4)) throw TRUNCATED_CHECK;
  c.w(', Reference-ID: ');
  switch (stratum) {
    case 0:
      c.w('(unspec)');
      break;
    case 1:
      for (let i = 0; i < 4; i++) {
        const ch = c.u8(off + 12 + i);
        c.w(ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : ch >= 0x80 ? 'M-' + String.fromCharCode(ch & 0x7f) : '^' + String.fromCharCode(ch ^ 0x40));
      }
      break;
    case 254:
      c.w(c.ipv4(off + 12) + ' INFO_QUERY');
      return;
    case 255:
      c.w(c.ipv4(off + 12) + ' INFO_REPLY');
      return;
    default:
      c.w('0x' + c.u32(off + 12).toString(16).padStart(8, '0'));
  }
  const labels = ['Reference Timestamp:  ', 'Originator Timestamp: ', 'Receive Timestamp:    ', 'Transmit Timestamp:   '];
  for (let i = 0; i < 4; i++) {
    if (!c.has(off + 16 + 8 * i, 8)) throw TRUNCATED_CHECK;
    c.w('\n\t  ' + labels[i] + timestamp(c, off + 16 + 8 * i));
  }
  c.w('\n\t    Originator - Receive Timestamp:  ' + delta(c, off + 24, off + 32));
  c.w('\n\t    Originator - Transmit Timestamp: ' + delta(c, off + 24, off + 40));
  if (length === 52) c.w('\n\tKey id: ' + c.u32(off + 48));
  else if (length === 68 || length === 72) {
    c.w('\n\tKey id: ' + c.u32(off + 48));
    if (!c.has(off + 52, length - 52)) throw TRUNCATED_CHECK;
    c.w('\n\tAuthentication: ');
    for (let p = off + 52; p < off + length; p += 4) c.w(c.u32(p).toString(16).padStart(8, '0'));
  } else if (length > 48) c.w('\n\t(' + (length - 48) + ' more bytes after the header)');
}
