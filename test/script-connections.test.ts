/**
 * Named connections in the script language, without the wire (pure: no root, no network):
 * what a name before the direction means, which connection an unnamed line belongs to, the
 * mistakes refused with file:line:column, every library script still parsing as before, and
 * the verdicts (synack's, packetdrill's, TAP, JUnit XML read back by Python) naming the
 * connection of a failed line.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../src/index.js';
import { parseScript, parseSegment, ScriptSyntaxError } from '../src/script/parse.js';
import { ScriptCheckError } from '../src/script/session.js';
import { runScript } from '../src/script/runner.js';
import { formatReport, type ScriptOutcome } from '../src/script/report.js';
import type { PacketLine, QuietLine } from '../src/script/ast.js';

const LIBRARY = join(import.meta.dirname, '..', 'examples', 'scripts');

function syntaxError(text: string): ScriptSyntaxError {
  try {
    parseScript(text, 'bad.pkt');
  } catch (err) {
    if (err instanceof ScriptSyntaxError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${text}`);
}

const packets = (text: string): PacketLine[] => parseScript(text).statements.filter((s): s is PacketLine => s.type === 'packet');

describe('named connections', () => {
  it('reads a name before the direction, and lists the connections in the order they appear', () => {
    const s = parseScript(
      [
        '0      a < S 0:0(0) win 64240 <mss 1460>',
        '+0     a > S. 0:0(0) ack 1 <...>',
        '+0     b < S 0:0(0) win 64240',
        '+0     b > S. 0:0(0) ack 1 <...>',
        '+0     a < P. 1:4(3) ack 1 win 502 "get"',
        '+0.1   b quiet 0.2',
        '+0     quiet 0.1',
      ].join('\n'),
    );
    expect(s.connections).toEqual(['a', 'b']);
    const p = s.statements.filter((x): x is PacketLine => x.type === 'packet');
    expect(p.map((x) => [x.line, x.conn, x.direction])).toEqual([[1, 'a', '<'], [2, 'a', '>'], [3, 'b', '<'], [4, 'b', '>'], [5, 'a', '<']]);
    expect(p[4]!.payload).toEqual(Buffer.from('get'));
    const q = s.statements.filter((x): x is QuietLine => x.type === 'quiet');
    // A named quiet watches that connection; an unnamed one watches every connection.
    expect(q.map((x) => [x.conn, x.duration])).toEqual([['b', 0.2], [undefined, 0.1]]);
  });

  it('gives a line without a name to the first connection named', () => {
    const p = packets(['0 main < S 0:0(0)', '+0 > S. 0:0(0) ack 1', '+0 other < S 0:0(0)', '+0 < . 1:1(0) ack 1'].join('\n'));
    expect(p.map((x) => x.conn)).toEqual(['main', 'main', 'other', 'main']);
  });

  it('leaves a script without names as it was: one connection, no name', () => {
    const s = parseScript('0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1 <...>\n+0 quiet 0.1');
    expect(s.connections).toEqual([]);
    expect(s.statements.map((x) => ('conn' in x ? x.conn : 'none'))).toEqual([undefined, undefined, undefined]);
  });

  it('parses every library script, naming connections only where the script does', () => {
    const named: Record<string, string[]> = {};
    for (const f of readdirSync(LIBRARY).filter((n) => n.endsWith('.pkt'))) {
      const s = parseScript(readFileSync(join(LIBRARY, f), 'utf8'), f);
      if (s.connections.length) named[f] = s.connections;
    }
    expect(named).toEqual({ 'two-clients.pkt': ['a', 'b'], 'listen-two-clients.pkt': ['a', 'b'] });
  });

  it('names a connection in an API segment, before the direction', () => {
    expect(parseSegment('b < S 0:0(0) win 100').conn).toBe('b');
    expect(parseSegment('b > S. 0:0(0) ack 1', '>').direction).toBe('>');
    expect(parseSegment('S 0:0(0) win 100', '<').conn).toBeUndefined();
    expect(() => parseSegment('b < S 0:0(0)', '>')).toThrow(/goes the wrong way/);
  });

  it('refuses an unnamed line before the first name, pointing at it', () => {
    const e = syntaxError('0 < S 0:0(0)\n+0 > S. 0:0(0) ack 1\n+0 b < S 0:0(0)');
    expect(e.line).toBe(1);
    expect(e.reason).toBe("this line names no connection, but line 3 names 'b': in a script of named connections, name this one too (a line without a name belongs to the first connection named)");
  });

  it("refuses 'a:' before the direction, with the way to write it", () => {
    const e = syntaxError('0 a: < S 0:0(0)');
    expect([e.line, e.column]).toEqual([1, 4]);
    expect(e.reason).toBe("a connection's name stands alone before the direction: 'a <', not 'a: <'");
  });

  it('refuses a quiet line on a connection no earlier line opened', () => {
    const e = syntaxError('0 a < S 0:0(0)\n+0 c quiet 0.1');
    expect(e.line).toBe(2);
    expect(e.reason).toMatch(/^connection 'c' has no segment before this 'quiet' line/);
  });

  it('refuses a seventeenth connection, and an overlong name', () => {
    const lines = Array.from({ length: 17 }, (_, i) => `+0 c${i} < S 0:0(0)`);
    const e = syntaxError(lines.join('\n'));
    expect(e.line).toBe(17);
    expect(e.reason).toBe("connection 'c16' is one too many: a script holds at most 16 connections");
    expect(syntaxError(`0 ${'n'.repeat(40)} < S 0:0(0)`).reason).toMatch(/is too long \(at most 32 characters\)/);
  });

  it('still refuses what is not a name and a direction, as before', () => {
    expect(syntaxError('0 a S 0:0(0)').reason).toBe("expected '<' (a segment we send), '>' (a segment the server sends) or 'quiet' after the time, got 'a'");
    expect(syntaxError('0 a < X 0:0(0)').reason).toMatch(/^'X' is not a TCP flag/);
  });
});

describe('the listening role, before anything is opened', () => {
  it("refuses a connection that begins with a segment we send, naming it and the way out", async () => {
    const script = parseScript('0 a > S 0:0(0) <...>\n+0 a < S. 0:0(0) ack 1\n+0 b < S 0:0(0)', 'two.pkt');
    await expect(runScript(script, { listen: { port: 1 } })).rejects.toThrow(
      "two.pkt:3: connection b begins with a segment we send ('<'), but listening, a connection begins with its client's SYN ('> S 0:0(0) ...'): run it with --target HOST:PORT, or start it with the client's SYN",
    );
  });
});

describe('failures and reports name the connection', () => {
  it('says the line and the connection in a failed check', () => {
    const e = new ScriptCheckError(7, { field: 'ack', expected: 'ack 4', got: 'ack 1' }, '+0 b > . 1:1(0) ack 4', '0.1 > . 1:1(0) ack 1 win 5', 'b');
    expect(e.message.split('\n')[0]).toBe('script line 7, connection b: expected ack 4, got ack 1');
    expect(e.connection).toBe('b');
    // One connection without a name: the message as it always was.
    expect(new ScriptCheckError(7, { field: 'ack', expected: 'ack 4', got: 'ack 1' }, 'x', undefined).message).toBe('script line 7: expected ack 4, got ack 1\n  script: x');
  });

  const outcomes: ScriptOutcome[] = [
    { file: 'two.pkt', status: 'failed', seconds: 0.5, line: 7, field: 'ack', connection: 'b', message: 'two.pkt: script line 7, connection b: expected ack 4, got ack 1\n  script: +0 b > . 1:1(0) ack 4' },
    { file: 'one.pkt', status: 'failed', seconds: 0.5, line: 6, field: 'ack', message: 'one.pkt: script line 6: expected ack 4, got ack 1' },
  ];

  it("writes packetdrill's line with the connection after 'error handling packet'", () => {
    const lines = formatReport('packetdrill', outcomes).split('\n');
    expect(lines[0]).toBe('two.pkt:7: error handling packet: connection b: expected ack 4, got ack 1');
    expect(lines[1]).toBe('  script: +0 b > . 1:1(0) ack 4');
    expect(lines[2]).toBe('one.pkt:6: error handling packet: expected ack 4, got ack 1');
  });

  it('writes the connection in TAP and as a JUnit property', () => {
    expect(formatReport('tap', outcomes)).toContain('  line: 7\n  field: ack\n  connection: "b"\n');
    const xml = formatReport('junit', outcomes);
    const py = [
      'import sys, json, xml.etree.ElementTree as ET',
      's = ET.fromstring(sys.stdin.read()).find("testsuite")',
      'print(json.dumps([[p.get("value") for p in c.iter("property") if p.get("name") == "connection"] + [c.find("failure").get("message")] for c in s.findall("testcase")]))',
    ].join('\n');
    expect(JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: xml, encoding: 'utf8' }))).toEqual([
      ['b', 'two.pkt: script line 7, connection b: expected ack 4, got ack 1'],
      ['one.pkt: script line 6: expected ack 4, got ack 1'],
    ]);
  });
});
