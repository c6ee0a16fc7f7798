/**
 * The state one tcpdump-style line is printed with: the captured bytes, how far they go (the
 * snapshot end, which headers can shorten as tcpdump's nd_push_snaplen does), the text so far,
 * the options (-v, -S, -e) and the per-flow TCP sequence table that outlives the packet.
 *
 * A read past the snapshot end throws TRUNCATED; the top level catches it and appends
 * ` [|proto]`, which is what tcpdump's longjmp on a short capture prints.
 */
import { formatIPv6, ipv6HasDottedTail, ipv6ZeroRun } from '../../wire/addr.js';
import type { TCPFlowTable } from './tcp-flows.js';
import type { IPInfo } from './tcp.js';

export interface PrintOptions {
  /** -v: IP header line, checksum verdicts. */
  verbose: number;
  /** -S: absolute TCP sequence numbers. */
  absolute: boolean;
  /** -e: the link-layer header. */
  link: boolean;
  /** -q: tcpdump's quick output (`tcp N` for TCP, no port dissectors, short link types). */
  quiet?: boolean;
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
  /** The bytes the frame lies in (a whole read chunk, or the frame alone). */
  b: Buffer = Buffer.alloc(0);
  /** Where the frame starts in b: every printer reads b at absolute offsets. */
  frame = 0;
  /** End of the captured bytes the current printer may read. */
  snapend = 0;
  /**
   * The text being written, as bytes: printers append with w() and friends, never building
   * strings they would only concatenate (a line's worth of short-lived strings per packet is
   * most of the cost of printing hundreds of thousands of packets a second). All ASCII.
   */
  // Room for `synack read`'s 64 KiB blocks and a long line past them: the field keeps its
  // first buffer (V8 deoptimizes the writers the first time a constant-so-far field changes).
  out: Buffer = Buffer.allocUnsafe(1 << 17);
  /** `out` as a DataView, for copies four bytes a step (wbytes). */
  private outView = viewOf(this.out);
  /** Where the next byte of text goes. */
  pos = 0;
  /** The protocol named in ` [|proto]` when the bytes run out. */
  proto = '';
  /** Length of the link-layer header, which -x leaves out. */
  linkHeader = 0;
  readonly opts: PrintOptions;
  readonly flows: TCPFlowTable;
  /**
   * Where the frame's IP headers are, one record per header (an ICMP error's quoted packet has
   * a second), reused from frame to frame instead of an object per packet; printFrame starts
   * the count again.
   */
  private readonly ips: IPInfo[] = [];
  ipCount = 0;

  constructor(opts: PrintOptions, flows: TCPFlowTable) {
    this.opts = opts;
    this.flows = flows;
  }

  /** The record of an IP header for the printers above it: valid while this frame is printed. */
  ipAt(version: 4 | 6, off: number, direct: boolean, finalDst: number | undefined): IPInfo {
    let ip = this.ips[this.ipCount];
    if (ip === undefined) this.ips.push((ip = { version, off, direct, finalDst }));
    else {
      ip.version = version;
      ip.off = off;
      ip.direct = direct;
      ip.finalDst = finalDst;
    }
    this.ipCount++;
    return ip;
  }

  /** Room for n more bytes of text: the buffer doubles (text already taken out stays valid). */
  room(n: number): void {
    if (this.pos + n <= this.out.length) return;
    let size = this.out.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.out.copy(bigger, 0, 0, this.pos);
    this.out = bigger;
    this.outView = viewOf(bigger);
  }

  /** Appends ASCII text. */
  w(s: string): void {
    const n = s.length;
    if (this.pos + n > this.out.length) this.room(n);
    const o = this.out;
    const p = this.pos;
    if (n > 32) {
      this.pos = p + o.write(s, p, 'latin1');
      return;
    }
    for (let i = 0; i < n; i++) o[p + i] = s.charCodeAt(i);
    this.pos = p + n;
  }

  /**
   * Appends n bytes of text from src[from, from + n). Four bytes a step through DataViews:
   * three times faster than a byte loop, or than set() or copy() for the 20-100 bytes here.
   */
  wbytes(src: DataView, from: number, n: number): void {
    if (this.pos + n > this.out.length) this.room(n);
    const o = this.outView;
    const p = this.pos;
    let i = 0;
    for (; i + 4 <= n; i += 4) o.setInt32(p + i, src.getInt32(from + i));
    for (; i < n; i++) o.setUint8(p + i, src.getUint8(from + i));
    this.pos = p + n;
  }

  /** Appends a constant text made once (see ByteText). */
  wt(t: ByteText): void {
    this.wbytes(t.view, 0, t.length);
  }

  /** Appends one character by its code. */
  wc(code: number): void {
    if (this.pos + 1 > this.out.length) this.room(1);
    this.out[this.pos++] = code;
  }

  /**
   * Appends a whole number in decimal (what String(n) gives, without the string). A 32-bit
   * number is split into two halves below 10^5, so that every digit comes from small-integer
   * arithmetic, two digits a step.
   */
  wn(n: number): void {
    // Negative, fractional or beyond 32 bits: rare enough for the string.
    if (n >>> 0 !== n) return this.w(String(n));
    if (this.pos + 10 > this.out.length) this.room(10);
    if (n < 100000) {
      this.pos = smallNumber(this.out, this.pos, n);
      return;
    }
    const high = (n / 100000) >>> 0;
    const p = smallNumber(this.out, this.pos, high);
    this.pos = fixedDigits(this.out, p, n - high * 100000, 5);
  }

  /**
   * Appends the unsigned 32-bit number whose bits the signed `n` holds (what i32() reads), in
   * decimal. The hot printers keep 32-bit fields signed so that every value stays a small
   * integer to V8: an unsigned one above 2^31 is a double, boxed at each call and store, and
   * code optimized for small integers deoptimizes on the first ("not a Smi", "lost precision").
   */
  wu32(n: number): void {
    if (n >= 0) return this.wn(n);
    if (this.pos + 10 > this.out.length) this.room(10);
    // n as unsigned is 2^31 + h with h = n & 0x7fffffff: its five digits and the ones before
    // from h's halves and 2^31's (21474 * 10^5 + 83648), with a carry: small integers only.
    const h = n & 0x7fffffff;
    const hHigh = (h / 100000) | 0;
    let low = h - hHigh * 100000 + 83648;
    let high = hHigh + 21474;
    if (low >= 100000) {
      low -= 100000;
      high++;
    }
    const p = smallNumber(this.out, this.pos, high);
    this.pos = fixedDigits(this.out, p, low, 5);
  }

  /** Appends n in decimal, zero-padded to `width` digits (n below 10^width, width at most 10). */
  wpad(n: number, width: number): void {
    if (this.pos + width > this.out.length) this.room(width);
    if (width <= 5) {
      this.pos = fixedDigits(this.out, this.pos, n, width);
      return;
    }
    // Small-integer division for the nine-digit fractions; Math.floor only past 2^31.
    const high = n <= 0x7fffffff ? (n / 1e5) | 0 : Math.floor(n / 1e5);
    const p = fixedDigits(this.out, this.pos, high, width - 5);
    this.pos = fixedDigits(this.out, p, n - high * 1e5, 5);
  }

  /** Appends the IPv4 address at off in dotted decimal. */
  wipv4(off: number): void {
    if (off + 4 > this.snapend) throw TRUNCATED;
    if (this.pos + 15 > this.out.length) this.room(15);
    const b = this.b;
    const o = this.out;
    let p = this.pos;
    for (let i = 0; i < 4; i++) {
      if (i) o[p++] = 46;
      const v = b[off + i]!;
      if (v >= 100) {
        o[p++] = 48 + ((v / 100) | 0);
        o[p++] = 48 + (((v / 10) | 0) % 10);
      } else if (v >= 10) o[p++] = 48 + ((v / 10) | 0);
      o[p++] = 48 + (v % 10);
    }
    this.pos = p;
  }

  /** Appends the IPv6 address at off as inet_ntop writes it (see ipv6Text). */
  wipv6(off: number): void {
    if (off + 16 > this.snapend) throw TRUNCATED;
    const b = this.b;
    const run = ipv6ZeroRun(b, off);
    const bestStart = run < 0 ? -1 : run >> 4;
    const bestLen = run < 0 ? 0 : run & 15;
    // A dotted IPv4 tail (::a.b.c.d, ::ffff:a.b.c.d) is rare: the string form handles it.
    if (ipv6HasDottedTail(b, off, run)) return this.w(ipv6Text(b, off));
    if (this.pos + 39 > this.out.length) this.room(39);
    const o = this.out;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) {
        o[p++] = 0x3a;
        o[p++] = 0x3a;
        i += bestLen - 1;
        continue;
      }
      if (p > start && o[p - 1] !== 0x3a) o[p++] = 0x3a;
      const v = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
      if (v >= 0x1000) o[p++] = HEX_DIGIT[v >> 12]!;
      if (v >= 0x100) o[p++] = HEX_DIGIT[(v >> 8) & 15]!;
      if (v >= 0x10) o[p++] = HEX_DIGIT[(v >> 4) & 15]!;
      o[p++] = HEX_DIGIT[v & 15]!;
    }
    this.pos = p;
  }

  /** The text written since `start`, as a string. */
  textFrom(start: number): string {
    return this.out.toString('latin1', start, this.pos);
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

  /** The 32 bits at off as a signed number (a small integer to V8, never a double): print it with wu32(). */
  i32(off: number): number {
    if (off + 4 > this.snapend) throw TRUNCATED;
    return (this.b[off]! << 24) | (this.b[off + 1]! << 16) | (this.b[off + 2]! << 8) | this.b[off + 3]!;
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

/**
 * An ASCII text the hot printers write on most lines (`, seq `, `Flags [.]`), as bytes made
 * once: wt() copies it four bytes a step, where w() takes a string a character at a time.
 */
export class ByteText {
  readonly view: DataView;
  readonly length: number;
  constructor(s: string) {
    this.view = viewOf(Buffer.from(s, 'latin1'));
    this.length = s.length;
  }
}

/** A DataView over all of a buffer's bytes. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** '00' '01' ... '99' as byte pairs. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : ((i >> 1) / 10) | 0));

/** Writes v (below 10^5) without leading zeros at o[p]; returns the offset after it. */
function smallNumber(o: Buffer, p: number, v: number): number {
  if (v < 10) {
    o[p] = 48 + v;
    return p + 1;
  }
  return fixedDigits(o, p, v, v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5);
}

/** Writes v (below 10^5) as exactly `width` digits at o[p], two at a time; returns the offset after them. */
function fixedDigits(o: Buffer, p: number, v: number, width: number): number {
  const end = p + width;
  let q = end;
  while (q - p >= 2) {
    const next = (v / 100) | 0;
    const pair = (v - next * 100) << 1;
    o[--q] = DIGIT_PAIRS[pair + 1]!;
    o[--q] = DIGIT_PAIRS[pair]!;
    v = next;
  }
  if (q > p) o[--q] = 48 + (v % 10);
  return end;
}

const HEX_DIGIT = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));

export const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));


/** inet_ntop's IPv6 text: the wire's one formatter (wire/addr.ts). */
export function ipv6Text(b: Uint8Array, off: number): string {
  return formatIPv6(b, off);
}

/** The internet checksum's pieces are the wire's (wire/checksum.ts): an unfolded sum, then its result. */
export { sumWords as sum16, finishChecksum as cksumResult } from '../../wire/checksum.js';

/** tcpdump's in_cksum_shouldbe: the checksum the field should have held. */
export function cksumShouldBe(fieldValue: number, computed: number): number {
  let shouldbe = fieldValue;
  shouldbe += computed;
  shouldbe = (shouldbe & 0xffff) + (shouldbe >> 16);
  shouldbe = (shouldbe & 0xffff) + (shouldbe >> 16);
  return shouldbe;
}
