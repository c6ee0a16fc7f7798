/**
 * tcpdump's txtproto_print (util-print.c, 4.99.3), used for HTTP and friends: the protocol's
 * name, then, when the payload starts with a request or a response, its first line (every
 * line with -v, after `, length: N`). Lines are printed without their LF or CR-LF; a line with
 * a byte that is not printable ASCII or a tab, or a CR not followed by LF, stops the printing;
 * a last line with no line ending is printed followed by ` [|proto]`.
 */
import type { PrintContext } from './context.js';

/** Longest token fetch_token keeps (MAX_TOKEN): longer ones are no token at all. */
const MAX_TOKEN = 128;

function isPrint(ch: number): boolean {
  return ch >= 0x20 && ch <= 0x7e;
}

/**
 * fetch_token: the blank-delimited token at idx (into `token`), and the index of the next
 * token after any blanks on the same line; 0 when there is no token (bytes not captured,
 * non-ASCII or non-printable, empty, or too long).
 */
function fetchToken(c: PrintContext, start: number, idx: number, len: number, token: { text: string }): number {
  const b = c.b;
  const first = idx;
  for (; idx < len; idx++) {
    if (!c.has(start + idx, 1)) return 0;
    const ch = b[start + idx]!;
    if (ch > 0x7f) return 0;
    if (ch === 0x20 || ch === 0x09 || ch === 0x0d || ch === 0x0a) break;
    if (!isPrint(ch)) return 0;
    if (idx - first + 2 > MAX_TOKEN + 1) return 0;
  }
  if (idx === first) return 0;
  token.text = b.toString('latin1', start + first, start + idx);
  for (; idx < len; idx++) {
    if (!c.has(start + idx, 1)) break;
    const ch = b[start + idx]!;
    if (ch === 0x0d || ch === 0x0a) break;
    if (!isPrint(ch)) break;
    if (ch !== 0x20 && ch !== 0x09) break;
  }
  return idx;
}

/**
 * print_txt_line: the line at idx without its line ending, after `prefix`; returns the index
 * past the line ending, or 0 when printing stops. Reading past the captured bytes ends the
 * whole line with ` [|proto]` (GET_U_1's longjmp), before anything of this line is printed.
 */
function printTextLine(c: PrintContext, prefix: string, start: number, idx: number, len: number): number {
  const b = c.b;
  const startidx = idx;
  while (idx < len) {
    const ch = c.u8(start + idx);
    if (ch === 0x0a) {
      c.w(prefix + b.toString('latin1', start + startidx, start + idx));
      return idx + 1;
    }
    if (ch === 0x0d) {
      if (idx + 1 >= len) return 0;
      if (c.u8(start + idx + 1) === 0x0a) {
        c.w(prefix + b.toString('latin1', start + startidx, start + idx));
        return idx + 2;
      }
      return 0;
    }
    if (!isPrint(ch) && ch !== 0x09) return 0;
    idx++;
  }
  // All printable, but no line ending: tcpdump treats it as cut short.
  c.w(prefix + b.toString('latin1', start + startidx, start + idx) + ' [|' + c.proto + ']');
  return 0;
}

const token = { text: '' };

export function printTextProtocol(c: PrintContext, start: number, len: number, name: string, cmds: readonly string[] | undefined, codeSecond: boolean): void {
  let printThis = false;
  if (cmds) {
    let idx = fetchToken(c, start, 0, len, token);
    if (idx !== 0) {
      if (cmds.includes(token.text.toUpperCase())) printThis = true;
      if (codeSecond) idx = fetchToken(c, start, idx, len, token);
      if (idx !== 0 && isResponseCode(token.text)) printThis = true;
    }
  } else printThis = true;
  c.w(name);
  if (!printThis) return;
  if (c.opts.verbose) {
    c.w(', length: ' + len);
    for (let idx = 0, eol; idx < len && (eol = printTextLine(c, '\n\t', start, idx, len)) !== 0; idx = eol);
  } else printTextLine(c, ': ', start, 0, len);
}

function isResponseCode(t: string): boolean {
  if (t.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const ch = t.charCodeAt(i);
    if (ch < 0x30 || ch > 0x39) return false;
  }
  return true;
}
