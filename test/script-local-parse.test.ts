/**
 * Local mode's lines as the parser reads them (no network): packetdrill's system calls with
 * their blocking ends, errno and notes, struct and list arguments, shell lines and python
 * blocks over several lines; mistakes name the line and column; and without --local the same
 * lines stay refused by name.
 */
import { describe, expect, it } from 'vitest';
import { parseScript, ScriptSyntaxError } from '../src/script/parse.js';
import { parseLocalScript } from '../src/script/local/run.js';

function only(text: string) {
  const s = parseLocalScript(text, 't.pkt').statements;
  expect(s).toHaveLength(1);
  return s[0]!;
}

describe('local mode lines', () => {
  it('reads a blocking call with its end, and a result with errno and note', () => {
    const a = only('+0...0.200 accept(3, ..., ...) = 4');
    expect(a).toMatchObject({ type: 'syscall', name: 'accept', time: { kind: 'relative', at: 0 }, end: 0.2, result: 4, errno: undefined });
    const c = only('+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)');
    expect(c).toMatchObject({ type: 'syscall', name: 'connect', result: -1, errno: 'EINPROGRESS', end: undefined });
    const d = only('0.100...0.300 read(4, ..., 2000) = 2000');
    expect(d).toMatchObject({ time: { kind: 'absolute', at: 0.1 }, end: 0.3 });
  });

  it('reads struct, list, string and or-ed arguments, across lines', () => {
    const s = only('+0 setsockopt(3, SOL_SOCKET, SO_LINGER,\n   {onoff=1, linger=0}, 8) = 0');
    expect(s.type === 'syscall' && s.args[3]).toEqual({ k: 'struct', fields: [['onoff', { k: 'num', v: 1 }], ['linger', { k: 'num', v: 0 }]] });
    const f = only('+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0');
    expect(f.type === 'syscall' && f.args[2]).toEqual({ k: 'sym', names: ['O_RDWR', 'O_NONBLOCK'] });
    const g = only('+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", [4]) = 0');
    expect(g.type === 'syscall' && g.args.slice(3)).toEqual([{ k: 'str', v: 'reno' }, { k: 'list', items: [{ k: 'num', v: 4 }] }]);
  });

  it('reads shell lines and python blocks over several lines, beside packet lines', () => {
    const s = parseLocalScript('`../common/defaults.sh\n sysctl -q net.ipv4.tcp_sack=1\n`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 100\n+0 %{\nassert tcpi_snd_cwnd == 10\n}%\n', 't.pkt').statements;
    expect(s.map((x) => [x.type, x.line])).toEqual([['shell', 1], ['syscall', 4], ['packet', 5], ['python', 6]]);
    expect(s[0]!.type === 'shell' && s[0]!.command).toBe('../common/defaults.sh\n sysctl -q net.ipv4.tcp_sack=1\n');
  });

  it('names mistakes with line and column', () => {
    const err = (t: string): ScriptSyntaxError => {
      try {
        parseLocalScript(t, 't.pkt');
      } catch (e) {
        return e as ScriptSyntaxError;
      }
      throw new Error('parsed');
    };
    expect(err('\n+0 close(3) 0').message).toMatch(/^t\.pkt:2:\d+: expected '= RESULT' after close/);
    expect(err('`never closed').message).toContain('the shell command is never closed with a backtick');
    expect(err('+0 write(4, ..., 10 = 10').message).toContain("the system call is never closed with ')'");
  });

  it('without local mode the same lines stay refused by name', () => {
    expect(() => parseScript('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', 't.pkt')).toThrow(/system calls like 'socket\(\.\.\.\)' are not supported/);
    expect(() => parseScript('`true`', 't.pkt')).toThrow(/shell commands are not supported/);
  });
});
