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

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const column = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
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
      throw textError(column, `unexpected character '${c}'`);
    }
  }
  tokens.push({ kind: 'end', column: text.length + 1 });
  return tokens;
}

function readNumber(text: string, i: number, tokens: Token[]): number {
  const column = i + 1;
  const m = /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)/.exec(text.slice(i))!;
  const literal = m[1]!;
  const end = i + literal.length;
  const dotted = /^[0-9a-fA-F]+[.:][0-9a-fA-F.:/]*/.exec(text.slice(i));
  if (dotted && /^(\d+\.){3}\d+|:/.test(dotted[0])) {
    throw textError(column, `addresses go in quotes: '${dotted[0]}'`);
  }
  if (end < text.length && /[A-Za-z0-9_.]/.test(text[end]!)) {
    throw textError(column, `bad number '${text.slice(i, end + 1)}': write integers like 80 or 0x50`);
  }
  const digits = literal.replace(/_/g, '');
  let value: number;
  if (/^0[xob]/i.test(digits)) value = Number(digits.toLowerCase());
  else {
    if (digits.length > 1 && digits.startsWith('0') && /[1-9]/.test(digits)) {
      throw textError(column, `bad number '${literal}': leading zeros are not allowed (for hex write 0x${digits.replace(/^0+/, '')})`);
    }
    value = Number(digits);
  }
  if (!Number.isSafeInteger(value)) throw textError(column, `number ${literal} is too large`);
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
        const m = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
        codes.push(parseInt(m, 8) & (isBytes ? 0xff : 0x1ff));
        i += 1 + m.length;
      } else if (!isBytes && (e === 'u' || e === 'U')) {
        const n = e === 'u' ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw textError(i + 1, `bad escape '\\${e}${hex}': needs ${n} hex digits`);
        codes.push(parseInt(hex, 16));
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
  }
  if (isBytes) tokens.push({ kind: 'bytes', value: Buffer.from(codes), column });
  else tokens.push({ kind: 'str', value: String.fromCodePoint(...codes), column });
  return i + 1;
}
