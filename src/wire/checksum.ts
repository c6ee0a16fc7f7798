/**
 * The internet checksum (RFC 1071) and the pseudo-headers that TCP, UDP and ICMPv6 sum over.
 *
 * Sums are kept unfolded in a plain number: 32-bit words of 16-bit adds cannot overflow a
 * double for any packet that fits in 64 KiB, so folding happens once, at the end.
 */

/**
 * The sum of buf[at, end) while a packet is being built, kept by buildPacket as it fixes the
 * checksums inner to outer: a layer whose checksum covers everything after it (ICMP, TCP, UDP)
 * then sums only its own header plus this, instead of every byte after it again. Without it,
 * 20,000 stacked ICMP headers sum 1.6 GB. Summed on demand: bytes declared final are added
 * only when a checksum asks (an IPv4 header below TCP never does, so TCP's bytes are summed once).
 */
interface SuffixSum {
  buf: Uint8Array;
  end: number;
  /** sum covers buf[at, end). */
  at: number;
  sum: number;
  /** buf[final, end) is final; [final, at) is not summed yet. */
  final: number;
}
let suffix: SuffixSum | undefined;
/** The one record buildPacket keeps (builds do not nest), reused so a build allocates none. */
const suffixRecord: SuffixSum = { buf: new Uint8Array(0), end: 0, at: 0, sum: 0, final: 0 };

/** Starts keeping the sum of buf's bytes from `at` (moving down) to `end`: nothing is summed yet. */
export function beginSuffixSum(buf: Uint8Array, end: number): void {
  suffixRecord.buf = buf;
  suffixRecord.end = end;
  suffixRecord.at = end;
  suffixRecord.sum = 0;
  suffixRecord.final = end;
  suffix = suffixRecord;
}

/** The bytes from `at` to the end are final now. An odd split cannot be joined: keeping stops. */
export function extendSuffixSum(at: number): void {
  if (!suffix || at > suffix.final) return;
  if (((suffix.final - at) & 1) !== 0) {
    suffix = undefined;
    return;
  }
  suffix.final = at;
}

export function endSuffixSum(): void {
  suffix = undefined;
  suffixRecord.buf = EMPTY;
}

const EMPTY = new Uint8Array(0);

/** Adds the 16-bit big-endian words of buf[start, end) to `sum`; an odd last byte is padded with zero. */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  const s = suffix;
  if (s !== undefined && buf === s.buf && end === s.end && start <= s.final && ((s.final - start) & 1) === 0) {
    if (s.final < s.at) {
      s.sum = plainSum(buf, s.final, s.at, s.sum);
      s.at = s.final;
    }
    return plainSum(buf, start, s.at, sum) + s.sum;
  }
  return plainSum(buf, start, end, sum);
}

function plainSum(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  const even = end - ((end - start) & 1);
  // Two words a turn: half the loop overhead for the headers most sums cover.
  for (const pairs = even - ((even - i) & 3); i < pairs; i += 4) sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!);
  for (; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds the carries and complements: the value to write into a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The internet checksum of buf[start, end). */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return finishChecksum(sumWords(buf, start, end));
}

/**
 * Partial sum of the pseudo-header of an upper-layer checksum, read from the network header's
 * bytes: the addresses at buf[addrs, addrs + 2 * addrLength) (IPv4: 4 bytes each, IPv6: 16),
 * then protocol and length (RFC 768/9293 for IPv4; RFC 8200 §8.1's 32-bit length for IPv6).
 */
export function pseudoHeaderSum(buf: Uint8Array, addrs: number, addrLength: 4 | 16, proto: number, length: number): number {
  return sumWords(buf, addrs, addrs + 2 * addrLength) + proto + Math.floor(length / 0x10000) + (length & 0xffff);
}

/** A layer below that can sum a pseudo-header (IPv4, IPv6), seen structurally: the wire knows no layers. */
interface PseudoHeaderSource {
  pseudoSum?(out: Buffer, off: number, upperProto: number, upperLength: number, ctx: never, index: number): number;
  pseudoSumDecoded?(upperProto: number, upperLength: number): number;
}

/**
 * The checksum of an upper-layer segment at out[off, end) (TCP, UDP, ICMPv6) under the network
 * layer below it in `ctx.layers`. Undefined when no IPv4 or IPv6 layer lies directly below
 * (IPv6 extension headers between are looked through; Scapy leaves the field zero then).
 */
export function upperLayerChecksum(out: Buffer, off: number, end: number, ctx: { readonly layers: readonly object[]; readonly offsets: readonly number[] }, index: number, proto: number): number | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const below = ctx.layers[i] as PseudoHeaderSource;
    if (typeof below.pseudoSum === 'function') {
      return finishChecksum(below.pseudoSum(out, ctx.offsets[i]!, proto, end - off, ctx as never, i) + sumWords(out, off, end));
    }
    if (!('isExtensionHeader' in below)) return undefined;
  }
  return undefined;
}

/** Whether a dissected segment's checksum sums to zero with the pseudo-header of the layer below. */
export function verifyUpperChecksum(buf: Buffer, off: number, end: number, ctx: { readonly below: readonly object[] }, proto: number): boolean | undefined {
  for (let i = ctx.below.length - 1; i >= 0; i--) {
    const below = ctx.below[i] as PseudoHeaderSource;
    if (typeof below.pseudoSumDecoded === 'function') return finishChecksum(below.pseudoSumDecoded(proto, end - off) + sumWords(buf, off, end)) === 0;
    if (!('isExtensionHeader' in below)) return undefined;
  }
  return undefined;
}
