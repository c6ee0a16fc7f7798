/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons that survive wraparound.
 * The TCP layer (matching), the conversation engine and the analyzer all count on this circle.
 */
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
export const seqDiff = (a: number, b: number): number => ((a - b) | 0);
export const seqLt = (a: number, b: number): boolean => seqDiff(a, b) < 0;
export const seqLe = (a: number, b: number): boolean => seqDiff(a, b) <= 0;
export const seqGt = (a: number, b: number): boolean => seqDiff(a, b) > 0;
export const seqGe = (a: number, b: number): boolean => seqDiff(a, b) >= 0;

/** |a - b| on the 32-bit sequence circle. */
export function seqDistance(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d > 0x7fffffff ? 0x100000000 - d : d;
}
