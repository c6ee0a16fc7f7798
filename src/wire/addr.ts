/**
 * Address text forms: IPv4 dotted quads, IPv6 (through ipaddr.js, which knows every RFC 4291
 * spelling), and Ethernet MACs. Parsers throw a usage error naming the bad text; formatters
 * never throw.
 */
import ipaddr from 'ipaddr.js';
import { usageError } from './errors.js';

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(text: string): boolean {
  const m = IPV4_RE.exec(text);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

export function isIPv6(text: string): boolean {
  return text.includes(':') && ipaddr.IPv6.isValid(text);
}

/**
 * Writes a dotted quad at buf[off..off+4) and returns it as a 32-bit number (a checksum sums
 * its two words without reading them back). A hand-rolled scan, since this runs twice for
 * every IPv4 packet built; anything unusual falls through to the checked path for its error.
 */
export function writeIPv4(text: string, buf: Uint8Array, off: number): number {
  // Most builds repeat a handful of addresses: remember their numeric form.
  let value = ipv4Cache.get(text);
  if (value === undefined) {
    scanIPv4(text, buf, off);
    value = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
    if (ipv4Cache.size >= 4096) ipv4Cache.clear();
    ipv4Cache.set(text, value);
  }
  buf[off] = value >>> 24;
  buf[off + 1] = (value >>> 16) & 0xff;
  buf[off + 2] = (value >>> 8) & 0xff;
  buf[off + 3] = value & 0xff;
  return value;
}

const ipv4Cache = new Map<string, number>();

function scanIPv4(text: string, buf: Uint8Array, off: number): void {
  let octet = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && part < 3 && octet <= 255) {
      buf[off + part++] = octet;
      octet = 0;
      digits = 0;
    } else {
      part = -1;
      break;
    }
  }
  if (part === 3 && digits > 0 && octet <= 255) {
    buf[off + 3] = octet;
    return;
  }
  writeIPv4Checked(text, buf, off);
}

function writeIPv4Checked(text: string, buf: Uint8Array, off: number): void {
  const m = IPV4_RE.exec(text);
  if (m === null) throw usageError(`bad IPv4 address '${text}': expected four numbers 0-255 like 127.0.0.1`);
  for (let i = 0; i < 4; i++) {
    const octet = Number(m[i + 1]);
    if (octet > 255) throw usageError(`bad IPv4 address '${text}': ${octet} is more than 255`);
    buf[off + i] = octet;
  }
}

export function parseIPv4(text: string): Buffer {
  const out = Buffer.alloc(4);
  writeIPv4(text, out, 0);
  return out;
}

export function formatIPv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** '::1.2.3.4' -> '::102:304': ipaddr.js would read an IPv4-compatible tail as IPv4-mapped (::ffff:). */
function hexTail(text: string): string {
  const cut = text.lastIndexOf(':');
  const tail = text.slice(cut + 1);
  if (!tail.includes('.') || !isIPv4(tail)) return text;
  const o = tail.split('.').map(Number) as [number, number, number, number];
  return `${text.slice(0, cut + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
}

export function writeIPv6(text: string, buf: Uint8Array, off: number): void {
  let parsed: ipaddr.IPv6;
  try {
    parsed = ipaddr.IPv6.parse(hexTail(text));
  } catch {
    throw usageError(`bad IPv6 address '${text}': expected a form like ::1 or 2001:db8::1`);
  }
  const bytes = parsed.toByteArray();
  for (let i = 0; i < 16; i++) buf[off + i] = bytes[i]!;
}

export function parseIPv6(text: string): Buffer {
  const out = Buffer.alloc(16);
  writeIPv6(text, out, 0);
  return out;
}

/**
 * IPv6 text as inet_ntop(3) writes it, which is what tcpdump and Scapy print: the longest run
 * of two or more zero groups becomes '::', and IPv4-mapped or -compatible addresses end in a
 * dotted quad.
 */
/**
 * inet_ntop's '::' for the IPv6 address at buf[off]: the first longest run of two or more zero
 * groups, as (start * 16 + length), or -1 when there is none.
 */
export function ipv6ZeroRun(buf: Uint8Array, off: number): number {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (buf[off + 2 * i] === 0 && buf[off + 2 * i + 1] === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestLen = i - runStart + 1;
        bestStart = runStart;
      }
    } else runStart = -1;
  }
  return bestLen < 2 ? -1 : bestStart * 16 + bestLen;
}

/** Whether glibc prints the address with a dotted IPv4 tail (::a.b.c.d, ::ffff:a.b.c.d), given its zero run. */
export function ipv6HasDottedTail(buf: Uint8Array, off: number, run: number): boolean {
  return run >= 0 && run >> 4 === 0 && ((run & 15) === 6 || ((run & 15) === 5 && buf[off + 10] === 0xff && buf[off + 11] === 0xff));
}

export function formatIPv6(buf: Uint8Array, off = 0): string {
  // One pass of string building, no arrays: the printer formats two addresses per IPv6 packet.
  const run = ipv6ZeroRun(buf, off);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestLen = run < 0 ? 0 : run & 15;
  const dotted = ipv6HasDottedTail(buf, off, run);
  const last = dotted ? 6 : 8;
  let s = '';
  for (let i = 0; i < last; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!).toString(16);
  }
  if (dotted) s += (s.endsWith(':') ? '' : ':') + formatIPv4(buf, off + 12);
  return s;
}

const MAC_RE = /^([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})$/;

export function writeMAC(text: string, buf: Uint8Array, off: number): void {
  const m = MAC_RE.exec(text);
  if (m === null) throw usageError(`bad MAC address '${text}': expected six hex bytes like 00:11:22:33:44:55`);
  for (let i = 0; i < 6; i++) buf[off + i] = parseInt(m[i + 1]!, 16);
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMAC(buf: Uint8Array, off = 0): string {
  return `${HEX2[buf[off]!]}:${HEX2[buf[off + 1]!]}:${HEX2[buf[off + 2]!]}:${HEX2[buf[off + 3]!]}:${HEX2[buf[off + 4]!]}:${HEX2[buf[off + 5]!]}`;
}

/**
 * One IP address, checked and written one way: a dotted quad without leading zeros, or IPv6
 * as inet_ntop writes it. This is the form every value takes before it reaches a system
 * command (nft, iptables, ip): nothing but digits, hex, '.' and ':' survives it, so no
 * separator, brace, newline or shell syntax can ride along. Zone ids ('%eth0') and prefixes
 * are refused, not dropped.
 */
export function canonicalAddress(text: unknown, what = 'address'): { address: string; family: 4 | 6 } {
  if (typeof text !== 'string') throw usageError(`bad ${what}: expected an IPv4 or IPv6 address as a string, not ${typeof text}`);
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
  if (isIPv4(text)) return { address: text.split('.').map(Number).join('.'), family: 4 };
  if (/^[0-9a-fA-F:.]+$/.test(text) && isIPv6(text)) return { address: formatIPv6(parseIPv6(text)), family: 6 };
  throw usageError(`bad ${what} ${shown}: give an IPv4 or IPv6 address like 127.0.0.1 or ::1`);
}
