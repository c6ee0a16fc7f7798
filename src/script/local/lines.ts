/**
 * The lines only local mode runs: packetdrill's system calls, backtick shell commands and
 * `%{ python }%` blocks. Each may span several lines (a struct argument, a shell script in
 * backticks), so the reader takes the script's lines from a given one and says where the
 * statement ended.
 *
 *   0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
 *   +0...0.200 accept(3, ..., ...) = 4
 *   +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
 *   +0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
 *   `../common/defaults.sh`
 *   +0 %{ assert tcpi_snd_cwnd == 10 }%
 */
import type { TimeSpec } from '../ast.js';
import { ScriptSyntaxError } from '../parse.js';

/** A value in a system call, as packetdrill writes it. */
export type SyscallExpr =
  | { k: 'ellipsis' }
  | { k: 'num'; v: number }
  /** A symbol, or several or'ed (`O_RDWR|O_NONBLOCK`); numbers may be or'ed in too. */
  | { k: 'sym'; names: Array<string | number> }
  | { k: 'str'; v: string }
  | { k: 'list'; items: SyscallExpr[] }
  | { k: 'struct'; fields: Array<[string, SyscallExpr]> }
  | { k: 'fn'; name: string; args: SyscallExpr[] };

export interface SyscallLine {
  type: 'syscall';
  line: number;
  text: string;
  time: TimeSpec;
  /** A blocking call's end (`start...end`): seconds, relative to the same base as the start. */
  end: number | undefined;
  name: string;
  args: SyscallExpr[];
  /** The expected return value. */
  result: number;
  /** The expected errno's name (EINPROGRESS), when given. */
  errno: string | undefined;
}

export interface ShellLine {
  type: 'shell';
  line: number;
  text: string;
  time: TimeSpec;
  command: string;
}

export interface PythonLine {
  type: 'python';
  line: number;
  text: string;
  time: TimeSpec;
  code: string;
}

export type LocalLine = SyscallLine | ShellLine | PythonLine;

const MAX_LINES = 200;

/**
 * If line `i` starts a local-mode statement, reads it (through later lines when it spans
 * them) and returns it with the index of its last line; otherwise undefined (a packet line).
 * `lines` have their comments blanked; `original` are the lines as written.
 */
export function readLocalLine(lines: readonly string[], original: readonly string[], i: number, source: string): { statement: LocalLine; last: number } | undefined {
  const first = lines[i]!;
  const r = new Reader(first, i + 1, source, original[i] ?? first);
  const time = r.optionalTime();
  r.spaces();
  const rest = first.slice(r.pos);
  const kind = rest.startsWith('`') ? 'shell' : rest.startsWith('%{') ? 'python' : /^[A-Za-z_][A-Za-z0-9_]*\s*\(/.test(rest) || (r.end !== undefined && /^[A-Za-z_]/.test(rest)) ? 'syscall' : undefined;
  if (kind === undefined) {
    if (r.end !== undefined) r.fail('a time range with ... (start...end) is for blocking system calls only');
    return undefined;
  }
  // Join lines until the construct closes.
  let text = rest;
  let last = i;
  const closed = (t: string): boolean => (kind === 'shell' ? t.indexOf('`', 1) > 0 : kind === 'python' ? t.includes('}%') : balanced(t));
  while (!closed(text)) {
    last++;
    if (last >= lines.length || last - i > MAX_LINES) r.fail(kind === 'shell' ? 'the shell command is never closed with a backtick' : kind === 'python' ? "the python block is never closed with '}%'" : 'the system call is never closed with \')\'', r.pos);
    text += '\n' + lines[last]!;
  }
  const fullText = original.slice(i, last + 1).join('\n').trim();
  const line = i + 1;
  if (kind === 'shell') {
    const close = text.indexOf('`', 1);
    if (text.slice(close + 1).trim() !== '') r.fail('unexpected text after the shell command\'s closing backtick', r.pos + close + 1);
    return { statement: { type: 'shell', line, text: fullText, time: time ?? { kind: 'relative', at: 0 }, command: text.slice(1, close) }, last };
  }
  if (kind === 'python') {
    const close = text.indexOf('}%');
    return { statement: { type: 'python', line, text: fullText, time: time ?? { kind: 'relative', at: 0 }, code: text.slice(2, close).trim() }, last };
  }
  if (time === undefined) return r.fail("a system call needs a time first, e.g. '+0 close(3) = 0'");
  const call = new Reader(text.replace(/\n/g, ' '), line, source, original[i] ?? first).syscall();
  return { statement: { type: 'syscall', line, text: fullText, time, end: r.end, ...call }, last };
}

/** Whether every '(' '[' '{' opened (outside strings) is closed, and one '(' was seen. */
function balanced(t: string): boolean {
  let depth = 0;
  let opened = false;
  for (let j = 0; j < t.length; j++) {
    const c = t[j]!;
    if (c === '"') {
      for (j++; j < t.length && t[j] !== '"'; j++) if (t[j] === '\\') j++;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
      opened = true;
    } else if (c === ')' || c === ']' || c === '}') depth--;
    if (opened && depth === 0) return true;
  }
  return false;
}

class Reader {
  pos = 0;
  end: number | undefined;

  constructor(
    private readonly s: string,
    private readonly lineNo: number,
    private readonly source: string,
    private readonly original: string,
  ) {}

  fail(reason: string, at = this.pos): never {
    throw new ScriptSyntaxError(this.source, this.lineNo, at + 1, reason, this.original.split('\n')[0]!);
  }

  spaces(): void {
    while (/[ \t\n]/.test(this.s[this.pos] ?? '')) this.pos++;
  }

  private number(): number | undefined {
    const m = /^(\d+(\.\d+)?|\.\d+)/.exec(this.s.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private point(): { relative: boolean; at: number } | undefined {
    this.spaces();
    const at = this.pos;
    const relative = this.s[this.pos] === '+';
    if (relative) this.pos++;
    const n = this.number();
    if (n === undefined) {
      this.pos = at;
      return undefined;
    }
    return { relative, at: n };
  }

  /** packetdrill's event time, and a blocking call's `...end`. */
  optionalTime(): TimeSpec | undefined {
    this.spaces();
    let time: TimeSpec | undefined;
    if (this.s[this.pos] === '*') {
      this.pos++;
      time = { kind: 'any' };
    } else {
      const from = this.point();
      if (!from) return undefined;
      if (this.s[this.pos] === '~') {
        this.pos++;
        const to = this.point();
        if (!to) this.fail("expected the end of the time range after '~'");
        time = { kind: 'range', from, to };
      } else time = from.relative ? { kind: 'relative', at: from.at } : { kind: 'absolute', at: from.at };
    }
    // packetdrill allows spaces around the dots: `+0 ... .02 sendto(...)`.
    const before = this.pos;
    this.spaces();
    if (!this.s.startsWith('...', this.pos)) this.pos = before;
    else {
      this.pos += 3;
      this.spaces();
      const n = this.number();
      if (n === undefined) this.fail("expected the blocking call's end time after '...' (start...end)");
      this.end = n;
    }
    return time;
  }

  private word(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0];
  }

  syscall(): { name: string; args: SyscallExpr[]; result: number; errno: string | undefined } {
    this.spaces();
    const name = this.word();
    this.spaces();
    if (this.s[this.pos] !== '(') this.fail(`expected '(' after the system call '${name}'`);
    this.pos++;
    const args = this.list(')');
    this.spaces();
    if (this.s[this.pos] !== '=') this.fail(`expected '= RESULT' after ${name}(...), e.g. '= 0' or '= -1 EAGAIN'`);
    this.pos++;
    this.spaces();
    const m = /^(-?)(0x[0-9a-fA-F]+|\d+)/.exec(this.s.slice(this.pos));
    if (!m) this.fail('expected the return value (a number) after \'=\'');
    this.pos += m[0].length;
    const result = (m[1] ? -1 : 1) * Number(m[2]);
    this.spaces();
    let errno: string | undefined;
    if (/^E[A-Z0-9]+/.test(this.s.slice(this.pos))) errno = this.word();
    this.spaces();
    // packetdrill's note: `(Operation now in progress)`, not checked.
    if (this.s[this.pos] === '(') {
      const close = this.s.indexOf(')', this.pos);
      if (close < 0) this.fail("the note after the result is never closed with ')'");
      this.pos = close + 1;
    }
    this.spaces();
    if (this.pos < this.s.length) this.fail(`unexpected '${this.s.slice(this.pos, this.pos + 20)}' after the system call's result`);
    return { name, args, result, errno };
  }

  private list(close: string): SyscallExpr[] {
    const items: SyscallExpr[] = [];
    this.spaces();
    if (this.s[this.pos] === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.expr());
      this.spaces();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === close) {
        this.pos++;
        return items;
      }
      this.fail(`expected ',' or '${close}', got ${c === undefined ? 'the end of the line' : `'${c}'`}`);
    }
  }

  private expr(): SyscallExpr {
    this.spaces();
    const c = this.s[this.pos] ?? '';
    if (this.s.startsWith('...', this.pos)) {
      this.pos += 3;
      return { k: 'ellipsis' };
    }
    if (c === '"') {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(this.s.slice(this.pos));
      if (!m) this.fail('the string is never closed with \'"\'');
      this.pos += m[0].length;
      // C's escapes as packetdrill reads them; \xNN is one byte (a TCP_FASTOPEN_KEY).
      const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0' };
      return { k: 'str', v: m[1]!.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : simple[e] ?? e)) };
    }
    if (c === '[') {
      this.pos++;
      return { k: 'list', items: this.list(']') };
    }
    if (c === '{') {
      this.pos++;
      const fields: Array<[string, SyscallExpr]> = [];
      for (;;) {
        this.spaces();
        if (this.s[this.pos] === '}') {
          this.pos++;
          return { k: 'struct', fields };
        }
        const fieldAt = this.pos;
        const name = this.word();
        this.spaces();
        if (!name || (this.s[this.pos] !== '=' && this.s[this.pos] !== '(')) {
          // A value without a name: `{..., 2000}` (an iovec), or `...` for the rest.
          this.pos = fieldAt;
          fields.push(['', this.expr()]);
        } else {
          // packetdrill's sized fields: `msg_name(...)=...`.
          if (this.s[this.pos] === '(') {
            const close = this.s.indexOf(')', this.pos);
            if (close < 0) this.fail(`the field '${name}(' is never closed with ')'`);
            this.pos = close + 1;
            this.spaces();
          }
          if (this.s[this.pos] !== '=') this.fail(`expected '=' after the field '${name}'`);
          this.pos++;
          fields.push([name, this.expr()]);
        }
        this.spaces();
        if (this.s[this.pos] === ',') this.pos++;
      }
    }
    const parts: Array<string | number> = [];
    for (;;) {
      this.spaces();
      const m = /^(-?)(0x[0-9a-fA-F]+|\d+)/.exec(this.s.slice(this.pos));
      if (m) {
        this.pos += m[0].length;
        parts.push((m[1] ? -1 : 1) * Number(m[2]));
      } else {
        const w = this.word();
        if (!w) this.fail(`expected a value (a number, a symbol, "text", [..], {..} or ...), got '${c}'`);
        this.spaces();
        if (this.s[this.pos] === '(' && parts.length === 0) {
          this.pos++;
          return { k: 'fn', name: w, args: this.list(')') };
        }
        parts.push(w);
      }
      this.spaces();
      if (this.s[this.pos] !== '|') break;
      this.pos++;
    }
    return parts.length === 1 && typeof parts[0] === 'number' ? { k: 'num', v: parts[0] } : { k: 'sym', names: parts };
  }
}
