/**
 * The text form against hostile input (issue 14 item 1, issue 20 item 5): every input gives a
 * packet or a SynackError naming the problem and its column, in bounded time and memory. Each
 * case here is one the fuzz of the first version broke on (a RangeError, a stack overflow, gigabytes
 * of memory, a hang, a TypeError), so each fails on that version.
 */
import { describe, expect, it } from 'vitest';
import { SynackError, packet } from '../src/index.js';
import { didYouMean } from '../src/wire/errors.js';

function errorOf(expr: string): SynackError {
  try {
    packet(expr);
  } catch (err) {
    if (err instanceof SynackError) return err;
    throw new Error(`not a SynackError: ${String(err)}`);
  }
  throw new Error(`no error for ${expr.slice(0, 80)}`);
}

const hostile: [string, string, RegExp][] = [
  ['a code point past Unicode', "IP()/'\\U7fffffff'", /^column 7: bad escape '\\U7fffffff': Unicode ends at/],
  ['3000 nested lists', 'IP(options=' + '['.repeat(3000) + ']'.repeat(3000) + ')', /^column \d+: nested more than 64 levels deep/],
  ['3001 nested calls', 'IP('.repeat(3001) + ')'.repeat(3001), /^column \d+: nested more than 64 levels deep/],
  ['10000 nested groups', '('.repeat(10000) + 'TCP(' + ')'.repeat(10001), /^column \d+: nested more than 64 levels deep/],
  ['a 200k string literal', "IP()/'" + 'A'.repeat(200_000) + "'", /^column 6: string is longer than 65536 characters/],
  ['a repetition of a repetition', "IP()/(b'A'*65536*1048576)", /^column 17: a payload would hold 68719476736 bytes; a value holds at most 65536/],
  ['512 bytes a million times', "IP()/(b'" + 'A'.repeat(511) + "'*1048576)", /^column 521: a payload would hold 535822336 bytes/],
  ['a repeated option name', "IP()/TCP(options=[(254, b'\\x01\\x02'), ('MSS'*1048576, 0)])", /^column 45: TCP options: an option's name is a string/],
  ['options that are a number', 'IP(options=((((1)))))', /^column 16: IP options takes a list like \[IPOption_NOP\(\)\], not 1/],
  ['an unclosed call', 'IP(options=((((1))))', /^column 21: expected ',' or '\)' to close IP\(/],
  ['a TCP option that is a number', 'TCP(options=[1])', /^column 14: TCP options: each option is a pair \(name, value\)/],
  ['a TCP option with a number for its blocks', "TCP(options=[('SAck', 5)])", /^column 23: TCP options: option 'SAck' takes a tuple of 32-bit sequence numbers/],
  ['a timestamp that is not a pair', "TCP(options=[('Timestamp', (1, 2, 3))])", /^column 28: TCP options: option 'Timestamp' takes a pair/],
  ['an MSS past 16 bits', "TCP(options=[('MSS', 70000)])", /^column 22: TCP options: option 'MSS' takes a number 0-65535, not 70000/],
  ['a kind past 255', 'TCP(options=[(300, b"")])', /^column 15: TCP options: option kinds are 0-255, not 300/],
  ['a name from Object.prototype', 'TCP(sport=toString)', /^column 11: TCP sport takes a number, not 'toString'/],
  ['an option name from Object.prototype', "TCP(options=[('constructor', 1)])", /^column 15: unknown TCP option 'constructor'/],
  ['IPv6 extension options as bytes', "IPv6ExtHdrHopByHop(options=[b'\\x00'])", /^column 29: IPv6ExtHdrHopByHop options: each option is a call like Pad1\(\), not bytes/],
  ['a routing header address that is a number', 'IPv6ExtHdrRouting(addresses=[1])', /^column 30: IPv6ExtHdrRouting addresses takes addresses in quotes, not 1/],
  ['a control character', 'IP()\x00', /^column 5: unexpected character '\\x00'/],
  ['2000 layers', 'IP()/' + 'ICMP()/'.repeat(2000) + 'ICMP()', /^column \d+: more than 1024 layers in one packet/],
  ['an expression of 3 MB', 'X'.repeat(3_000_000) + '()', /^column 1048577: the expression is 3000002 characters long; the text form takes at most 1048576/],
  ['a number of 100 digits', `TCP(seq=${'9'.repeat(100)})`, /^column 9: number 9{40}\.\.\. \(100 characters\) is too large/],
];

describe('the text form under hostile input', () => {
  it.each(hostile)('%s: one SynackError with a column', (_what, expr, message) => {
    const err = errorOf(expr);
    expect(err.kind).toBe('usage');
    expect(err.message).toMatch(message);
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).not.toContain('\n');
  });

  it('a huge unknown name gets a short message, not a 1 MB one (and no "did you mean" search over it)', () => {
    const err = errorOf('A'.repeat(1_000_000) + '()');
    expect(err.message).toBe("column 1: unknown layer 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA... (1000000 characters)'");
    const field = errorOf('TCP(' + 'd'.repeat(1_000_000) + '=1)');
    expect(field.message).toMatch(/^column 5: unknown field 'd{40}\.\.\. \(1000000 characters\)' for TCP; fields are: sport, dport/);
  });

  it('didYouMean compares no word longer than 64 characters, still suggests for short typos', () => {
    expect(didYouMean('x'.repeat(3_000_000), ['IP', 'TCP'])).toBe('');
    expect(didYouMean('dprot', ['sport', 'dport'])).toBe(" (did you mean 'dport'?)");
  });

  it('a value at the bound is taken, one byte more is refused', () => {
    expect((packet("IP()/(b'A'*65536)").layers[1]!.fields as { load: Buffer }).load.length).toBe(65536);
    expect(errorOf("IP()/(b'A'*65537)").message).toMatch(/^column 11: a payload would hold 65537 bytes; a value holds at most 65536/);
    expect(errorOf("IP()/(b'AAAA'*16385)").message).toMatch(/would hold 65540 bytes/);
  });

  it('values of one expression are bounded together (1 MiB), not only one by one', () => {
    const many = 'IP()/' + Array.from({ length: 17 }, () => "(b'A'*65536)").join('/');
    expect(errorOf(many).message).toMatch(/^column \d+: the values of this expression hold more than 1048576 bytes together/);
  });

  it('packet() given something other than a string says so', () => {
    expect(() => packet(42 as unknown as string)).toThrow(/packet\(\) takes the text form as a string, not number/);
  });

  it('deep but legal nesting still parses', () => {
    expect(packet('(' .repeat(30) + "IP(dst='127.0.0.1')" + ')'.repeat(30)).layers).toHaveLength(1);
    expect(packet("TCP(options=[('SAck', (1, 2, 3, 4)), ('MSS', b'\\x05\\xb4'), (253, b'\\x01'), ('NOP', None)])").layers).toHaveLength(1);
    // The TCP header an ICMP error quotes takes TCP's options too.
    expect(packet("IP()/ICMP(type=3)/IPerror()/TCPerror(options=[('MSS', 1460)])").layers).toHaveLength(4);
  });
});
