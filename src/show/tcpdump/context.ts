/**
 * The state one tcpdump-style line is printed with: the captured bytes, how far they go (the
 * snapshot end, which headers can shorten as tcpdump's nd_push_snaplen does), the text so far,
 * the options (-v, -S, -e) and the per-flow TCP sequence table that outlives the packet.
 *
 * A read past the snapshot end throws TRUNCATED; the top level catches it and appends
 * ` [|proto]`, which is what tcpdump's longjmp on a short capture prints.
 */
import type { TCPFlowTable } from './tcp-flows.js';

export interface PrintOptions {
  /** -v: IP header line, checksum verdicts. */
  verbose: number;
  /** -S: absolute TCP sequence numbers. */
  absolute: boolean;
  /** -e: the link-layer header. */
  link: boolean;
}

/**
 * Thrown (not an Error: no stack to build) when a printer reads past the captured bytes with
 * one of tcpdump's GET_ macros, which longjmp to the top: -x then dumps the whole frame.
 */
export const TRUNCATED = { truncated: true } as const;

/**
 * Thrown by tcpdump's ND_TCHECK checks, which `goto trunc` inside the printer: the line ends
 * the same way, but the printer returns normally, so -x still leaves out the link header.
 */
export const TRUNCATED_CHECK = { truncated: true, check: true } as const;

export class PrintContext {
  b: Buffer = Buffer.alloc(0);
  /** End of the captured bytes the current printer may read. */
  snapend = 0;
  /** The line being written. */
  s = '';
  /** The protocol named in ` [|proto]` when the bytes run out. */
  proto = '';
  /** Length of the link-layer header, which -x leaves out. */
  linkHeader = 0;
  readonly opts: PrintOptions;
  readonly flows: TCPFlowTable;

  constructor(opts: PrintOptions, flows: TCPFlowTable) {
    this.opts = opts;
    this.flows = flows;
  }

  u8(off: number): number {
    if (off >= this.snapend) throw TRUNCATED;
    return this.b[off]!;
  }

  u16(off: number): number {
    if (off + 2 > this.snapend) throw TRUNCATED;
    return (this.b[off]! << 8) | this.b[off + 1]!;
  }

  u32(off: number): number {
    if (off + 4 > this.snapend) throw TRUNCATED;
    return ((this.b[off]! << 24) | (this.b[off + 1]! << 16) | (this.b[off + 2]! << 8) | this.b[off + 3]!) >>> 0;
  }

  /** Whether n bytes from off were captured (tcpdump's ND_TTEST_LEN). */
  has(off: number, n: number): boolean {
    return n >= 0 && off + n <= this.snapend;
  }

  /** ND_TCHECK_LEN in a printer with a `trunc:` label. */
  need(off: number, n: number): void {
    if (off + n > this.snapend || n < 0) throw TRUNCATED_CHECK;
  }

  /** ND_TCHECK_LEN in a printer built with ND_LONGJMP_FROM_TCHECK (ARP, Ethernet, SLL, null). */
  needOrJump(off: number, n: number): void {
    if (off + n > this.snapend || n < 0) throw TRUNCATED;
  }

  ipv4(off: number): string {
    if (off + 4 > this.snapend) throw TRUNCATED;
    const b = this.b;
    return DEC[b[off]!]! + '.' + DEC[b[off + 1]!]! + '.' + DEC[b[off + 2]!]! + '.' + DEC[b[off + 3]!]!;
  }

  ipv6(off: number): string {
    if (off + 16 > this.snapend) throw TRUNCATED;
    return ipv6Text(this.b, off);
  }

  mac(off: number): string {
    if (off + 6 > this.snapend) throw TRUNCATED;
    const b = this.b;
    return HEX2[b[off]!]! + ':' + HEX2[b[off + 1]!]! + ':' + HEX2[b[off + 2]!]! + ':' + HEX2[b[off + 3]!]! + ':' + HEX2[b[off + 4]!]! + ':' + HEX2[b[off + 5]!]!;
  }
}

export const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** 0x%04x */
export function hex4(n: number): string {
  return HEX2[(n >> 8) & 0xff]! + HEX2[n & 0xff]!;
}

/** inet_ntop: the longest run of two or more zero groups becomes '::'; ::a.b.c.d and ::ffff:a.b.c.d keep a dotted tail. */
export function ipv6Text(b: Uint8Array, off: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const zero = b[off + 2 * i] === 0 && b[off + 2 * i + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestLen = i - runStart + 1;
        bestStart = runStart;
      }
    } else runStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  const dotted = bestStart === 0 && (bestLen === 6 || (bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff));
  const last = dotted ? 6 : 8;
  let s = '';
  for (let i = 0; i < last; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!).toString(16);
  }
  if (dotted) s += (s.endsWith(':') ? '' : ':') + DEC[b[off + 12]!] + '.' + DEC[b[off + 13]!] + '.' + DEC[b[off + 14]!] + '.' + DEC[b[off + 15]!];
  return s;
}

/** The internet checksum over b[off, end), unfolded sum plus `initial`. */
export function sum16(b: Uint8Array, off: number, end: number, initial = 0): number {
  let sum = initial;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** tcpdump's in_cksum result: 0 when the data (checksum included) is right. */
export function cksumResult(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** tcpdump's in_cksum_shouldbe: the checksum the field should have held. */
export function cksumShouldBe(fieldValue: number, computed: number): number {
  let shouldbe = fieldValue;
  shouldbe += computed;
  shouldbe = (shouldbe & 0xffff) + (shouldbe >> 16);
  shouldbe = (shouldbe & 0xffff) + (shouldbe >> 16);
  return shouldbe;
}
