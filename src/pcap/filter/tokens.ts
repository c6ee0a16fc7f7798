/**
 * The words and punctuation of a pcap-filter(7) expression. Inside brackets (`tcp[13:2]`) a
 * ':' '-' and '/' are operators; outside they belong to addresses and port ranges.
 */
import { usageError } from '../../wire/errors.js';

export interface Token {
  kind: 'word' | 'punct' | 'end';
  text: string;
  pos: number;
}

const TWO_CHAR = new Set(['&&', '||', '==', '!=', '<=', '>=', '<<', '>>']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let brackets = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR.has(two)) {
      tokens.push({ kind: 'punct', text: two, pos: i });
      i += 2;
      continue;
    }
    if ('()[]!&|+*%^<>=\\'.includes(c) || (brackets > 0 && (c === ':' || c === '-' || c === '/'))) {
      if (c === '[') brackets++;
      if (c === ']') brackets--;
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === '-' && !/[A-Za-z0-9:]/.test(text[i + 1] ?? '')) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === '/' && brackets === 0 && tokens.length > 0 && tokens[tokens.length - 1]!.kind !== 'word') {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    const re = brackets > 0 ? /[A-Za-z0-9_.]+(?:-[A-Za-z][A-Za-z0-9]*)*/y : /[A-Za-z0-9_.:/-]+/y;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw usageError(`bad filter: unexpected '${c}' at column ${i + 1} of '${text}'`);
    tokens.push({ kind: 'word', text: m[0], pos: i });
    i += m[0].length;
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

/**
 * A number as libpcap reads one: decimal, 0x hex, or octal with a leading 0. Undefined when the
 * word is not a number; a usage error, worded as tcpdump's, when it does not fit 32 bits.
 */
export function parseNumber(text: string): number | undefined {
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) n = parseInt(text, 8);
  else if (/^\d+$/.test(text)) n = Number(text);
  else return undefined;
  if (!(n <= 0xffffffff)) throw usageError(`bad filter: number ${text} overflows 32 bits`);
  return n;
}
