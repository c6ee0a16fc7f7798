/**
 * Tokens of the text form: names, Python integer and string literals, and punctuation. Each
 * token carries its 1-based column so that errors can point at it.
 */
import { usageError } from '../../wire/errors.js';

export type Token =
  | { kind: 'name'; text: string; column: number }
  | { kind: 'int'; value: number; column: number }
  | { kind: 'str'; value: string; column: number }
  | { kind: 'bytes'; value: Buffer; column: number }
  | { kind: 'punct'; text: '(' | ')' | '[' | ']' | ',' | '=' | '/' | '-' | '*'; column: number }
  | { kind: 'end'; column: number };

/** A mistake at a place in the text: "column 12: ...". */
export function textError(column: number, message: string): Error {
  return usageError(`column ${column}: ${message}`);
}

const PUNCT = '()[],=/-*';

/**
 * Bounds of the text form, so that no input can take unbounded time or memory: the text of an
 * expression, and (in values.ts) the bytes any one value may hold. IPv4's total length field
 * tops out at 65,535 bytes, so a payload, a string or a repetition holds at most 64 KiB.
 */
export const TEXT_LIMITS = {
  /** Characters in one expression (a packet's text form is rarely more than a few hundred). */
  expressionChars: 1 << 20,
  /** Bytes in one value: a string, a bytes literal, a repetition's result, a payload. */
  valueBytes: 1 << 16,
  /** Bytes of all values in one expression together. */
  expressionBytes: 1 << 20,
  /** Parentheses, brackets and calls open at once. */
  depth: 64,
  /** Layers in one packet. */
  layers: 1024,
} as const;

/** A piece of the user's text to quote in a message: long ones are cut, so the message stays one short line. */
export function clip(text: string, max = 40): string {
  const short = text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
  // A newline in the user's text stays on the message's one line.
  return short.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export function tokenize(text: string): Token[] {
  if (text.length > TEXT_LIMITS.expressionChars) {
    throw textError(TEXT_LIMITS.expressionChars + 1, `the expression is ${text.length} characters long; the text form takes at most ${TEXT_LIMITS.expressionChars}`);
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const column = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '#') {
      // A Python comment: to the end of the line.
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      // A line continuation, as Python reads a backslash before the newline.
      i += text[i + 1] === '\r' ? 3 : 2;
    } else if (PUNCT.includes(c)) {
      tokens.push({ kind: 'punct', text: c as '(', column });
      i++;
    } else if (c >= '0' && c <= '9') {
      i = readNumber(text, i, tokens);
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const quote = text[j];
      if ((quote === "'" || quote === '"') && /^[bBrR]{1,2}$/.test(word)) {
        i = readString(text, j, word.toLowerCase(), column, tokens);
      } else {
        tokens.push({ kind: 'name', text: word, column });
        i = j;
      }
    } else if (c === "'" || c === '"') {
      i = readString(text, i, '', column, tokens);
    } else {
      const shown = /[\x00-\x1f\x7f]/.test(c) ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c;
      throw textError(column, `unexpected character '${shown}'`);
    }
  }
  tokens.push({ kind: 'end', column: text.length + 1 });
  return tokens;
}

// Sticky (y) patterns read at an offset without copying the rest of the text: slicing per
// token would make a long expression quadratic.
const NUMBER_RE = /(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)/y;
const DOTTED_RE = /[0-9a-fA-F]+[.:][0-9a-fA-F.:/]*/y;

function readNumber(text: string, i: number, tokens: Token[]): number {
  const column = i + 1;
  NUMBER_RE.lastIndex = i;
  const literal = NUMBER_RE.exec(text)![1]!;
  const end = i + literal.length;
  DOTTED_RE.lastIndex = i;
  const dotted = DOTTED_RE.exec(text);
  if (dotted && /^(\d+\.){3}\d+|:/.test(dotted[0])) {
    throw textError(column, `addresses go in quotes: '${clip(dotted[0])}'`);
  }
  if (end < text.length && /[A-Za-z0-9_.]/.test(text[end]!)) {
    throw textError(column, `bad number '${clip(text.slice(i, end + 1))}': write integers like 80 or 0x50`);
  }
  if (literal.length > 64) throw textError(column, `number ${clip(literal)} is too large`);
  const digits = literal.replace(/_/g, '');
  let value: number;
  if (/^0[xob]/i.test(digits)) value = Number(digits.toLowerCase());
  else {
    if (digits.length > 1 && digits.startsWith('0') && /[1-9]/.test(digits)) {
      throw textError(column, `bad number '${clip(literal)}': leading zeros are not allowed (for hex write 0x${digits.replace(/^0+/, '')})`);
    }
    value = Number(digits);
  }
  if (!Number.isSafeInteger(value)) throw textError(column, `number ${clip(literal)} is too large`);
  tokens.push({ kind: 'int', value, column });
  return end;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '',
};

/**
 * Reads a Python string literal starting at its quote. `prefix` is '', 'b', 'r', 'br' or 'rb'.
 * A text string becomes a JS string; a bytes literal keeps each escape as one byte.
 */
function readString(text: string, quoteAt: number, prefix: string, column: number, tokens: Token[]): number {
  const quote = text[quoteAt]!;
  const isBytes = prefix.includes('b');
  const raw = prefix.includes('r');
  const codes: number[] = [];
  let i = quoteAt + 1;
  for (;;) {
    if (i >= text.length) throw textError(column, `string is not closed: add ${quote} at the end`);
    const c = text[i]!;
    if (c === quote) break;
    if (c === '\\' && !raw) {
      const e = text[i + 1];
      if (e === undefined) throw textError(column, `string is not closed: add ${quote} at the end`);
      if (e in SIMPLE_ESCAPES) {
        const out = SIMPLE_ESCAPES[e]!;
        if (out) codes.push(out.charCodeAt(0));
        i += 2;
      } else if (e === 'x') {
        const hex = text.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw textError(i + 1, `bad escape '\\x${hex}': \\x needs two hex digits, like \\x0a`);
        codes.push(parseInt(hex, 16));
        i += 4;
      } else if (e >= '0' && e <= '7') {
        const m = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))![0];
        codes.push(parseInt(m, 8) & (isBytes ? 0xff : 0x1ff));
        i += 1 + m.length;
      } else if (!isBytes && (e === 'u' || e === 'U')) {
        const n = e === 'u' ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw textError(i + 1, `bad escape '\\${e}${hex}': needs ${n} hex digits`);
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) throw textError(i + 1, `bad escape '\\${e}${hex}': Unicode ends at \\U0010ffff`);
        codes.push(code);
        i += 2 + n;
      } else {
        // Python keeps an unknown escape as it is, backslash included.
        codes.push(92);
        i += 1;
      }
      continue;
    }
    const code = c.codePointAt(0)!;
    if (isBytes && code > 0x7f) throw textError(i + 1, `bytes literals take ASCII only: write '${c}' as \\x escapes`);
    codes.push(code);
    i += code > 0xffff ? 2 : 1;
    if (codes.length > TEXT_LIMITS.valueBytes) {
      throw textError(column, `string is longer than ${TEXT_LIMITS.valueBytes} characters: a packet holds at most 64 KiB (IPv4's total length is 16 bits)`);
    }
  }
  if (isBytes) tokens.push({ kind: 'bytes', value: Buffer.from(codes), column });
  else tokens.push({ kind: 'str', value: fromCodePoints(codes), column });
  return i + 1;
}

/** String.fromCodePoint over a long array, in slices: spreading 64k arguments overflows the stack. */
function fromCodePoints(codes: number[]): string {
  if (codes.length <= 4096) return String.fromCodePoint(...codes);
  let out = '';
  for (let at = 0; at < codes.length; at += 4096) out += String.fromCodePoint(...codes.slice(at, at + 4096));
  return out;
}
