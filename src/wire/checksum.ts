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
 * 20,000 stacked ICMP headers sum 1.6 GB.
 */
interface SuffixSum {
  buf: Uint8Array;
  end: number;
  at: number;
  sum: number;
}
let suffix: SuffixSum | undefined;

/** Starts keeping the sum of buf's bytes from `at` (moving down) to `end`: nothing is summed yet. */
export function beginSuffixSum(buf: Uint8Array, end: number): void {
  suffix = { buf, end, at: end, sum: 0 };
}

/** The bytes from `at` to the end are final now. An odd split cannot be joined: keeping stops. */
export function extendSuffixSum(at: number): void {
  if (!suffix || at > suffix.at) return;
  if (((suffix.at - at) & 1) !== 0) {
    suffix = undefined;
    return;
  }
  suffix.sum = plainSum(suffix.buf, at, suffix.at, suffix.sum);
  suffix.at = at;
}

export function endSuffixSum(): void {
  suffix = undefined;
}

/** Adds the 16-bit big-endian words of buf[start, end) to `sum`; an odd last byte is padded with zero. */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  const s = suffix;
  if (s !== undefined && buf === s.buf && end === s.end && start <= s.at && ((s.at - start) & 1) === 0) {
    return plainSum(buf, start, s.at, sum) + s.sum;
  }
  return plainSum(buf, start, end, sum);
}

function plainSum(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  const even = end - ((end - start) & 1);
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

/** Partial sum of the IPv4 pseudo-header: source, destination, zero, protocol, length. */
export function pseudoSumV4(src: Uint8Array, dst: Uint8Array, proto: number, length: number): number {
  return sumWords(src, 0, 4) + sumWords(dst, 0, 4) + proto + (length & 0xffff);
}

/** Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): addresses, upper-layer length, next header. */
export function pseudoSumV6(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  return sumWords(src, 0, 16) + sumWords(dst, 0, 16) + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader;
}
