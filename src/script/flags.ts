/**
 * Flag letters as packetdrill and tcpdump write them: S F R P U E (ECE) W (CWR), '.' for ACK,
 * '-' for none. Written back in tcpdump's order (print-tcp.c's table: F S R P . U E W), so 'S.',
 * 'FP.' and 'FP.U', as tcpdump prints them and packetdrill writes them.
 */
import { TCPFlag } from '../layers/tcp.js';

const LETTERS: ReadonlyArray<[string, number]> = [
  ['F', TCPFlag.F], ['S', TCPFlag.S], ['R', TCPFlag.R], ['P', TCPFlag.P],
  ['.', TCPFlag.A], ['U', TCPFlag.U], ['E', TCPFlag.E], ['W', TCPFlag.C],
];

/** The bits of one letter, or undefined when it is not a flag letter. */
export function scriptFlagBit(letter: string): number | undefined {
  for (const [l, bit] of LETTERS) if (l === letter) return bit;
  return undefined;
}

export const SCRIPT_FLAG_LETTERS = 'FSRP.UEW';

/** Bits -> 'S.' / 'F.' / '-' (NS is not written: packetdrill has no letter for it). */
export function formatScriptFlags(bits: number): string {
  let s = '';
  for (const [l, bit] of LETTERS) if (bits & bit) s += l;
  return s || '-';
}
