/**
 * The script language without the wire: what parses, what it means, and errors that point at
 * the line and column. Also the field-by-field checker and the relative-number mapping, fed
 * with segments built here.
 */
import { describe, expect, it } from 'vitest';
import '../src/index.js';
import { IP, TCP } from '../src/packet/factories.js';
import { parseScript, parseSegment, ScriptSyntaxError } from '../src/script/parse.js';
import { formatPacketLine, formatView } from '../src/script/format.js';
import { compareSegment } from '../src/script/check.js';
import { SequenceMap } from '../src/script/sequence-map.js';
import type { PacketLine } from '../src/script/ast.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function syntaxError(text: string): ScriptSyntaxError {
  try {
    parseScript(text, 'bad.pkt');
  } catch (err) {
    if (err instanceof ScriptSyntaxError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe('script parser', () => {
  it("reads packetdrill's packet lines", () => {
    const s = parseScript(
      [
        '// a comment',
        '0 < S 0:0(0) win 14600 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>',
        '+0 > S. 0:0(0) ack 1 <...>   /* options not checked */',
        '+0.1 < P. 1:4(3) ack 1 win 502 "get"',
        '* > . 1:1(0) ack 4',
        '0.1~0.3 > F. 7:7(0) ack 4 <nop,nop,TS val 5 ecr 6>',
        '+0~+0.05 < . 4:4(0) ack 8 <sack 1:2 3:4,eol>',
        '+0 < - 8:10(2) win 0 0x0102',
        '+0 quiet 200ms',
        'target 127.0.0.1:8080',
        'tolerance 10ms',
        'retransmits allow',
      ].join('\n'),
    );
    const [syn, synAck, data, ack, fin, sack, raw, quiet, target, tolerance, retransmits] = s.statements as unknown as [PacketLine, PacketLine, PacketLine, PacketLine, PacketLine, PacketLine, PacketLine, ...Array<Record<string, unknown>>];
    expect(syn).toMatchObject({ line: 2, direction: '<', flags: 0x02, seq: 0, length: 0, win: 14600, time: { kind: 'absolute', at: 0 } });
    expect(syn.options).toEqual([{ kind: 'mss', value: 1460 }, { kind: 'sackOK' }, { kind: 'TS', val: 100, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', value: 7 }]);
    expect(synAck).toMatchObject({ direction: '>', flags: 0x12, ack: 1, win: undefined, options: 'any', time: { kind: 'relative', at: 0 } });
    expect(data.payload).toEqual(Buffer.from('get'));
    expect(data.time).toEqual({ kind: 'relative', at: 0.1 });
    expect(ack.time).toEqual({ kind: 'any' });
    expect(ack.options).toBeUndefined();
    expect(fin.time).toEqual({ kind: 'range', from: { relative: false, at: 0.1 }, to: { relative: false, at: 0.3 } });
    expect(sack.options).toEqual([{ kind: 'sack', blocks: [[1, 2], [3, 4]] }, { kind: 'eol' }]);
    expect(raw).toMatchObject({ flags: 0, length: 2, payload: Buffer.from([1, 2]) });
    expect(quiet).toMatchObject({ type: 'quiet', duration: 0.2 });
    expect(target).toMatchObject({ type: 'target', host: '127.0.0.1', port: 8080 });
    expect(tolerance).toMatchObject({ type: 'tolerance', seconds: 0.01 });
    expect(retransmits).toMatchObject({ type: 'retransmits', allow: true });
  });

  it("reads packetdrill's ICMP lines: type, code, mtu and the quoted segment", () => {
    const s = parseScript(
      [
        '+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]',
        '+0 < icmp unreachable port_unreachable',
        '+0 < icmp packet_too_big mtu 1400 [0:1440(1440)]',
        '+0 < icmp unreachable CODE [0:10(10)]',
        '+0 < icmp type_3 code_1 [5000:6000(1000)]',
      ].join('\n'),
      'icmp.pkt',
      { defines: { CODE: 'host_unreachable' } },
    );
    expect(s.statements).toMatchObject([
      { type: 'icmp', line: 1, direction: '<', icmpType: 'unreachable', icmpCode: 'frag_needed', mtu: 1200, quotedSeq: 1, quotedLength: 1460 },
      { type: 'icmp', icmpType: 'unreachable', icmpCode: 'port_unreachable', mtu: undefined, quotedSeq: 0, quotedLength: 0 },
      { type: 'icmp', icmpType: 'packet_too_big', icmpCode: undefined, mtu: 1400, quotedSeq: 0, quotedLength: 1440 },
      // A --define'd code, as packetdrill's run_all.py gives CODE.
      { type: 'icmp', icmpCode: 'host_unreachable', quotedSeq: 0, quotedLength: 10 },
      { type: 'icmp', icmpType: 'type_3', icmpCode: 'code_1', quotedSeq: 5000, quotedLength: 1000 },
    ]);
  });

  it('writes lines back in the same syntax, and they parse to the same thing', () => {
    const text = '+0.25 > FP. 1:8(7) ack 4 win 502 <nop,nop,TS val 1000 ecr 100> "200 ok\\n"';
    const line = parseSegment(text.replace(/^\+0.25 /, ''));
    const again = formatPacketLine({ ...line, time: { kind: 'relative', at: 0.25 } });
    expect(again).toBe(text);
    expect(parseScript(again).statements[0]).toMatchObject({ flags: line.flags, payload: line.payload, options: line.options });
  });

  it('parses every script in the library', () => {
    const dir = join(import.meta.dirname, '..', 'examples', 'scripts');
    const files = readdirSync(dir).filter((f) => f.endsWith('.pkt'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) expect(() => parseScript(readFileSync(join(dir, f), 'utf8'), f), f).not.toThrow();
  });

  const cases: Array<[string, string, number, number, RegExp]> = [
    ['an ack that is not a number', '0 < S 0:0(0)\n+0 > S. 0:0(0) ack x', 2, 20, /expected the acknowledgment number \(a number\), got the symbol 'x', which is not defined: give --define x=VALUE/],
    ['an unknown flag', '0 < Q 0:0(0)', 1, 5, /'Q' is not a TCP flag/],
    ['a length that disagrees with the range', '0 < P. 1:4(2) ack 1', 1, 12, /1:4 spans 3 bytes but the length says 2/],
    ['an unknown option', '0 < S 0:0(0) <mss 1460,sackOk>', 1, 24, /unknown option 'sackOk>'.*did you mean 'sackOK'/],
    ['a comment never closed', '0 < S 0:0(0)\n/* open\n', 2, 1, /never closed/],
    ['a system call', '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', 1, 3, /system calls .* are not supported/],
    ['a misspelt directive', 'tolerence 10ms', 1, 1, /unknown directive 'tolerence' \(did you mean 'tolerance'\?\)/],
    ['a payload of the wrong length', '0 < P. 1:4(3) ack 1 "ge"', 1, 21, /payload is 2 bytes but the segment length says 3/],
    ['<...> on a segment we send', '0 < S 0:0(0) <...>', 1, 14, /only for segments the server sends/],
    ['no direction', '+0 S 0:0(0)', 1, 4, /expected '<' \(a segment we send\), '>'/],
    ['a missing sequence range', '0 < S win 100', 1, 7, /expected the sequence numbers start:end\(length\)/],
    ['garbage after the options', '0 < S 0:0(0) <nop> junk', 1, 20, /expected ack N, win N/],
    ['a bad target', 'target localhost:80', 1, 8, /expected HOST:PORT/],
    ['a range that ends before it starts', '0.3~0.1 > . 1:1(0)', 1, 5, /ends \(0.1\) before it starts \(0.3\)/],
    ['an unclosed payload', '0 < P. 1:2(1) ack 1 "a', 1, 21, /never closed/],
    ['an ICMP line the kernel would send', '0 > icmp unreachable', 1, 5, /ICMP lines the kernel sends .* are not supported/],
    ['an unknown ICMP type', '0 < icmp unreach', 1, 10, /unknown ICMP type 'unreach'/],
    ['an ICMP code its type lacks', '0 < icmp unreachable CODE', 1, 22, /type 'unreachable' has no code 'CODE' \(net_unreachable, /],
    ['mtu on an ICMP error without one', '0 < icmp unreachable port_unreachable mtu 1200', 1, 39, /'mtu N' is only for 'unreachable frag_needed'/],
    ['a quoted range that disagrees with its length', '0 < icmp unreachable [1:3(1)]', 1, 27, /1:3 spans 2 bytes but the length says 1/],
    ['an ICMP line quoting UDP', '0 < icmp unreachable port_unreachable [udp (10)]', 1, 40, /quoting 'udp' are not supported/],
  ];
  for (const [what, text, line, column, message] of cases) {
    it(`reports ${what} at line ${line}, column ${column}`, () => {
      const err = syntaxError(text);
      expect({ line: err.line, column: err.column }).toEqual({ line, column });
      expect(err.reason).toMatch(message);
      expect(err.kind).toBe('usage');
      // The message names the place and draws a caret under it.
      const [first, source, caret] = err.message.split('\n');
      expect(first).toMatch(new RegExp(`^bad\\.pkt:${line}:${column}: `));
      expect(caret!.indexOf('^') - 2).toBe(column - 1);
      expect(source!.trim().length).toBeGreaterThan(0);
    });
  }
});

describe('relative numbers and the checker', () => {
  const ourIsn = 0xfffffff0; // wraps within the conversation
  const serverIsn = 123456789;
  const fromServer = (fields: Record<string, unknown>, data?: string) => {
    let p = IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ sport: 80, dport: 40000, ...fields }));
    if (data) p = p.add(data);
    return p;
  };

  it('learns the server ISN and TS origin, and maps seq, ack, SACK and ecr both ways', () => {
    const map = new SequenceMap(ourIsn);
    const synAckLine = parseSegment('> S. 0:0(0) ack 1 <TS val 1000 ecr 100>');
    const synAck = fromServer({ flags: 'SA', seq: serverIsn, ack: (ourIsn + 1) >>> 0, options: [['Timestamp', [777777, 100]]] });
    const view = map.view(synAck, '>', synAckLine);
    expect(view).toMatchObject({ seq: 0, ack: 1, options: [{ kind: 'TS', val: 1000, ecr: 100 }] });
    expect(compareSegment(synAckLine, view, {})).toBeUndefined();
    // Our side, script -> wire: seq from our ISN (wrapping), ack and SACK in the server's space, ecr on its clock.
    expect(map.ourSeqToWire(20)).toBe((ourIsn + 20) >>> 0);
    expect(map.serverSeqToWire(7)).toBe(serverIsn + 7);
    expect(map.optionsToWire([{ kind: 'TS', val: 120, ecr: 1005 }, { kind: 'sack', blocks: [[10, 20]] }])).toEqual([
      ['Timestamp', [120, 777782]],
      ['SAck', [serverIsn + 10, serverIsn + 20]],
    ]);
    // The server's SACK blocks are in our space.
    const dup = map.view(fromServer({ flags: 'A', seq: serverIsn + 1, ack: (ourIsn + 1) >>> 0, options: [['SAck', [(ourIsn + 5) >>> 0, (ourIsn + 9) >>> 0]]] }), '>');
    expect(dup.options).toEqual([{ kind: 'sack', blocks: [[5, 9]] }]);
  });

  it('names the first field that differs, in script terms', () => {
    const map = new SequenceMap(ourIsn);
    map.learnServerIsn(serverIsn, 0);
    const live = map.view(fromServer({ flags: 'PA', seq: serverIsn + 1, ack: (ourIsn + 1) >>> 0, window: 64 }, '200 ok'), '>');
    const check = (text: string) => compareSegment(parseSegment(text, '>'), live, {});
    expect(check('P. 1:7(6) ack 1 "200 ok"')).toBeUndefined();
    expect(check('F. 1:7(6) ack 1')).toEqual({ field: 'flags', expected: 'flags F.', got: 'flags P.' });
    expect(check('P. 2:8(6) ack 1')).toEqual({ field: 'seq', expected: 'seq 2', got: 'seq 1' });
    expect(check('P. 1:6(5) ack 1')).toEqual({ field: 'length', expected: 'length 5', got: 'length 6' });
    expect(check('P. 1:7(6) ack 4')).toEqual({ field: 'ack', expected: 'ack 4', got: 'ack 1' });
    expect(check('P. 1:7(6) ack 1 win 63')).toEqual({ field: 'win', expected: 'win 63', got: 'win 64' });
    expect(check('P. 1:7(6) ack 1 <nop>')).toMatchObject({ field: 'options', expected: 'options <nop>', got: 'options <>' });
    expect(check('P. 1:7(6) ack 1 <...> "200 no"')).toMatchObject({ field: 'payload', expected: 'payload "200 no"', got: 'payload "200 ok"' });
    expect(formatView(live, { time: '0.5' })).toBe('0.5 > P. 1:7(6) ack 1 win 64 "200 ok"');
  });
});
