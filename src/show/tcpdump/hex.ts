/** tcpdump's hex_print: `<indent>0x0010:  4500 0028 ...`, eight 16-bit groups a line. */
import { HEX2 } from './context.js';

const OFFSETS: string[] = [];

function offsetText(n: number): string {
  const i = n >> 4;
  return (OFFSETS[i] ??= '0x' + n.toString(16).padStart(4, '0') + ': ');
}

export function hexLines(b: Uint8Array, off: number, length: number, indent: string): string {
  let s = '';
  const end = off + length;
  let i = 0;
  let p = off;
  for (; p + 1 < end; p += 2) {
    if (i++ % 8 === 0) s += indent + offsetText(p - off);
    s += ' ' + HEX2[b[p]!] + HEX2[b[p + 1]!];
  }
  if (p < end) {
    if (i % 8 === 0) s += indent + offsetText(p - off);
    s += ' ' + HEX2[b[p]!];
  }
  return s;
}

/** tcpdump's hex_and_ascii_print (the default printer for what it cannot decode). */
export function hexAsciiLines(b: Uint8Array, off: number, length: number, indent: string): string {
  let s = '';
  for (let line = 0; line < length; line += 16) {
    let hex = '';
    let ascii = '';
    const n = Math.min(16, length - line);
    for (let j = 0; j < n; j += 2) {
      const c1 = b[off + line + j]!;
      if (j + 1 < n) {
        const c2 = b[off + line + j + 1]!;
        hex += ' ' + HEX2[c1] + HEX2[c2];
        ascii += graph(c1) + graph(c2);
      } else {
        hex += ' ' + HEX2[c1];
        ascii += graph(c1);
      }
    }
    s += indent + offsetText(line) + hex.padEnd(40, ' ') + '  ' + ascii;
  }
  return s;
}

function graph(ch: number): string {
  return ch > 0x20 && ch < 0x7f ? String.fromCharCode(ch) : '.';
}

/**
 * tcpdump's ascii_print (-A): a newline, then the bytes as text: printable ASCII, tabs, spaces
 * and newlines as they are, anything else as '.', and a carriage return left out before a
 * newline (and, as tcpdump's test reads, when it is one of the last two bytes).
 */
export function asciiText(b: Uint8Array, off: number, length: number): string {
  let s = '\n';
  const end = off + length;
  for (let p = off; p < end; p++) {
    const ch = b[p]!;
    if (ch === 0x0d) {
      // After the CR, end - p - 1 bytes are left; tcpdump prints '.' only when more than one is.
      if (end - p - 1 > 1 && b[p + 1] !== 0x0a) s += '.';
    } else if ((ch > 0x20 && ch < 0x7f) || ch === 0x09 || ch === 0x20 || ch === 0x0a) s += String.fromCharCode(ch);
    else s += '.';
  }
  return s;
}
