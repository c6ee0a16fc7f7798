/**
 * The internet checksum (RFC 1071) and the pseudo-headers that TCP, UDP and ICMPv6 sum over.
 *
 * Sums are kept unfolded in a plain number: 32-bit words of 16-bit adds cannot overflow a
 * double for any packet that fits in 64 KiB, so folding happens once, at the end.
 */

/** Adds the 16-bit big-endian words of buf[start, end) to `sum`; an odd last byte is padded with zero. */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
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
