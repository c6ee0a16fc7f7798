/**
 * packetdrill syntax beyond the packet basics, without the wire (pure: no root, no network):
 * Fast Open and MD5 options (bytes as RFC 7413/2385 lay them out), ECN marks, --define
 * symbols, `--name=value` lines, what stays refused (named in the error), and the verdict
 * reports (packetdrill's lines, TAP, JUnit XML read back by Python's XML parser).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import '../src/index.js';
import { IP, TCP } from '../src/packet/factories.js';
import { parseScript, parseSegment, ScriptSyntaxError } from '../src/script/parse.js';
import { formatPacketLine } from '../src/script/format.js';
import { compareSegment } from '../src/script/check.js';
import { SequenceMap } from '../src/script/sequence-map.js';
import { toTCPOption } from '../src/script/options.js';
import { formatReport, type ScriptOutcome } from '../src/script/report.js';
import type { PacketLine } from '../src/script/ast.js';

function syntaxError(text: string, defines?: Record<string, string>): ScriptSyntaxError {
  try {
    parseScript(text, 'bad.pkt', defines ? { defines } : {});
  } catch (err) {
    if (err instanceof ScriptSyntaxError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${text}`);
}

const first = (text: string, defines?: Record<string, string>): PacketLine => parseScript(text, 'x.pkt', defines ? { defines } : {}).statements.find((s) => s.type === 'packet') as PacketLine;

/** The option bytes a packet carries, from its built TCP header. */
function optionBytes(line: PacketLine): Buffer {
  const map = new SequenceMap(1000);
  const p = IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ flags: 'S', options: map.optionsToWire(line.options as never) }));
  const b = p.bytes();
  return b.subarray(40, 20 + ((b[32]! >> 4) * 4));
}

describe('Fast Open, MD5 and ECN', () => {
  it('builds FO, FOEXP and md5 as the RFCs lay them out, and reads them back', () => {
    const line = first('0 < S 0:0(0) win 1000 <mss 1460,FO 0011aabb,nop,nop>');
    expect(optionBytes(line).toString('hex')).toBe('020405b4' + '22060011aabb' + '0101');
    expect(toTCPOption({ kind: 'FO', cookie: Buffer.alloc(0) })).toEqual([34, Buffer.alloc(0)]);
    const exp = first('0 < S 0:0(0) <FOEXP 11223344>');
    expect(optionBytes(exp).toString('hex')).toBe('fe08f98911223344');
    const md5 = first(`0 < S 0:0(0) <md5 ${'ab'.repeat(16)},nop,nop>`);
    expect(optionBytes(md5).toString('hex')).toBe('1312' + 'ab'.repeat(16) + '0101');
    // Seen from the wire, they read back as the script writes them.
    const map = new SequenceMap(1000);
    const live = map.view(IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ flags: 'SA', seq: 5, ack: 1001, options: [[34, Buffer.from('0011aabb', 'hex')], [254, Buffer.from('f98911223344', 'hex')]] })), '>', first('0 > S. 0:0(0) ack 1 <...>'));
    expect(formatPacketLine({ ...first('0 > S. 0:0(0) ack 1'), options: live.options })).toBe('0 > S. 0:0(0) ack 1 <FO 0011aabb,FOEXP 11223344>');
  });

  it('reads ECN marks and checks them', () => {
    const line = first('0 > [ect0] . 1:1(0) ack 1');
    expect(line.ecn).toBe('ect0');
    const map = new SequenceMap(1000);
    map.learnServerIsn(5, 0);
    const seg = (tos: number) => map.view(IP({ src: '127.0.0.1', dst: '127.0.0.1', tos }).add(TCP({ flags: 'A', seq: 6, ack: 1001 })), '>');
    expect(compareSegment(line, seg(2), {})).toBeUndefined();
    expect(compareSegment(line, seg(0), {})).toEqual({ field: 'ecn', expected: '[ect0]', got: '[noecn]' });
    expect(compareSegment(first('0 > [ect01] . 1:1(0)'), seg(1), {})).toBeUndefined();
    expect(compareSegment(first('0 > (ce) . 1:1(0)'), seg(3), {})).toBeUndefined();
    expect(formatPacketLine(first('0 < [ce] . 1:1(0) ack 1'))).toBe('0 < [ce] . 1:1(0) ack 1');
  });
});

describe('symbols and option lines', () => {
  it('takes --define symbols from the command line and from --define lines, the command line winning', () => {
    expect(first('0 < S 0:0(0) <mss MSS>', { MSS: '1460' }).options).toEqual([{ kind: 'mss', value: 1460 }]);
    const s = parseScript('--define=MSS=1000\n--tolerance_usecs=10000\n--strict_segments\n0 < S 0:0(0) win WIN <mss MSS>', 'x.pkt', { defines: { WIN: '0x100' } });
    expect(s.settings).toEqual({ tolerance: 0.01, strictSegments: true });
    expect(s.statements.find((x) => x.type === 'packet')).toMatchObject({ win: 256, options: [{ kind: 'mss', value: 1000 }] });
    expect(first('--define=MSS=1000\n0 < S 0:0(0) <mss MSS>', { MSS: '1200' }).options).toEqual([{ kind: 'mss', value: 1200 }]);
  });

  const refused: Array<[string, string, number, number, RegExp]> = [
    ['an undefined symbol', '0 < S 0:0(0) <mss MSS>', 1, 19, /the symbol 'MSS', which is not defined: give --define MSS=VALUE/],
    ['a symbol that is not a number', '--define=MSS=big\n0 < S 0:0(0) <mss MSS>', 2, 19, /symbol 'MSS' is 'big', not a number/],
    ['an unknown packetdrill option', '--wire_server_ip=1.2.3.4', 1, 1, /packetdrill option '--wire_server_ip' is not supported: synack honours --tolerance_usecs/],
    ['a bad --tolerance_usecs', '--tolerance_usecs=ten', 1, 1, /--tolerance_usecs needs a number of microseconds/],
    ['an ICMP line the kernel would send', '0 > icmp unreachable frag_needed mtu 1200 [1:1461(1460)]', 1, 5, /ICMP lines the kernel sends \('> icmp \.\.\.'\) are not supported/],
    ['a UDP line', '0 < udp (10)', 1, 5, /UDP lines/],
    ['[ect01] on a segment we send', '0 < [ect01] S 0:0(0)', 1, 5, /\[ect01\].*only be used on segments the server sends/],
    ['an IP tos mark', '0 > [tos 0x4] S. 0:0(0)', 1, 6, /IP 'tos' marks are not supported/],
    ['a python block', '%{ assert tcpi_rto == 1000 }%', 1, 1, /python blocks '%\{ \.\.\. \}%' .* not supported/],
    ['an odd FO cookie', '0 < S 0:0(0) <FO abc>', 1, 18, /odd number of hex digits/],
    ['an FO cookie too long', `0 < S 0:0(0) <FO ${'00'.repeat(17)}>`, 1, 18, /17 bytes: at most 16/],
    ['an MD5 option without digest', '0 < S 0:0(0) <md5>', 1, 18, /expected the MD5 digest in hex/],
    ['a bad psh directive', 'psh maybe', 1, 5, /expected 'ignore' or 'check' after 'psh'/],
  ];
  for (const [what, text, line, column, message] of refused) {
    it(`refuses ${what} by name, at line ${line}, column ${column}`, () => {
      const err = syntaxError(text);
      expect(err.reason).toMatch(message);
      expect({ line: err.line, column: err.column }).toEqual({ line, column });
      expect(err.kind).toBe('usage');
    });
  }

  it('accepts packetdrill set-up options that mean nothing against a live server', () => {
    expect(parseScript('--ip_version=ipv4\n--mtu=1500\n0 < S 0:0(0)').statements.filter((s) => s.type === 'option')).toHaveLength(2);
  });

  it("reads an ACK written without 'ack N' as ack 0, as packetdrill sends it", () => {
    expect(parseSegment('. 1:1(0) win 100', '<').ack).toBeUndefined();
  });
});

describe('reports', () => {
  const outcomes: ScriptOutcome[] = [
    { file: 'a.pkt', status: 'passed', seconds: 0.25, summary: 'against 127.0.0.1:80' },
    { file: 'b<&>.pkt', status: 'failed', seconds: 0.5, line: 6, field: 'ack', message: 'b<&>.pkt: script line 6: expected ack 4, got ack 1\n  script: +0 > . 1:1(0) ack 4\n  live:   0.1 > . 1:1(0) ack 1 win 5' },
    { file: 'c.pkt', status: 'error', seconds: 0, message: 'c.pkt:3:5: unknown option \x01' },
  ];

  it('writes packetdrill lines: nothing for a pass, file:line: error handling packet for a failure', () => {
    const text = formatReport('packetdrill', outcomes);
    expect(text.split('\n')[0]).toBe('b<&>.pkt:6: error handling packet: expected ack 4, got ack 1');
    expect(text.split('\n')[1]).toBe('  script: +0 > . 1:1(0) ack 4');
    expect(text).not.toContain('a.pkt');
    expect(text).toContain('c.pkt:3:5: unknown option');
  });

  it('writes TAP 13', () => {
    const lines = formatReport('tap', outcomes).split('\n');
    expect(lines.slice(0, 4)).toEqual(['TAP version 13', '1..3', 'ok 1 - a.pkt', 'not ok 2 - b<&>.pkt']);
    expect(lines).toContain('  line: 6');
    expect(lines).toContain('  field: ack');
    expect(lines).toContain('not ok 3 - c.pkt');
  });

  it('writes JUnit XML that an XML parser reads back, failures and errors apart', () => {
    const xml = formatReport('junit', outcomes);
    const py = [
      'import sys, json, xml.etree.ElementTree as ET',
      'root = ET.fromstring(sys.stdin.read())',
      's = root.find("testsuite")',
      'cases = [{"name": c.get("name"), "failure": (c.find("failure").get("type") if c.find("failure") is not None else None), "error": c.find("error") is not None} for c in s.findall("testcase")]',
      'print(json.dumps({"tests": s.get("tests"), "failures": s.get("failures"), "errors": s.get("errors"), "cases": cases}))',
    ].join('\n');
    const read = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: xml, encoding: 'utf8' }));
    expect(read).toEqual({
      tests: '3', failures: '1', errors: '1',
      cases: [
        { name: 'a.pkt', failure: null, error: false },
        { name: 'b<&>.pkt', failure: 'ack', error: false },
        { name: 'c.pkt', failure: null, error: true },
      ],
    });
  });
});
