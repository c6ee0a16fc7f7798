/**
 * tcpdump's txtproto_print (util-print.c), used for HTTP and friends: the protocol's name, then
 * the first line when the payload starts with a request or a response (every line with -v).
 */
import type { PrintContext } from './context.js';

function isSpace(ch: number): boolean {
  return ch === 0x20 || ch === 0x09 || ch === 0x0a || ch === 0x0d || ch === 0x0b || ch === 0x0c;
}

/** fetch_token: the next blank-delimited token at idx, and where the following one starts (0: none). */
function fetchToken(c: PrintContext, start: number, idx: number, len: number): { token: string; next: number } {
  const b = c.b;
  let i = idx;
  for (; i < len; i++) {
    if (!c.has(start + i, 1)) return { token: '', next: 0 };
    const ch = b[start + i]!;
    if (isSpace(ch)) break;
    if (ch < 0x20 || ch > 0x7e) return { token: '', next: 0 };
    if (i - idx >= 128) return { token: '', next: 0 };
  }
  if (i === len) return { token: '', next: 0 };
  const token = b.toString('latin1', start + idx, start + i);
  for (; i < len; i++) {
    if (!c.has(start + i, 1)) break;
    const ch = b[start + i]!;
    if (ch === 0x0d || ch === 0x0a) break;
    if (!isSpace(ch)) break;
  }
  return { token, next: i };
}

/** print_txt_line: one line from idx, control characters escaped; returns the next line's index or 0. */
function printTextLine(c: PrintContext, prefix: string, start: number, idx: number, len: number): number {
  const b = c.b;
  const startidx = idx;
  let eol = 0;
  while (idx < len) {
    c.need(start + idx, 1);
    const ch = b[start + idx]!;
    if (ch === 0x0a) {
      eol = idx + 1;
      break;
    }
    if (ch === 0x0d) {
      if (idx + 1 >= len) return 0;
      c.need(start + idx + 1, 1);
      if (b[start + idx + 1] === 0x0a) {
        eol = idx + 2;
        break;
      }
    }
    if (!(ch >= 0x20 && ch <= 0x7e) && ch !== 0x09 && ch !== 0x0d) return 0;
    idx++;
  }
  if (eol === 0) return 0;
  c.s += prefix;
  for (let i = startidx; i < eol; i++) c.s += printableChar(b[start + i]!);
  return eol;
}

function printableChar(ch: number): string {
  if (ch >= 0x20 && ch <= 0x7e) return String.fromCharCode(ch);
  if (ch === 0x0d) return '\\r';
  if (ch === 0x0a) return '\\n';
  if (ch === 0x09) return '\\t';
  return '.';
}

export function printTextProtocol(c: PrintContext, start: number, len: number, name: string, cmds: readonly string[] | undefined, codeSecond: boolean): void {
  let printThis = false;
  if (cmds) {
    let { token, next } = fetchToken(c, start, 0, len);
    if (next !== 0) {
      const upper = token.toUpperCase();
      if (cmds.includes(upper)) printThis = true;
      if (codeSecond) ({ token, next } = fetchToken(c, start, next, len));
      if (next !== 0 && /^[0-9]{3}$/.test(token)) printThis = true;
    }
  } else printThis = true;
  c.s += name;
  if (c.opts.verbose) {
    for (let idx = 0, eol; idx < len && (eol = printTextLine(c, '\n\t', start, idx, len)) !== 0; idx = eol);
  } else if (printThis) {
    printTextLine(c, ': ', start, 0, len);
  }
}
