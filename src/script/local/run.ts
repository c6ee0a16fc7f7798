/**
 * Local mode: a packetdrill script against this machine's kernel, without a tun device. The
 * kernel's socket (driven by the script's system calls) is the system under test, as in
 * packetdrill; the packet lines are the remote peer: '<' we put on the wire toward the
 * kernel, '>' the kernel must send. All of it inside a network namespace of the helper's own
 * (helper.ts), where packetdrill's addresses become the namespace's:
 *
 *   packetdrill              here (inside the namespace only)
 *   192.168.0.1 (local)      198.51.100.1 / 2001:db8::1 on tun0 (a veth end: the kernel's side)
 *   192.0.2.1 (remote)       198.51.100.2 / 2001:db8::2 behind peer0 (the other end: our side)
 *
 * The kernel owns its socket, so no kernel-RST guard is needed: our side of the 4-tuple has no
 * socket and no address in any kernel. Packet lines are run by the runner's own event code
 * (runEvent), so timing, joining and checks are the live modes' exactly.
 */
import { dirname } from 'node:path';
import { SynackError } from '../../wire/errors.js';
import { dissect } from '../../packet/dissect.js';
import '../../packet/link-types.js';
import '../../layers/ipv6.js';
import { TCPFlag, TCPLayer } from '../../layers/tcp.js';
import { Conversation } from '../../tcp/conversation.js';
import { ephemeralPort } from '../../tcp/connect.js';
import type { Mismatch } from '../check.js';
import type { Script } from '../ast.js';
import { formatSeconds } from '../format.js';
import { parseScript, type ParseOptions } from '../parse.js';
import { keepPcap, recordSession, runEvent, window, type RunOptions, type RunResult } from '../runner.js';
import { ScriptCheckError, ScriptSession } from '../session.js';
import { symbolValue } from './constants.js';
import { LocalHelper, NAMESPACE_ADDRESSES as NS } from './helper.js';
import { fastOpenCookie, sysctlKeyBytes } from './fastopen-cookie.js';
import { readLocalLine, type ShellLine, type SyscallLine } from './lines.js';
import { prepareCall, type CallContext } from './syscalls.js';

export type LocalRunOptions = Pick<RunOptions, 'tolerance' | 'onSegment' | 'pcap' | 'pcapOnFailure' | 'strictSegments' | 'nothingMore'>;

export interface LocalRunResult extends RunResult {
  /** Lines not performed, each with its line number and what it is ('python block', 'epoll_wait() (epoll)'). */
  skipped: Array<{ line: number; what: string }>;
  /** Milliseconds to make the namespace and to remove it (the helper's exit). */
  namespace: { madeMs: number; removedMs: number };
}

/** How long a call not marked blocking (no `start...end`) may take before it counts as stuck. */
const NON_BLOCKING_LIMIT = 3;
/** A shell line's time limit, seconds. */
const SHELL_TIMEOUT = 30;

/** Parses a script with local mode's lines (system calls, shell, python) accepted. */
export function parseLocalScript(text: string, source = '<inline>', opts: Omit<ParseOptions, 'extraLine'> = {}): Script {
  // packetdrill's run_all.py gives TFO_COOKIE: the cookie for its addresses (mapped onto ours at the run).
  const tfo = /^\s*--ip_version=ipv6\b/m.test(text) ? PACKETDRILL_TFO_COOKIE.ipv6 : PACKETDRILL_TFO_COOKIE.ipv4;
  return parseScript(text, source, { ...opts, defines: { TFO_COOKIE: tfo, ...opts.defines }, extraLine: readLocalLine });
}

interface Addressing {
  socketFamily: number;
  /** Addresses as the sockets use them (IPv4-mapped IPv6 for packetdrill's ipv4-mapped-ipv6). */
  local: string;
  remote: string;
  /** On the wire. */
  wireLocal: string;
  wireRemote: string;
}

/** packetdrill's --ip_version: ipv4 (its default), ipv6, ipv4-mapped-ipv6. */
function addressing(script: Script): Addressing {
  const v = optionValue(script, 'ip_version') ?? 'ipv4';
  const AF_INET = symbolValue('AF_INET')!;
  const AF_INET6 = symbolValue('AF_INET6')!;
  if (v === 'ipv4') return { socketFamily: AF_INET, local: NS.local4, remote: NS.remote4, wireLocal: NS.local4, wireRemote: NS.remote4 };
  if (v === 'ipv6') return { socketFamily: AF_INET6, local: NS.local6, remote: NS.remote6, wireLocal: NS.local6, wireRemote: NS.remote6 };
  if (v === 'ipv4-mapped-ipv6') return { socketFamily: AF_INET6, local: `::ffff:${NS.local4}`, remote: `::ffff:${NS.remote4}`, wireLocal: NS.local4, wireRemote: NS.remote4 };
  throw new SynackError(`${script.source}: --ip_version=${v} is not one of ipv4, ipv6, ipv4-mapped-ipv6`, 'usage');
}

function optionValue(script: Script, name: string): string | undefined {
  let v: string | undefined;
  for (const st of script.statements) if (st.type === 'option' && st.name === name) v = st.value;
  return v;
}

function portOption(script: Script, name: string, fallback: number): number {
  const v = optionValue(script, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new SynackError(`${script.source}: --${name}=${v} is not a port (1-65535)`, 'usage');
  return n;
}

/** packetdrill's addresses in a shell line become the namespace's. */
function mapShellAddresses(cmd: string, a: Addressing): string {
  const v6 = a.wireLocal.includes(':');
  return cmd
    .replace(/\b192\.168\.0\.1\b/g, v6 ? a.wireLocal : NS.local4)
    .replace(/\b192\.0\.2\.1\b/g, v6 ? a.wireRemote : NS.remote4)
    .replace(/\b192\.0\.2\.0\/24\b/g, '198.51.100.0/24');
}

/** run_all.py's -D TFO_COOKIE, computed by packetdrill's authors for its addresses and defaults.sh's key. */
const PACKETDRILL_TFO_COOKIE = { ipv4: '3021b9d889017eeb', ipv6: 'c1d1e9742a47a9bc' };
/** run_all.py's IPv6 addresses. */
const PACKETDRILL_V6 = { local: 'fd3d:a0b:17d6::1', remote: 'fd3d:fa7b:d17d::1' };
/** gtests/net/common/defaults.sh sets this Fast Open key. */
const DEFAULTS_SH_KEY = 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4';

const sleep = (seconds: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, seconds * 1000)));

/**
 * packetdrill's remote ISN: the seq of a '<' SYN is the remote's ISN itself, and every later
 * '<' seq counts from it (`< S. 123:123(0)` then `< F. 1:1(0)` is ISN+1, and the kernel's
 * `ack 1` acknowledges the SYN). Our sequence map counts every '<' seq from our ISN, so a SYN
 * written with seq N goes out as relative 0. A '>' segment with SYN set is the exception on
 * packetdrill's side: its ack is absolute (`< S 999000:999000(1000)` is answered with
 * `> S. 0:0(0) ack 999001`), so N comes off it too.
 */
function remoteIsnFromSyn(script: Script): Script {
  let isn = 0;
  const statements = script.statements.map((st) => {
    if (st.type !== 'packet' || !(st.flags & TCPFlag.S)) return st;
    if (st.direction === '<') {
      isn = st.seq;
      return st.seq !== 0 ? { ...st, seq: 0 } : st;
    }
    return isn !== 0 && st.ack !== undefined ? { ...st, ack: (st.ack - isn) >>> 0 } : st;
  });
  return { ...script, statements };
}

/**
 * Fast Open cookies of packetdrill's addresses become the kernel's for ours: a cookie in a
 * packet line that is the one a server at packetdrill's local address (`--local_ip`, or
 * 192.168.0.1) gives its remote (`--remote_ip`, or 192.0.2.1) under a key the script uses
 * (defaults.sh's, a `tcp_fastopen_key=` in a shell line, a TCP_FASTOPEN_KEY setsockopt) is
 * replaced by the cookie for the namespace's addresses under that key. Other cookies (a
 * client script's made-up `FO abcd1234`) stay as written.
 */
function mapCookies(script: Script, a: Addressing): Script {
  const v6 = a.wireLocal.includes(':');
  const theirs = { client: optionValue(script, 'remote_ip') ?? (v6 ? PACKETDRILL_V6.remote : '192.0.2.1'), server: optionValue(script, 'local_ip') ?? (v6 ? PACKETDRILL_V6.local : '192.168.0.1') };
  const keys = [sysctlKeyBytes(DEFAULTS_SH_KEY)!];
  for (const st of script.statements) {
    if (st.type === 'shell') for (const m of st.command.matchAll(/tcp_fastopen_key\s*=\s*"?([0-9a-fA-F-]+)/g)) keys.push(...[sysctlKeyBytes(m[1]!)].filter((k) => k !== undefined));
    if (st.type === 'syscall' && st.name === 'setsockopt' && st.args[2]?.k === 'sym' && st.args[2].names.includes('TCP_FASTOPEN_KEY') && st.args[3]?.k === 'str' && st.args[3].v.length === 16) keys.push(Buffer.from(st.args[3].v, 'latin1'));
  }
  const map = new Map<string, Buffer>();
  for (const key of keys) {
    try {
      map.set(fastOpenCookie(key, theirs.client, theirs.server).toString('hex'), fastOpenCookie(key, a.wireRemote, a.wireLocal));
    } catch {
      // --local_ip and --remote_ip of another family than the run's: nothing to map.
    }
  }
  const statements = script.statements.map((st) => {
    if (st.type !== 'packet' || !Array.isArray(st.options)) return st;
    const options = st.options.map((o) => (o.kind === 'FO' || o.kind === 'FOEXP') && map.has(o.cookie.toString('hex')) ? { ...o, cookie: map.get(o.cookie.toString('hex'))! } : o);
    return { ...st, options };
  });
  return { ...script, statements };
}

/** Runs a script parsed with parseLocalScript inside a namespace made (and removed) for it. */
export async function runLocal(given: Script, opts: LocalRunOptions = {}): Promise<LocalRunResult> {
  const a = addressing(given);
  const script = mapCookies(remoteIsnFromSyn(given), a);
  if (script.connections.length > 1) throw new SynackError(`${script.source}: local mode tells connections apart as packetdrill does (by the socket calls), not by name; this script names ${script.connections.length} (${script.connections.join(', ')})`, 'usage');
  const bindPort = portOption(script, 'bind_port', 8080);
  const connectPort = portOption(script, 'connect_port', 8080);
  const firstPacket = script.statements.find((s) => s.type === 'packet');
  // The kernel listens when the remote's SYN comes first; otherwise it connects (to the remote's port).
  const kernelPassive = firstPacket?.type === 'packet' && firstPacket.direction === '<';
  const helper = await LocalHelper.start();
  const wired: Wired[] = [];
  let session: ScriptSession | undefined;
  let result: LocalRunResult;
  try {
    /** A conversation for the next connection: passive (the remote's SYN to the bind port) or active (the kernel's SYN to the connect port). */
    const wire = (passive: boolean): Conversation => {
      const endpoints = passive
        ? { src: a.wireRemote, sport: ephemeralPort(), dst: a.wireLocal, dport: bindPort }
        : { src: a.wireRemote, sport: connectPort, dst: a.wireLocal, dport: 0 };
      const c = new Conversation(endpoints, { autoAck: false });
      if (!passive) c.state = 'LISTEN';
      c.attach({ mtu: 1500, send: async (p) => helper.send(p.bytes()), close: async () => undefined });
      wired.push({ conversation: c, endpoints, passive });
      return c;
    };
    helper.onPacket = (ip) => deliver(wired, ip);
    session = await ScriptSession.over(wire(kernelPassive), {
      tolerance: opts.tolerance ?? script.settings.tolerance,
      strictSegments: opts.strictSegments ?? script.settings.strictSegments ?? false,
    });
    const s = session;
    const sockets = new SocketsUnderTest((passive) => {
      const last = wired[wired.length - 1]!;
      // The first connection is wired before the script starts: it is taken while unused.
      if (last.passive === passive && last.conversation.trace.length === 0) return;
      s.adopt(wire(passive));
    });
    const ctx: CallContext = { helper, fds: new Map(), socketFamily: a.socketFamily, local: { host: a.local, port: bindPort }, remote: { host: a.remote, port: connectPort } };
    result = await runStatements(script, opts, session, ctx, a, sockets, () => wired.at(-1)?.endpoints.dport ?? 0);
  } finally {
    await session?.close();
    if (!session) for (const w of wired) await w.conversation.release();
    await helper.close();
  }
  result.namespace.removedMs = helper.removedMs ?? 0;
  return result;
}

interface Wired {
  conversation: Conversation;
  /** Our side (src, sport) and the kernel's (dst, dport: 0 until the kernel's SYN names it). */
  endpoints: { src: string; sport: number; dst: string; dport: number };
  passive: boolean;
}

/** A packet from the kernel to its connection: by ports, or (a connecting socket's first SYN) to the newest connection still waiting for its port. */
function deliver(wired: readonly Wired[], ip: Buffer): void {
  const p = dissect(ip, 'ip');
  const tcp = p.getLayer(TCPLayer);
  const net = p.layers[0];
  if (!tcp || !net) return;
  const src = String(net.get('src' as never));
  const dst = String(net.get('dst' as never));
  const sport = tcp.get('sport');
  const dport = tcp.get('dport');
  for (let i = wired.length - 1; i >= 0; i--) {
    const e = wired[i]!.endpoints;
    if (src !== e.dst || dst !== e.src || dport !== e.sport || (e.dport !== 0 && sport !== e.dport)) continue;
    if (e.dport === 0) {
      // Connecting, the kernel picks its port: its first SYN names it.
      if ((tcp.flagBits & (TCPFlag.S | TCPFlag.A)) !== TCPFlag.S || wired.some((w) => w.endpoints.dport === sport && w.endpoints.sport === dport)) continue;
      e.dport = sport;
    }
    wired[i]!.conversation.deliver(p);
    return;
  }
}

/**
 * packetdrill's socket under test, as far as it decides which connection a line is on:
 * socket() makes a new one the socket under test, listen() makes it listening, a remote SYN
 * to a listening socket (or before any socket) starts a new passive connection, and connect()
 * (or sendto() with MSG_FASTOPEN) on a new socket starts a new active one.
 */
class SocketsUnderTest {
  private readonly states = new Map<number, 'new' | 'listening' | 'connecting'>();
  /** The script's descriptor of the socket under test; -1 for an accepted child; undefined before any. */
  private underTest: number | undefined;

  constructor(private readonly start: (passive: boolean) => void) {}

  /** Before a system call is made (a connect's SYN leaves while it runs). */
  call(st: SyscallLine): void {
    const fd = st.args[0]?.k === 'num' ? st.args[0].v : undefined;
    if (st.name === 'socket' && st.result >= 0) {
      this.states.set(st.result, 'new');
      this.underTest = st.result;
    } else if (st.name === 'listen' && fd !== undefined && this.states.has(fd)) this.states.set(fd, 'listening');
    else if ((st.name === 'connect' || (st.name === 'sendto' && fastOpenFlag(st))) && fd !== undefined && this.states.get(fd) === 'new') {
      this.states.set(fd, 'connecting');
      this.underTest = fd;
      this.start(false);
    }
  }

  /** Before a packet line runs. */
  packet(st: { direction: '<' | '>'; flags: number }): void {
    if (st.direction !== '<' || (st.flags & (TCPFlag.S | TCPFlag.A)) !== TCPFlag.S) return;
    if (this.underTest !== undefined && this.states.get(this.underTest) !== 'listening') return;
    this.underTest = -1;
    this.start(true);
  }
}

function fastOpenFlag(st: SyscallLine): boolean {
  const flags = st.args[3];
  return flags?.k === 'sym' && flags.names.includes('MSG_FASTOPEN');
}

/** The pass line's local-mode tail: lines skipped, by name, and the namespace's cost. */
export function localSummary(r: LocalRunResult): string {
  const ns = `namespace made in ${r.namespace.madeMs.toFixed(1)} ms, removed in ${r.namespace.removedMs.toFixed(1)} ms`;
  if (r.skipped.length === 0) return `${ns}; nothing skipped`;
  return `${ns}; skipped ${r.skipped.length} line${r.skipped.length === 1 ? '' : 's'}: ${r.skipped.map((s) => `${s.line} ${s.what}`).join(', ')}`;
}

interface Blocking {
  line: SyscallLine;
  end: number;
  settled: { mismatch: Mismatch | undefined; at: number } | undefined;
  promise: Promise<void>;
}

async function runStatements(script: Script, opts: LocalRunOptions, session: ScriptSession, ctx: CallContext, a: Addressing, sockets: SocketsUnderTest, kernelPort: () => number): Promise<LocalRunResult> {
  const result: LocalRunResult = {
    ok: false,
    failure: undefined,
    target: { host: a.wireLocal, port: ctx.local.port },
    trace: [],
    connections: [],
    rtt: undefined,
    pcapPath: undefined,
    retransmissionsSkipped: 0,
    joins: [],
    tolerance: 0,
    skipped: [],
    namespace: { madeMs: ctx.helper.madeMs, removedMs: 0 },
  };
  const flush = (): void => {
    for (const t of session.takeNewEntries()) {
      result.trace.push(t);
      opts.onSegment?.(t.entry, t.seconds);
    }
  };
  let blocking: Blocking | undefined;
  /** A blocking call that has returned: its result, then its end time, checked now. */
  const settle = (): void => {
    if (!blocking?.settled) return;
    const b = blocking;
    blocking = undefined;
    const s = b.settled!;
    if (s.mismatch) throw new ScriptCheckError(b.line.line, s.mismatch, b.line.text, undefined);
    const tol = session.tolerance;
    if (Math.abs(s.at - b.end) > tol) {
      throw new ScriptCheckError(b.line.line, { field: 'time', expected: `${b.line.name}() to return at ${formatSeconds(round3(b.end))} s (±${formatSeconds(round3(tol))} s)`, got: `it returned at ${formatSeconds(round3(s.at))} s` }, b.line.text, undefined);
    }
  };
  const cwd = script.source.startsWith('<') ? undefined : dirname(script.source);
  let lastLine = 0;
  try {
    session.startClock();
    let previous = 0;
    // Shell lines before the first event set things up (defaults.sh): time 0 is after them.
    let setup = true;
    for (const st of script.statements) {
      if (st.type === 'target' || st.type === 'option') continue;
      if (st.type === 'tolerance') {
        if (opts.tolerance === undefined && script.settings.tolerance === undefined) session.baseTolerance = st.seconds;
        continue;
      }
      if (st.type === 'psh') {
        session.ignorePsh = st.ignore;
        continue;
      }
      if (st.type === 'retransmits') {
        session.allowRetransmits = st.allow;
        continue;
      }
      settle();
      lastLine = st.line;
      if (setup && st.type !== 'shell') {
        setup = false;
        session.startClock();
        previous = 0;
      }
      if (st.type === 'packet') sockets.packet(st);
      if (st.type === 'packet' || st.type === 'quiet' || st.type === 'icmp') previous = await runEvent(session, st, previous);
      else if (st.type === 'python') {
        result.skipped.push({ line: st.line, what: 'python block' });
      } else if (st.type === 'shell') previous = await runShell(st, previous, session, ctx, a, cwd);
      else {
        const w = window(st.time, previous);
        if (Number.isFinite(w.earliest)) await sleep(w.earliest - session.clock());
        const prepared = prepareCall(st, ctx);
        if (!('skip' in prepared)) sockets.call(st);
        if ('skip' in prepared) {
          result.skipped.push({ line: st.line, what: prepared.skip });
          previous = session.clock();
          continue;
        }
        // packetdrill waits for a blocking call still running (until its end) before the next call.
        if (blocking) {
          await waitFor(blocking.promise, blocking.end + session.tolerance - session.clock());
          settle();
        }
        const start = session.clock();
        if (st.end !== undefined) {
          if (blocking) throw new ScriptCheckError(st.line, { field: 'result', expected: 'one blocking call at a time', got: `a blocking system call while another (line ${blocking.line.line}) is in progress` }, st.text, undefined);
          const b: Blocking = { line: st, end: (st.time.kind === 'relative' ? previous : 0) + st.end, settled: undefined, promise: Promise.resolve() };
          b.promise = prepared.perform().then((mismatch) => {
            b.settled = { mismatch, at: session.clock() };
          });
          blocking = b;
        } else {
          let timer: NodeJS.Timeout | undefined;
          const stuck = new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), NON_BLOCKING_LIMIT * 1000)));
          const m = await Promise.race([prepared.perform(), stuck]);
          clearTimeout(timer);
          if (m === 'stuck') throw new ScriptCheckError(st.line, { field: 'result', expected: `${st.name}() to return`, got: `it blocked for ${NON_BLOCKING_LIMIT} s (a call that blocks is written with its end: 'START...END ${st.name}(...)')` }, st.text, undefined);
          if (m) throw new ScriptCheckError(st.line, m, st.text, undefined);
        }
        previous = start;
      }
      flush();
    }
    if (blocking) {
      const b = blocking;
      await waitFor(b.promise, b.end + session.tolerance - session.clock() + 1);
      if (!b.settled) throw new ScriptCheckError(b.line.line, { field: 'result', expected: `${b.line.name}() to return by ${formatSeconds(round3(b.end))} s`, got: 'it had not returned at the end of the script' }, b.line.text, undefined);
      settle();
    }
    if (opts.nothingMore) await session.quietUntil(session.clock(), { line: lastLine, text: '(end of script)' }, 'nothing more after the last line');
    result.ok = true;
  } catch (err) {
    if (!(err instanceof ScriptCheckError)) throw err;
    result.failure = err;
  } finally {
    flush();
    recordSession(session, result);
  }
  // Connecting, the kernel's port is the one it chose.
  if (kernelPort() !== 0) result.target = { host: a.wireLocal, port: kernelPort() };
  keepPcap(script, opts, session, result);
  return result;
}

async function runShell(st: ShellLine, previous: number, session: ScriptSession, ctx: CallContext, a: Addressing, cwd: string | undefined): Promise<number> {
  const w = window(st.time, previous);
  if (Number.isFinite(w.earliest)) await sleep(w.earliest - session.clock());
  const start = session.clock();
  const r = await ctx.helper.shell(mapShellAddresses(st.command, a), cwd, SHELL_TIMEOUT);
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? '';
    throw new ScriptCheckError(st.line, { field: 'shell', expected: 'exit status 0', got: `exit status ${r.status}${why ? `: ${why}` : ''}` }, st.text, undefined);
  }
  return start;
}

/** Waits for `p`, at most `seconds`. */
async function waitFor(p: Promise<void>, seconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, Math.max(0, seconds) * 1000)))]);
  clearTimeout(timer);
}

function round3(s: number): number {
  return Math.round(s * 1000) / 1000;
}

