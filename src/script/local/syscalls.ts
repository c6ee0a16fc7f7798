/**
 * packetdrill's system calls, performed by the helper and checked as packetdrill checks them:
 * the return value exactly (or, for socket and accept, any descriptor when a descriptor is
 * expected: the script's number then names the live one), then errno when the script gives
 * one; getsockopt's value and poll's revents when written.
 *
 * Addresses are never in the script: `...` where packetdrill fills in its own addresses
 * becomes the namespace's (bind: the kernel's side and the bind port; connect and sendto: the
 * remote side and the connect port). A call or value this cannot perform is skipped, by name.
 */
import type { Mismatch } from '../check.js';
import type { SyscallExpr, SyscallLine } from './lines.js';
import { errnoName, errnoValue, symbolValue } from './constants.js';
import type { CallReply, LocalHelper } from './helper.js';

export interface CallContext {
  helper: LocalHelper;
  /** The script's descriptor numbers to the helper's. */
  fds: Map<number, number>;
  /** AF_INET or AF_INET6, for `socket(..., ...)`. */
  socketFamily: number;
  /** The kernel's address and port as bind() takes them, the remote's as connect() does. */
  local: { host: string; port: number };
  remote: { host: string; port: number };
}

/** A call to make now and check when it returns; or the reason it cannot be made here. */
export type PreparedCall = { skip: string } | { perform: () => Promise<Mismatch | undefined> };

class Unsupported extends Error {}

const SKIPPED_CALLS: Record<string, string> = {
  epoll_create: 'epoll', epoll_create1: 'epoll', epoll_ctl: 'epoll', epoll_wait: 'epoll',
  sendmsg: 'msghdr and cmsg', recvmsg: 'msghdr and cmsg', ioctl: 'ioctl', splice: 'splice',
  sendfile: 'sendfile', pipe: 'pipes', open: 'files', writev: 'iovecs', readv: 'iovecs',
};

function num(e: SyscallExpr | undefined, what: string): number {
  if (!e) throw new Unsupported(`${what} is missing`);
  if (e.k === 'num') return e.v;
  if (e.k === 'sym') {
    let v = 0;
    for (const n of e.names) {
      const x = typeof n === 'number' ? n : symbolValue(n);
      if (x === undefined) throw new Unsupported(`the symbol ${n}`);
      v |= x;
    }
    return v;
  }
  if (e.k === 'list' && e.items.length === 1) return num(e.items[0], what);
  throw new Unsupported(`${what} written as ${describe(e)}`);
}

function describe(e: SyscallExpr): string {
  switch (e.k) {
    case 'struct':
      return 'a struct';
    case 'fn':
      return `${e.name}(...)`;
    case 'list':
      return 'a list';
    default:
      return e.k;
  }
}

function liveFd(ctx: CallContext, e: SyscallExpr | undefined): number {
  const n = num(e, 'the descriptor');
  // A descriptor the script never opened stays invalid (EBADF), as it would in packetdrill.
  return ctx.fds.get(n) ?? -1;
}

/** A buffer argument: `...` is that many zero bytes, "text" its bytes. */
function buffer(e: SyscallExpr | undefined, length: number): Buffer {
  // A bad pointer (EFAULT tests) cannot be passed through Python's socket module.
  if (e?.k === 'sym' && e.names.length === 1 && e.names[0] === 'NULL') throw new Unsupported('a NULL buffer');
  if (e?.k === 'str') return Buffer.from(e.v, 'latin1').subarray(0, length);
  return Buffer.alloc(length);
}

/** An address argument: only `...` (packetdrill's own addresses) is understood. */
function addressArg(e: SyscallExpr | undefined, which: { host: string; port: number }): { host: string; port: number } {
  if (e === undefined || e.k === 'ellipsis') return which;
  throw new Unsupported(`an address written as ${describe(e)}`);
}

function optionValue(e: SyscallExpr | undefined): Record<string, unknown> {
  if (!e) throw new Unsupported('the option value is missing');
  if (e.k === 'str') return { bytes: Buffer.from(e.v, 'latin1').toString('base64') };
  if (e.k === 'struct') return { ints: e.fields.map(([name, v]) => num(v, `field ${name}`)) };
  if (e.k === 'list' && e.items.length > 1) return { ints: e.items.map((v) => num(v, 'a list item')) };
  return { int: num(e, 'the option value') };
}

/** The command for the helper, and how to check its reply beyond the return value. */
function command(line: SyscallLine, ctx: CallContext): { op: string; args: Record<string, unknown>; check?: (r: CallReply) => Mismatch | undefined } {
  const a = line.args;
  switch (line.name) {
    case 'socket':
      return { op: 'socket', args: { family: a[0]?.k === 'ellipsis' ? ctx.socketFamily : num(a[0], 'the family'), type: num(a[1], 'the type'), proto: num(a[2], 'the protocol') } };
    case 'bind':
      return { op: 'bind', args: { fd: liveFd(ctx, a[0]), addr: addressArg(a[1], ctx.local) } };
    case 'connect':
      return { op: 'connect', args: { fd: liveFd(ctx, a[0]), addr: addressArg(a[1], ctx.remote) } };
    case 'listen':
      return { op: 'listen', args: { fd: liveFd(ctx, a[0]), backlog: num(a[1], 'the backlog') } };
    case 'accept':
    case 'accept4':
      return { op: 'accept', args: { fd: liveFd(ctx, a[0]) } };
    case 'close':
      return { op: 'close', args: { fd: liveFd(ctx, a[0]) } };
    case 'shutdown':
      return { op: 'shutdown', args: { fd: liveFd(ctx, a[0]), how: num(a[1], 'how') } };
    case 'read':
      buffer(a[1], 0);
      return { op: 'read', args: { fd: liveFd(ctx, a[0]), len: num(a[2], 'the length') } };
    case 'recv':
    case 'recvfrom':
      buffer(a[1], 0);
      return { op: 'recv', args: { fd: liveFd(ctx, a[0]), len: num(a[2], 'the length'), flags: num(a[3] ?? { k: 'num', v: 0 }, 'the flags') } };
    case 'write':
      return { op: 'write', args: { fd: liveFd(ctx, a[0]), data: buffer(a[1], num(a[2], 'the length')).toString('base64') } };
    case 'send':
      return { op: 'send', args: { fd: liveFd(ctx, a[0]), data: buffer(a[1], num(a[2], 'the length')).toString('base64'), flags: num(a[3] ?? { k: 'num', v: 0 }, 'the flags') } };
    case 'sendto': {
      const args: Record<string, unknown> = { fd: liveFd(ctx, a[0]), data: buffer(a[1], num(a[2], 'the length')).toString('base64'), flags: num(a[3] ?? { k: 'num', v: 0 }, 'the flags') };
      if (a.length > 4) args.addr = addressArg(a[4], ctx.remote);
      return { op: 'sendto', args };
    }
    case 'setsockopt':
      return { op: 'setsockopt', args: { fd: liveFd(ctx, a[0]), level: num(a[1], 'the level'), name: num(a[2], 'the option'), value: optionValue(a[3]) } };
    case 'getsockopt':
      return getsockopt(line, ctx);
    case 'fcntl':
      return { op: 'fcntl', args: { fd: liveFd(ctx, a[0]), cmd: num(a[1], 'the command'), arg: a[2] ? num(a[2], 'the argument') : 0 } };
    case 'poll':
      return poll(line, ctx);
    default:
      throw new Unsupported(SKIPPED_CALLS[line.name] ? `${line.name}() (${SKIPPED_CALLS[line.name]})` : `${line.name}()`);
  }
}

function getsockopt(line: SyscallLine, ctx: CallContext): ReturnType<typeof command> {
  const a = line.args;
  const value = a[3];
  if (value?.k === 'struct') throw new Unsupported(`getsockopt ${a[2]?.k === 'sym' ? a[2].names.join('|') : ''} into a struct`.replace('  ', ' '));
  const lenArg = a[4];
  const wantLen = lenArg && lenArg.k !== 'ellipsis' ? num(lenArg, 'the length') : undefined;
  const isString = value?.k === 'str';
  const bufLen = isString ? Math.max(64, wantLen ?? 0) : Math.max(4, wantLen ?? 4);
  return {
    op: 'getsockopt',
    args: { fd: liveFd(ctx, a[0]), level: num(a[1], 'the level'), name: num(a[2], 'the option'), len: bufLen },
    check: (r) => {
      if (r.ret < 0 || !r.data) return undefined;
      if (isString) {
        const got = r.data.toString('latin1').replace(/\0.*$/s, '');
        return got === value.v ? undefined : { field: 'value', expected: `value "${value.v}"`, got: `"${got}"` };
      }
      if (value && value.k !== 'ellipsis') {
        const want = num(value, 'the value');
        const got = r.data.length >= 4 ? r.data.readUInt32LE(0) : r.data.length > 0 ? r.data[0]! : 0;
        // Compared as 32 bits: [0xffffffff] and [-1] are the same int.
        if (got !== want >>> 0) return { field: 'value', expected: `value ${want}`, got: `value ${got}` };
      }
      if (wantLen !== undefined && r.data.length !== wantLen && !isString) return { field: 'value', expected: `length ${wantLen}`, got: `length ${r.data.length}` };
      return undefined;
    },
  };
}

function poll(line: SyscallLine, ctx: CallContext): ReturnType<typeof command> {
  const list = line.args[0];
  if (list?.k !== 'list') throw new Unsupported('poll() without a [{fd=..., events=...}] list');
  const entries = list.items.map((item) => {
    if (item.k !== 'struct') throw new Unsupported('a poll entry that is not {fd=..., events=...}');
    const field = (n: string): SyscallExpr | undefined => item.fields.find(([f]) => f === n)?.[1];
    const revents = field('revents');
    return { fd: liveFd(ctx, field('fd')), events: num(field('events'), 'events'), revents: revents && revents.k !== 'ellipsis' ? num(revents, 'revents') : undefined };
  });
  return {
    op: 'poll',
    args: { fds: entries.map((e) => [e.fd, e.events]), timeout: num(line.args[2], 'the timeout') },
    check: (r) => {
      for (const e of entries) {
        if (e.revents === undefined) continue;
        const got = r.revents?.find(([fd]) => fd === e.fd)?.[1] ?? 0;
        if (got !== e.revents) return { field: 'value', expected: `revents 0x${e.revents.toString(16)}`, got: `revents 0x${got.toString(16)}` };
      }
      return undefined;
    },
  };
}

/** Prepares one call: the reason it is skipped, or a function that makes it and checks the reply. */
export function prepareCall(line: SyscallLine, ctx: CallContext): PreparedCall {
  let cmd: ReturnType<typeof command>;
  try {
    cmd = command(line, ctx);
  } catch (err) {
    if (err instanceof Unsupported) return { skip: err.message };
    throw err;
  }
  return {
    perform: async () => {
      const r = await ctx.helper.call(cmd.op, cmd.args);
      if (r.error) return { field: 'result', expected: `${line.name}() to run`, got: `the helper could not run it: ${r.error}` };
      return checkReply(line, ctx, r) ?? cmd.check?.(r);
    },
  };
}

/** packetdrill's end_syscall: the result, then errno when the script names one. */
function checkReply(line: SyscallLine, ctx: CallContext, r: CallReply): Mismatch | undefined {
  const gotText = r.ret < 0 ? `${r.ret} ${errnoName(r.errno)}` : String(r.ret);
  const returnsFd = line.name === 'socket' || line.name === 'accept' || line.name === 'accept4';
  if (returnsFd && line.result >= 0) {
    if (r.ret < 0) return { field: 'result', expected: `a descriptor (${line.result})`, got: gotText };
    ctx.fds.set(line.result, r.ret);
  } else if (r.ret !== line.result) {
    return { field: 'result', expected: `result ${line.result}${line.errno ? ` ${line.errno}` : ''}`, got: gotText };
  }
  if (line.errno !== undefined) {
    const want = errnoValue(line.errno);
    if (want === undefined) return { field: 'errno', expected: line.errno, got: `an errno name this system does not know (${line.errno})` };
    if (r.errno !== want) return { field: 'errno', expected: `errno ${line.errno}`, got: `errno ${errnoName(r.errno)}` };
  }
  return undefined;
}
