/**
 * The script parser: packetdrill's packet lines and a few directives of our own, one statement
 * per line, with `//` and `/* *\/` comments. Every mistake is a ScriptSyntaxError naming the
 * file, line and column, with the line and a caret under the spot.
 *
 *   0     < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
 *   +0    > S. 0:0(0) ack 1 <...>
 *   +0    < P. 1:4(3) ack 1 win 502 "get"
 *   *     > . 1:1(0) ack 4
 *   +0    quiet 0.2
 *   target 127.0.0.1:8080      tolerance 25ms      retransmits allow
 */
import { SynackError, didYouMean } from '../wire/errors.js';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import type { EcnMark, IcmpLine, OptionDirective, PacketLine, QuietLine, Script, ScriptOption, ScriptSettings, ScriptStatement, TimeSpec } from './ast.js';
import { SCRIPT_FLAG_LETTERS, scriptFlagBit } from './flags.js';
import { icmpNameProblem, icmpTakesMtu, icmpTypeKnown } from './icmp.js';

/** A script that cannot be read: exit 2, with file:line:column and a caret. */
export class ScriptSyntaxError extends SynackError {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    lineText: string,
  ) {
    super(`${source}:${line}:${column}: ${reason}\n  ${lineText}\n  ${' '.repeat(Math.max(0, column - 1))}^`, 'usage');
    this.name = 'ScriptSyntaxError';
  }
  // The source line and the caret under the column come after the one-line message.
  override readonly caretBlock = true;
}

const DIRECTIVES = ['target', 'tolerance', 'retransmits', 'psh', 'quiet'];
const OPTION_NAMES = ['mss', 'wscale', 'sackOK', 'sack', 'TS', 'nop', 'eol', 'FO', 'FOEXP', 'md5', 'kind'];
const ECN_MARKS: readonly EcnMark[] = ['noecn', 'ect0', 'ect1', 'ce', 'ect01'];
/** packetdrill's longest cookies: 16 bytes for FO, 14 for FOEXP (its option has a 2-byte magic). */
const FO_MAX_COOKIE = 16;
const FOEXP_MAX_COOKIE = 14;
const MD5_DIGEST = 16;

/**
 * packetdrill's `--name=value` lines that mean something here. Options about packetdrill's own
 * set-up (tun device, addresses, the ports of its sockets) are accepted and have no effect
 * against a live server; any other is refused by name.
 */
const HONOURED_OPTIONS = ['tolerance_usecs', 'strict_segments', 'define'];
const INERT_OPTIONS = ['ip_version', 'mss', 'tcp_ts_tick_usecs', 'tcp_ts_ecr_scaled', 'bind_port', 'connect_port', 'mtu', 'init_scripts', 'non_fatal', 'verbose', 'debug', 'dry_run', 'speed', 'local_ip', 'remote_ip', 'gateway_ip', 'netmask_ip'];

export interface ParseOptions {
  /** Symbols for numbers, as packetdrill's `--define NAME=VALUE` (`mss MSS`). */
  defines?: Record<string, string>;
  /**
   * Local mode's lines (system calls, shell, python), which may span lines: given the
   * comment-blanked lines, the original ones and an index, a statement and its last line's
   * index, or undefined for an ordinary line.
   */
  extraLine?: (lines: readonly string[], original: readonly string[], index: number, source: string) => { statement: ScriptStatement; last: number } | undefined;
}
const MAX_U32 = 0xffffffff;
/** Connections in one script at most (each holds a raw socket's share, a guard and a capture lease). */
const MAX_CONNECTIONS = 16;
const MAX_CONNECTION_NAME = 32;

/** Replaces comments by spaces (newlines kept), so that columns still point at the source. */
function blankComments(text: string, source: string): string {
  const out = text.split('');
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
    } else if (c === '"') {
      // A payload string may hold '//' or '/*': skip to its closing quote.
      for (i++; i < text.length && text[i] !== '"' && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
      if (text[i] === '\n') i--;
    } else if (c === '/' && text[i + 1] === '/') {
      for (; i < text.length && text[i] !== '\n'; i++) out[i] = ' ';
      i--;
    } else if (c === '/' && text[i + 1] === '*') {
      const startLine = line;
      const startCol = i - lineStart + 1;
      const end = text.indexOf('*/', i + 2);
      if (end < 0) {
        const lineText = text.slice(lineStart, text.indexOf('\n', i) < 0 ? undefined : text.indexOf('\n', i));
        throw new ScriptSyntaxError(source, startLine, startCol, "comment '/*' is never closed with '*/'", lineText);
      }
      for (let j = i; j < end + 2; j++) {
        if (text[j] === '\n') {
          line++;
          lineStart = j + 1;
        } else out[j] = ' ';
      }
      i = end + 1;
    }
  }
  return out.join('');
}

/** Parses a whole script; `source` names it in messages (a file name). */
export function parseScript(text: string, source = '<inline>', opts: ParseOptions = {}): Script {
  const originalLines = text.split('\n');
  const lines = blankComments(text, source).split('\n');
  const statements: ScriptStatement[] = [];
  // Symbols given on the command line win over the script's own --define lines, as in packetdrill.
  const given = { ...(opts.defines ?? {}) };
  const defines = new Map<string, string>(Object.entries(given));
  const settings: ScriptSettings = {};
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const original = (originalLines[i] ?? '').replace(/\r$/, '');
    const extra = opts.extraLine?.(lines, originalLines, i, source);
    if (extra) {
      statements.push(extra.statement);
      i = extra.last;
      continue;
    }
    const parser = new LineParser(raw, i + 1, source, original, defines);
    const statement = parser.statement();
    if (statement.type === 'option') applyOption(statement, settings, defines, given, (reason, col) => parser.failAt(reason, col));
    statements.push(statement);
  }
  const connections = resolveConnections(statements, (line, reason) => {
    const original = (originalLines[line - 1] ?? '').replace(/\r$/, '');
    throw new ScriptSyntaxError(source, line, original.length - original.trimStart().length + 1, reason, original);
  });
  return { source, statements, settings, connections };
}

/**
 * The connections a script names, in the order they first appear. A packet line without a
 * name belongs to the first one (the default connection), so it gets that name here; an
 * unnamed line before any name is written is refused, since it cannot say which it meant.
 * A `quiet` line without a name keeps none: it watches every connection.
 */
function resolveConnections(statements: readonly ScriptStatement[], fail: (line: number, reason: string) => never): string[] {
  const names: string[] = [];
  let firstUnnamed: PacketLine | undefined;
  for (const st of statements) {
    if (st.type !== 'packet' && st.type !== 'quiet') continue;
    if (st.conn === undefined) {
      if (st.type === 'packet') firstUnnamed ??= st;
      continue;
    }
    if (names.includes(st.conn)) continue;
    if (names.length === MAX_CONNECTIONS) fail(st.line, `connection '${st.conn}' is one too many: a script holds at most ${MAX_CONNECTIONS} connections`);
    if (st.type === 'quiet') fail(st.line, `connection '${st.conn}' has no segment before this 'quiet' line: name a connection that an earlier line opened${didYouMean(st.conn, names)}`);
    if (names.length === 0 && firstUnnamed) {
      fail(firstUnnamed.line, `this line names no connection, but line ${st.line} names '${st.conn}': in a script of named connections, name this one too (a line without a name belongs to the first connection named)`);
    }
    names.push(st.conn);
  }
  if (names.length > 0) for (const st of statements) if ((st.type === 'packet' || st.type === 'icmp') && st.conn === undefined) st.conn = names[0];
  return names;
}

function applyOption(o: OptionDirective, settings: ScriptSettings, defines: Map<string, string>, given: Record<string, string>, fail: (reason: string, col: number) => never): void {
  switch (o.name) {
    case 'tolerance_usecs': {
      const n = Number(o.value);
      if (o.value === undefined || !/^\d+$/.test(o.value) || n > 60e6) fail(`--tolerance_usecs needs a number of microseconds (at most 60000000), got '${o.value ?? ''}'`, 0);
      settings.tolerance = n / 1e6;
      return;
    }
    case 'strict_segments':
      settings.strictSegments = true;
      return;
    case 'define': {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(o.value ?? '');
      if (!m) fail(`--define needs NAME=VALUE, got '${o.value ?? ''}'`, 0);
      if (!(m[1]! in given)) defines.set(m[1]!, m[2]!);
      return;
    }
    default:
      if (INERT_OPTIONS.includes(o.name)) return;
      fail(`packetdrill option '--${o.name}' is not supported: synack honours ${HONOURED_OPTIONS.map((n) => `--${n}`).join(', ')} and accepts (without effect against a live server) ${INERT_OPTIONS.map((n) => `--${n}`).join(', ')}`, 0);
  }
}

/**
 * Parses one segment as the API writes it, without time: '< S 0:0(0) win 100', or without
 * direction when `direction` says which it is ('S. 0:0(0) ack 1 <...>'). A connection's name
 * goes before the direction, which it then needs: 'b < S 0:0(0) win 100'.
 */
export function parseSegment(text: string, direction?: '<' | '>'): PacketLine {
  const trimmed = text.trim();
  const hasDirection = /^(?:[A-Za-z_][A-Za-z0-9_]*\s+)?[<>]/.test(trimmed);
  const line = hasDirection ? `* ${trimmed}` : `* ${direction ?? '<'} ${trimmed}`;
  const statement = new LineParser(blankComments(line, '<segment>'), 1, '<segment>', line).statement();
  if (statement.type !== 'packet') throw new SynackError(`'${text}' is not a segment`, 'usage');
  if (hasDirection && direction && statement.direction !== direction) {
    throw new SynackError(`'${text}' goes the wrong way: expected a '${direction}' segment here`, 'usage');
  }
  return statement;
}

class LineParser {
  private pos = 0;

  constructor(
    private readonly s: string,
    private readonly lineNo: number,
    private readonly source: string,
    private readonly original: string,
    private readonly defines: ReadonlyMap<string, string> = new Map(),
  ) {}

  private fail(reason: string, at = this.pos): never {
    throw new ScriptSyntaxError(this.source, this.lineNo, at + 1, reason, this.original);
  }

  /** For checks made after the line parsed (column 0: the line's start). */
  failAt(reason: string, at: number): never {
    this.skipSpaces();
    return this.fail(reason, at);
  }

  private skipSpaces(): void {
    while (this.pos < this.s.length && (this.s[this.pos] === ' ' || this.s[this.pos] === '\t')) this.pos++;
  }

  private atEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.s.length;
  }

  private peek(): string {
    this.skipSpaces();
    return this.s[this.pos] ?? '';
  }

  /** The next run of non-space characters, without consuming it (for messages). */
  private nextWord(): string {
    this.skipSpaces();
    const m = /^[^\s]*/.exec(this.s.slice(this.pos));
    return m ? m[0] : '';
  }

  private describeNext(): string {
    const w = this.nextWord();
    return w === '' ? 'the end of the line' : `'${w.length > 20 ? w.slice(0, 20) + '...' : w}'`;
  }

  private word(): string {
    this.skipSpaces();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0];
  }

  private expectChar(c: string, what: string): void {
    if (this.peek() !== c) this.fail(`expected '${c}' ${what}, got ${this.describeNext()}`);
    this.pos++;
  }

  /** An unsigned integer up to 2^32-1 (decimal, or 0x hex). */
  private uint(what: string, max = MAX_U32): number {
    this.skipSpaces();
    const start = this.pos;
    const symbol = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos));
    if (symbol && !/^0x/.test(symbol[0])) return this.symbol(symbol[0], what, max);
    const m = /^(0x[0-9a-fA-F]+|\d+)/.exec(this.s.slice(this.pos));
    if (!m) this.fail(`expected ${what} (a number), got ${this.describeNext()}`);
    const value = Number(m[0]);
    if (value > max) this.fail(`${what} ${m[0]} is too large (at most ${max})`, start);
    this.pos += m[0].length;
    return value;
  }

  /** A name given by --define (packetdrill's symbols: `mss MSS`), standing for a number. */
  private symbol(name: string, what: string, max: number): number {
    const start = this.pos;
    const text = this.defines.get(name);
    if (text === undefined) this.fail(`expected ${what} (a number), got the symbol '${name}', which is not defined: give --define ${name}=VALUE, or a line '--define=${name}=VALUE' before this one`);
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text.trim())) this.fail(`symbol '${name}' is '${text}', not a number (${what})`);
    const value = Number(text.trim());
    if (value > max) this.fail(`${what} ${value} (symbol '${name}') is too large (at most ${max})`, start);
    this.pos += name.length;
    return value;
  }

  /** A decimal number of seconds (packetdrill's times: '0', '.1', '1.25'). */
  private seconds(what: string): number {
    this.skipSpaces();
    const m = /^(\d+(\.\d*)?|\.\d+)/.exec(this.s.slice(this.pos));
    if (!m) this.fail(`expected ${what}, got ${this.describeNext()}`);
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** A duration: seconds, or with a unit (s, ms, us). */
  private duration(what: string): number {
    const n = this.seconds(what);
    const unit = /^(ms|us|s)\b/.exec(this.s.slice(this.pos));
    if (!unit) return n;
    this.pos += unit[0].length;
    return unit[1] === 'ms' ? n / 1000 : unit[1] === 'us' ? n / 1e6 : n;
  }

  private endOfLine(): void {
    if (!this.atEnd()) this.fail(`unexpected ${this.describeNext()} at the end of the line`);
  }

  statement(): ScriptStatement {
    this.skipSpaces();
    const c = this.s[this.pos] ?? '';
    if (c === '`') this.fail('shell commands are not supported: synack checks a live server, start it before the script');
    if (c === '-' && this.s[this.pos + 1] === '-') return this.optionLine();
    if (c === '%' && this.s[this.pos + 1] === '{') this.fail("python blocks '%{ ... }%' (asserts on the kernel's TCP_INFO) are not supported against a live server");
    if (/[A-Za-z]/.test(c)) return this.directive();
    if (!/[0-9.+*]/.test(c)) this.fail(`expected a time ('0', '+0.1', '*', '0.1~0.2') or a directive (${DIRECTIVES.join(', ')}), got ${this.describeNext()}`);
    const time = this.time();
    this.skipSpaces();
    const d = this.s[this.pos];
    if (d === '<' || d === '>') {
      this.pos++;
      return this.packet(time, d);
    }
    const wordAt = this.pos;
    const w = this.word();
    if (w === 'quiet') return this.quiet(time, undefined);
    if (w !== '' && this.peek() === '(') {
      this.fail(`system calls like '${w}(...)' are not supported: synack checks a live server, so the script starts at its first segment`, wordAt);
    }
    if (w !== '') {
      const named = this.named(time, w, wordAt);
      if (named) return named;
    }
    this.pos = wordAt;
    return this.fail(`expected '<' (a segment we send), '>' (a segment the server sends) or 'quiet' after the time, got ${this.describeNext()}`);
  }

  /** A line of one named connection: `+0 b < S 0:0(0) ...` or `+0 b quiet 0.2`. */
  private named(time: TimeSpec, name: string, at: number): PacketLine | IcmpLine | QuietLine | undefined {
    const next = this.peek();
    if (next === ':' && /^:\s*[<>]/.test(this.s.slice(this.pos))) this.fail(`a connection's name stands alone before the direction: '${name} <', not '${name}: <'`, this.pos);
    if (next === '<' || next === '>') {
      if (name.length > MAX_CONNECTION_NAME) this.fail(`connection name '${name.slice(0, 20)}...' is too long (at most ${MAX_CONNECTION_NAME} characters)`, at);
      this.pos++;
      const packet = this.packet(time, next);
      packet.conn = name;
      return packet;
    }
    const quietAt = this.pos;
    if (this.word() === 'quiet') return this.quiet(time, name);
    this.pos = quietAt;
    return undefined;
  }

  /** packetdrill's `--name=value` (or `--name`) line. */
  private optionLine(): OptionDirective {
    const at = this.pos;
    this.pos += 2;
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)(?:=(\S*))?/.exec(this.s.slice(this.pos));
    if (!m) this.fail("expected an option name after '--' (e.g. --tolerance_usecs=10000)", at);
    this.pos += m[0].length;
    this.endOfLine();
    this.pos = at;
    return { type: 'option', line: this.lineNo, name: m[1]!.replace(/-/g, '_'), value: m[2] };
  }

  private directive(): ScriptStatement {
    const at = this.pos;
    const w = this.word();
    const line = this.lineNo;
    switch (w) {
      case 'target': {
        this.skipSpaces();
        const start = this.pos;
        const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*):(\d+)/.exec(this.s.slice(this.pos));
        if (!m) this.fail(`expected HOST:PORT after 'target' (e.g. 127.0.0.1:8080 or [::1]:8080), got ${this.describeNext()}`);
        const host = m[1]!.replace(/^\[|\]$/g, '');
        if (!isIPv4(host) && !isIPv6(host)) this.fail(`'${host}' is not an IPv4 or IPv6 address`, start);
        const port = Number(m[2]);
        if (port < 1 || port > 65535) this.fail(`port ${port} is out of range: ports are 1-65535`, start + m[1]!.length + 1);
        this.pos += m[0].length;
        this.endOfLine();
        return { type: 'target', line, host, port };
      }
      case 'tolerance': {
        const seconds = this.duration("a duration after 'tolerance' (e.g. 25ms or 0.025)");
        this.endOfLine();
        return { type: 'tolerance', line, seconds };
      }
      case 'retransmits': {
        const valueAt = this.pos;
        const v = this.word();
        if (v !== 'allow' && v !== 'forbid') this.fail(`expected 'allow' or 'forbid' after 'retransmits', got ${this.describeNext()}`, v ? valueAt + 1 : this.pos);
        this.endOfLine();
        return { type: 'retransmits', line, allow: v === 'allow' };
      }
      case 'psh': {
        const valueAt = this.pos;
        const v = this.word();
        if (v !== 'ignore' && v !== 'check') this.fail(`expected 'ignore' or 'check' after 'psh', got ${this.describeNext()}`, v ? valueAt + 1 : this.pos);
        this.endOfLine();
        return { type: 'psh', line, ignore: v === 'ignore' };
      }
      case 'quiet':
        this.fail("'quiet' needs a time first, e.g. '+0 quiet 0.2'", at);
        break;
      default: {
        const hint = didYouMean(w, DIRECTIVES);
        if (this.peek() === '(') this.fail(`system calls like '${w}(...)' are not supported: synack checks a live server, so the script starts at its first segment`, at);
        this.fail(`unknown directive '${w}'${hint}: lines start with a time, or one of ${DIRECTIVES.filter((d) => d !== 'quiet').join(', ')}`, at);
      }
    }
  }

  private time(): TimeSpec {
    if (this.peek() === '*') {
      this.pos++;
      return { kind: 'any' };
    }
    const first = this.timePoint();
    if (this.peek() === '~') {
      this.pos++;
      const secondAt = this.pos;
      const second = this.timePoint();
      if (first.relative === second.relative && second.at < first.at) this.fail(`the range ends (${second.at}) before it starts (${first.at})`, secondAt);
      return { kind: 'range', from: first, to: second };
    }
    return first.relative ? { kind: 'relative', at: first.at } : { kind: 'absolute', at: first.at };
  }

  private timePoint(): { relative: boolean; at: number } {
    this.skipSpaces();
    const relative = this.s[this.pos] === '+';
    if (relative) this.pos++;
    return { relative, at: this.seconds(relative ? "a number of seconds after '+'" : 'a time') };
  }

  private quiet(time: TimeSpec, conn: string | undefined): QuietLine {
    const duration = this.duration("how long the server must stay quiet (e.g. 'quiet 0.2' or 'quiet 200ms')");
    this.endOfLine();
    return { type: 'quiet', line: this.lineNo, text: this.original.trim(), time, duration, conn };
  }

  private flags(): number {
    this.skipSpaces();
    const start = this.pos;
    if (this.s[this.pos] === '-' && /[\s]|$/.test(this.s[this.pos + 1] ?? '')) {
      this.pos++;
      return 0;
    }
    let bits = 0;
    while (this.pos < this.s.length && !/\s/.test(this.s[this.pos]!)) {
      const letter = this.s[this.pos]!;
      const bit = scriptFlagBit(letter);
      if (bit === undefined) {
        if (this.pos === start && /\d/.test(letter)) this.fail("expected the flags before the sequence numbers (e.g. 'S', 'S.', 'P.', 'F.', 'R', '.', '-')");
        this.fail(`'${letter}' is not a TCP flag: use ${SCRIPT_FLAG_LETTERS.split('').join(' ')} (. is ACK) or '-' for none`);
      }
      if (bits & bit) this.fail(`flag '${letter}' appears twice`);
      bits |= bit;
      this.pos++;
    }
    if (this.pos === start) this.fail(`expected flags (e.g. 'S', 'S.', 'P.', 'F.', 'R', '.', '-'), got ${this.describeNext()}`);
    return bits;
  }

  /** packetdrill's IP info before the flags: `[ect0]`, `[noecn]`, `(ce)`... */
  private ecnMark(direction: '<' | '>'): EcnMark | undefined {
    const open = this.peek();
    if (open !== '[' && open !== '(') return undefined;
    const at = this.pos;
    this.pos++;
    const wordAt = this.pos;
    const w = this.word();
    if (w === 'tos' || w === 'flowlabel' || w === 'ttl' || w === 'class') this.fail(`IP '${w}' marks are not supported: synack writes and checks only the ECN bits ([noecn], [ect0], [ect1], [ce], [ect01])`, wordAt);
    if (!(ECN_MARKS as readonly string[]).includes(w)) this.fail(`expected an ECN mark ${ECN_MARKS.map((m) => `[${m}]`).join(', ')}, got ${w ? `'${w}'` : this.describeNext()}`, at);
    if (w === 'ect01' && direction === '<') this.fail('[ect01] (either ECT codepoint) can only be used on segments the server sends (\'>\')', at);
    this.expectChar(open === '[' ? ']' : ')', `to close the ECN mark`);
    return w as EcnMark;
  }

  private packet(time: TimeSpec, direction: '<' | '>'): PacketLine | IcmpLine {
    const ecn = this.ecnMark(direction);
    this.skipSpaces();
    const protoAt = this.pos;
    const proto = /^(icmp|udp|GREv0|gre|mpls|encap|psp)\b/.exec(this.s.slice(this.pos));
    if (proto?.[1] === 'icmp') return this.icmp(time, direction, ecn, protoAt);
    if (proto) {
      const what = proto[1] === 'udp' ? "UDP lines ('udp (N)')" : `'${proto[1]}' encapsulation`;
      this.fail(`${what} are not supported: synack scripts carry TCP segments and ICMP errors only`, protoAt);
    }
    const flags = this.flags();
    this.skipSpaces();
    if (!/\d/.test(this.s[this.pos] ?? '')) this.fail(`expected the sequence numbers start:end(length), e.g. 1:4(3), got ${this.describeNext()}`);
    const seq = this.uint('the first sequence number');
    this.expectChar(':', 'between start and end sequence numbers (start:end(length))');
    const end = this.uint('the end sequence number');
    this.expectChar('(', 'before the segment length (start:end(length))');
    const lengthAt = this.pos;
    const length = this.uint('the segment length', 0xffff);
    this.expectChar(')', 'after the segment length');
    if (((end - seq) >>> 0) !== length) this.fail(`${seq}:${end} spans ${((end - seq) >>> 0)} bytes but the length says ${length}`, lengthAt);
    const packet: PacketLine = {
      type: 'packet', line: this.lineNo, text: this.original.trim(), time, direction, flags, seq, length,
      ack: undefined, win: undefined, options: undefined, payload: undefined, urg: undefined, ecn, conn: undefined,
    };
    let payloadAt = -1;
    while (!this.atEnd()) {
      const c = this.s[this.pos]!;
      const at = this.pos;
      if (c === '<') {
        if (packet.options !== undefined) this.fail('options are given twice');
        packet.options = this.options(direction);
      } else if (c === '"') {
        if (packet.payload !== undefined) this.fail('the payload is given twice');
        payloadAt = at;
        packet.payload = this.quoted();
      } else if (c === '0' && this.s[this.pos + 1] === 'x') {
        if (packet.payload !== undefined) this.fail('the payload is given twice');
        payloadAt = at;
        packet.payload = this.hexBytes();
      } else {
        const w = this.word();
        if (w === 'ack' || w === 'win' || w === 'urg') {
          if (packet[w] !== undefined) this.fail(`'${w}' is given twice`, at);
          packet[w] = this.uint(w === 'ack' ? 'the acknowledgment number' : w === 'win' ? 'the window' : 'the urgent pointer', w === 'ack' ? MAX_U32 : 0xffff);
        } else {
          this.pos = at;
          const hint = w ? didYouMean(w, ['ack', 'win', 'urg']) : '';
          this.fail(`expected ack N, win N, urg N, <options> or a payload ("text" or 0x hex), got ${this.describeNext()}${hint}`);
        }
      }
    }
    if (packet.payload !== undefined && packet.payload.length !== length) {
      this.fail(`the payload is ${packet.payload.length} bytes but the segment length says ${length}`, payloadAt);
    }
    return packet;
  }

  /** `icmp TYPE [CODE] [mtu N] [[start:end(len)]]`, packetdrill's ICMP line (after the direction). */
  private icmp(time: TimeSpec, direction: '<' | '>', ecn: EcnMark | undefined, at: number): IcmpLine {
    if (direction === '>') this.fail("ICMP lines the kernel sends ('> icmp ...') are not supported: synack sends ICMP errors ('< icmp ...') but does not check the kernel's", at);
    if (ecn !== undefined) this.fail('IP marks on ICMP lines are not supported: write the ICMP line without [...]', at);
    this.pos += 'icmp'.length;
    const typeAt = this.pos;
    const icmpType = this.word();
    if (!icmpType) this.fail(`expected the ICMP type after 'icmp' (e.g. 'unreachable', 'packet_too_big'), got ${this.describeNext()}`);
    let icmpCode: string | undefined;
    const codeAt = this.pos;
    const w = this.word();
    if (w && w !== 'mtu' && w !== 'id') icmpCode = this.defines.get(w) ?? w;
    else this.pos = codeAt;
    const problem = icmpNameProblem(icmpType, icmpCode);
    if (problem) this.fail(problem, icmpCode !== undefined && icmpTypeKnown(icmpType) ? codeAt + 1 : typeAt + 1);
    let mtu: number | undefined;
    const mtuAt = this.pos;
    if (this.word() === 'mtu') {
      if (!icmpTakesMtu(icmpType, icmpCode)) this.fail("'mtu N' is only for 'unreachable frag_needed' (ICMPv4) and 'packet_too_big' (ICMPv6)", mtuAt + 1);
      mtu = this.uint('the MTU');
    } else this.pos = mtuAt;
    const idAt = this.pos;
    if (this.word() === 'id') this.fail("'id N' (an echo identifier) is not supported on ICMP lines: synack sends ICMP errors about TCP segments", idAt + 1);
    this.pos = idAt;
    let quotedSeq = 0;
    let quotedLength = 0;
    if (this.peek() === '[') {
      this.pos++;
      const innerAt = this.pos;
      const inner = this.word();
      if (inner === 'udp' || inner === 'raw') this.fail(`ICMP lines quoting '${inner}' are not supported: synack quotes TCP segments ('[start:end(length)]')`, innerAt);
      this.pos = innerAt;
      quotedSeq = this.uint('the quoted segment\'s first sequence number');
      this.expectChar(':', 'between start and end sequence numbers ([start:end(length)])');
      const end = this.uint('the quoted segment\'s end sequence number');
      this.expectChar('(', 'before the quoted segment\'s length ([start:end(length)])');
      const lengthAt = this.pos;
      quotedLength = this.uint('the quoted segment\'s length', 0xffff);
      this.expectChar(')', 'after the quoted segment\'s length');
      if (((end - quotedSeq) >>> 0) !== quotedLength) this.fail(`${quotedSeq}:${end} spans ${((end - quotedSeq) >>> 0)} bytes but the length says ${quotedLength}`, lengthAt);
      this.expectChar(']', 'to close the quoted segment');
    }
    this.endOfLine();
    return { type: 'icmp', line: this.lineNo, text: this.original.trim(), time, direction, icmpType, icmpCode, mtu, quotedSeq, quotedLength, conn: undefined };
  }

  private options(direction: '<' | '>'): ScriptOption[] | 'any' {
    const open = this.pos;
    this.pos++; // '<'
    if (this.peek() === '.' && this.s.startsWith('...', this.pos)) {
      this.pos += 3;
      this.expectChar('>', "to close '<...>'");
      if (direction === '<') this.fail("'<...>' (options not checked) is only for segments the server sends ('>'); list the options we send", open);
      return 'any';
    }
    const options: ScriptOption[] = [];
    if (this.peek() === '>') {
      this.pos++;
      return options;
    }
    for (;;) {
      options.push(this.option());
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '>') {
        this.pos++;
        return options;
      }
      this.fail(`expected ',' or '>' in the options, got ${this.describeNext()}`);
    }
  }

  private option(): ScriptOption {
    this.skipSpaces();
    const at = this.pos;
    const name = this.word();
    switch (name) {
      case 'mss':
        return { kind: 'mss', value: this.uint('the MSS', 0xffff) };
      case 'wscale':
        return { kind: 'wscale', value: this.uint('the window scale', 255) };
      case 'sackOK':
        return { kind: 'sackOK' };
      case 'nop':
        return { kind: 'nop' };
      case 'eol':
        return { kind: 'eol' };
      case 'TS': {
        const valAt = this.pos;
        if (this.word() !== 'val') this.fail("expected 'val' after 'TS' (TS val N ecr N)", valAt);
        const val = this.uint('the TS value');
        const ecrAt = this.pos;
        if (this.word() !== 'ecr') this.fail("expected 'ecr' after the TS value (TS val N ecr N)", ecrAt);
        return { kind: 'TS', val, ecr: this.uint('the TS echo reply') };
      }
      case 'sack': {
        const blocks: Array<[number, number]> = [];
        while (/\d/.test(this.peek())) {
          const left = this.uint('the left edge of a SACK block');
          this.expectChar(':', 'between the edges of a SACK block (sack 1:2 3:4)');
          blocks.push([left, this.uint('the right edge of a SACK block')]);
        }
        if (blocks.length === 0) this.fail('expected SACK blocks after sack, e.g. sack 1:2 3:4');
        if (blocks.length > 4) this.fail('at most 4 SACK blocks fit in a TCP header', at);
        return { kind: 'sack', blocks };
      }
      case 'FO':
      case 'FOEXP': {
        const cookie = this.hexBlob(`the Fast Open cookie`, name === 'FO' ? FO_MAX_COOKIE : FOEXP_MAX_COOKIE, true);
        return { kind: name, cookie };
      }
      case 'md5':
        return { kind: 'md5', digest: this.hexBlob('the MD5 digest', MD5_DIGEST, false) };
      case 'kind': {
        const code = this.uint('the option kind', 255);
        this.skipSpaces();
        const data = this.s.startsWith('0x', this.pos) ? this.hexBytes() : Buffer.alloc(0);
        return { kind: 'raw', code, data };
      }
      default:
        this.pos = at;
        this.fail(`unknown option ${this.describeNext()}${name ? didYouMean(name, OPTION_NAMES) : ''}: options are ${OPTION_NAMES.join(', ')} (or '...' alone to skip the check)`);
    }
  }

  private quoted(): Buffer {
    const start = this.pos;
    this.pos++;
    const bytes: number[] = [];
    for (;;) {
      if (this.pos >= this.s.length) this.fail('the payload string is never closed with \'"\'', start);
      const c = this.s[this.pos]!;
      this.pos++;
      if (c === '"') return Buffer.from(bytes);
      if (c !== '\\') {
        for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
        continue;
      }
      const e = this.s[this.pos] ?? '';
      this.pos++;
      const simple: Record<string, number> = { n: 10, r: 13, t: 9, '0': 0, '\\': 92, '"': 34 };
      if (e in simple) bytes.push(simple[e]!);
      else if (e === 'x' && /^[0-9a-fA-F]{2}/.test(this.s.slice(this.pos))) {
        bytes.push(parseInt(this.s.slice(this.pos, this.pos + 2), 16));
        this.pos += 2;
      } else this.fail(`unknown escape '\\${e}' in the payload: use \\n \\r \\t \\0 \\\\ \\" or \\xNN`, this.pos - 2);
    }
  }

  /** packetdrill's bare hex (`FO abcd1234`, `md5 00ff...`): digits without 0x, an even count. */
  private hexBlob(what: string, max: number, optional: boolean): Buffer {
    this.skipSpaces();
    const start = this.pos;
    // A symbol from --define stands for its hex (packetdrill's `FOEXP TFO_COOKIE`).
    const sym = /^[A-Za-z_][A-Za-z0-9_]*(?=[\s,>]|$)/.exec(this.s.slice(this.pos));
    const value = sym && !/^(?:0x)?[0-9a-fA-F]+$/.test(sym[0]) ? this.defines.get(sym[0]) : undefined;
    if (sym && value !== undefined) {
      const digits = value.replace(/^0x/, '');
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) this.fail(`${what}: the symbol ${sym[0]} is '${value}', not hex bytes`, start);
      if (digits.length / 2 > max) this.fail(`${what} (${sym[0]}) is ${digits.length / 2} bytes: at most ${max}`, start);
      this.pos += sym[0].length;
      return Buffer.from(digits, 'hex');
    }
    const m = /^(?:0x)?([0-9a-fA-F]*)(?=[\s,>]|$)/.exec(this.s.slice(this.pos));
    if (!m || m[0] === '') {
      if (sym && !/^(?:0x)?[0-9a-fA-F]+$/.test(sym[0])) this.fail(`expected ${what} in hex, got the symbol '${sym[0]}', which is not defined: give --define ${sym[0]}=HEX`, start);
      if (optional) return Buffer.alloc(0);
      this.fail(`expected ${what} in hex (e.g. 00112233), got ${this.describeNext()}`);
    }
    const digits = m[1]!;
    if (digits.length % 2 !== 0) this.fail(`${what} has an odd number of hex digits`, start);
    if (digits.length / 2 > max) this.fail(`${what} is ${digits.length / 2} bytes: at most ${max}`, start);
    this.pos += m[0].length;
    return Buffer.from(digits, 'hex');
  }

  private hexBytes(): Buffer {
    const start = this.pos;
    this.pos += 2;
    const m = /^[0-9a-fA-F]*/.exec(this.s.slice(this.pos))!;
    if (m[0].length === 0 || m[0].length % 2 !== 0) this.fail('hex bytes need an even number of hex digits after 0x', start);
    this.pos += m[0].length;
    return Buffer.from(m[0], 'hex');
  }
}
