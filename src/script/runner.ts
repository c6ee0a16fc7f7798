/**
 * Runs a parsed script against a live server: '<' lines go out at their times, '>' lines wait
 * for the server's next segment and check it, 'quiet' lines watch for silence. Times follow
 * packetdrill: absolute from the script's start, '+x' after the previous event actually
 * happened, '*' any time, 'a~b' a window; '>' segments must fall inside it, give or take the
 * tolerance (the `tolerance` directive, default 25 ms, plus twice the handshake's RTT, plus
 * the scheduling delay measured in this process).
 *
 * Also packetdrill's: consecutive segments from the server join until a '>' line's length is
 * reached (unless strict segments), and nothing is looked at after the last line (unless
 * `nothingMore`).
 *
 * A script of named connections runs them all on one clock: connecting, each opens its own
 * port towards the target; listening, the k-th client to connect is the connection whose
 * '> S' line comes k-th (acceptOrder).
 *
 * The first failed check ends the run with a ScriptCheckError (exit 1) naming the line and the
 * field, both segments in script syntax, and a pcap of the run.
 */
import { basename } from 'node:path';
import { failedRunPath } from './failed-runs.js';
import { usageError } from '../wire/errors.js';
import type { TraceEntry } from '../tcp/conversation.js';
import type { Script, ScriptEvent, TimeSpec } from './ast.js';
import { ScriptCheckError, ScriptSession, type ExpectWindow, type ListenRole } from './session.js';
import { formatTarget, type Target } from './target.js';
import { startClient, type ClientProcess } from './client.js';
import { TCPFlag } from '../layers/tcp.js';

/** How long after a '>' line's window a late segment is still waited for (to say "too late", not "missing"). */
export const LATE_GRACE = 1;
/** How long a '*' line waits for its segment. */
export const ANY_TIME_WAIT = 5;

export interface RunOptions {
  /** Overrides the script's `target` line. */
  target?: string | Target | undefined;
  /**
   * The listening role instead: the script's '>' side is a client connecting to this port on
   * 127.0.0.1 (or `address`); its SYN is the script's first '>' line, time 0.
   */
  listen?: { port: number; address?: string | undefined; timeout?: number | undefined } | undefined;
  /** With listen: a shell command started once we listen (curl, nc...), stopped at the end. */
  client?: string | undefined;
  /** Base tolerance in seconds; overrides the script's `tolerance` lines. */
  tolerance?: number | undefined;
  /** Our port (default: an ephemeral one); with several connections, the first one's. */
  sport?: number | undefined;
  isn?: number | undefined;
  /** Called with every segment, both ways, in order, as the run goes (for tcpdump lines). */
  onSegment?: ((entry: TraceEntry, seconds: number) => void) | undefined;
  /** Write the run here (always); otherwise a failed run is written to a temporary file. */
  pcap?: string | undefined;
  /** Keep the run's pcap on failure (default true). */
  pcapOnFailure?: boolean | undefined;
  /** One '>' line is one segment, never several joined (packetdrill's --strict_segments). */
  strictSegments?: boolean | undefined;
  /**
   * After the last line, fail on any segment the server has already sent that no line
   * expected. Default false, as packetdrill: it does not look past the end of a script.
   */
  nothingMore?: boolean | undefined;
}

export interface RunResult {
  ok: boolean;
  failure: ScriptCheckError | undefined;
  target: Target;
  /** Every segment both ways, with its time on the script's clock and its connection's name. */
  trace: Array<{ entry: TraceEntry; seconds: number; connection: string | undefined }>;
  /** The script's named connections (empty: one, unnamed). */
  connections: string[];
  rtt: number | undefined;
  pcapPath: string | undefined;
  /** Server retransmissions that `retransmits allow` let through. */
  retransmissionsSkipped: number;
  /** '>' lines that took several segments, joined (packetdrill's rule), and how many each took. */
  joins: number[];
  /** The timing allowance at the end of the run, in seconds (base, RTT and measured jitter). */
  tolerance: number;
}

function scriptTarget(script: Script, given: RunOptions['target']): Target | string {
  if (given !== undefined) return given;
  const line = script.statements.find((s) => s.type === 'target');
  if (line?.type === 'target') return { host: line.host, port: line.port };
  throw usageError(`${script.source}: no target: give --target HOST:PORT, or put a line 'target 127.0.0.1:8080' in the script`);
}

/**
 * Listening, the clients are matched to the connections in the order of the script's SYN
 * lines: the first client to connect is the connection whose '> S' line comes first.
 */
function acceptOrder(script: Script): string[] {
  const firstSyn = new Map<string, number>();
  for (const st of script.statements) {
    if (st.type === 'packet' && st.conn !== undefined && st.direction === '>' && st.flags & TCPFlag.S && !firstSyn.has(st.conn)) firstSyn.set(st.conn, st.line);
  }
  const at = (name: string): number => firstSyn.get(name) ?? Infinity;
  // Stable: a connection with no SYN line keeps its place after those with one.
  return [...script.connections].sort((a, b) => at(a) - at(b));
}

/** Listening, a connection's first line is its client's segment: we cannot send before a client is there. */
function checkListeningScript(script: Script): void {
  const seen = new Set<string | undefined>();
  for (const st of script.statements) {
    if (st.type !== 'packet' || seen.has(st.conn)) continue;
    seen.add(st.conn);
    if (st.direction === '<') {
      const which = st.conn === undefined ? 'the script' : `connection ${st.conn}`;
      throw usageError(`${script.source}:${st.line}: ${which} begins with a segment we send ('<'), but listening, a connection begins with its client's SYN ('> S 0:0(0) ...'): run it with --target HOST:PORT, or start it with the client's SYN`);
    }
  }
}

/** The earliest and latest script time of an event, given when the previous one happened. */
export function window(time: TimeSpec, previous: number): { earliest: number; latest: number } {
  switch (time.kind) {
    case 'absolute':
      return { earliest: time.at, latest: time.at };
    case 'relative':
      return { earliest: previous + time.at, latest: previous + time.at };
    case 'any':
      return { earliest: -Infinity, latest: Infinity };
    case 'range':
      return {
        earliest: (time.from.relative ? previous : 0) + time.from.at,
        latest: (time.to.relative ? previous : 0) + time.to.at,
      };
  }
}

const sleep = (seconds: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, seconds * 1000)));

export async function runScript(script: Script, opts: RunOptions = {}): Promise<RunResult> {
  let client: ClientProcess | undefined;
  const listen = opts.listen
    ? {
        ...opts.listen,
        ready: opts.client === undefined ? undefined : (): void => {
          client = startClient(opts.client!);
        },
      }
    : undefined;
  if (opts.client !== undefined && !listen) throw usageError('--client goes with --listen PORT: it is the client that connects to the script');
  if (listen) checkListeningScript(script);
  const target = listen ? undefined : scriptTarget(script, opts.target);
  let session: ScriptSession;
  try {
    session = await openSession(script, opts, target, listen);
  } catch (err) {
    await client?.stop();
    throw err;
  }
  try {
    return await runOpened(script, opts, session);
  } finally {
    await client?.stop();
  }
}

function openSession(script: Script, opts: RunOptions, target: string | Target | undefined, listen: ListenRole | undefined): Promise<ScriptSession> {
  return ScriptSession.open({
    target,
    listen,
    connections: listen ? acceptOrder(script) : script.connections,
    sport: opts.sport,
    isn: opts.isn,
    tolerance: opts.tolerance ?? script.settings.tolerance,
    strictSegments: opts.strictSegments ?? script.settings.strictSegments ?? false,
  });
}

async function runOpened(script: Script, opts: RunOptions, session: ScriptSession): Promise<RunResult> {
  const conversation = session.conversation;
  const result: RunResult = {
    ok: false,
    failure: undefined,
    target: session.listening ? { host: conversation.endpoints.src, port: conversation.endpoints.sport } : { host: conversation.endpoints.dst, port: conversation.endpoints.dport },
    trace: [],
    connections: [...script.connections],
    rtt: undefined,
    pcapPath: undefined,
    retransmissionsSkipped: 0,
    joins: [],
    tolerance: 0,
  };
  const flush = (): void => {
    for (const t of session.takeNewEntries()) {
      result.trace.push(t);
      opts.onSegment?.(t.entry, t.seconds);
    }
  };
  let lastLine = 0;
  try {
    session.startClock();
    let previous = 0;
    for (const st of script.statements) {
      if (st.type === 'target' || st.type === 'option') continue;
      if (st.type === 'syscall' || st.type === 'shell' || st.type === 'python') throw usageError(`${script.source}:${st.line}: system calls, shell lines and python blocks run in local mode only (--local)`);
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
      lastLine = st.line;
      previous = await runEvent(session, st, previous);
      flush();
    }
    // Asked for: anything the server sent that no line expected (and that has already arrived) fails the run.
    if (opts.nothingMore) await session.quietUntil(session.clock(), { line: lastLine, text: '(end of script)' }, 'nothing more after the last line');
    result.ok = true;
  } catch (err) {
    if (!(err instanceof ScriptCheckError)) throw err;
    result.failure = err;
  } finally {
    flush();
    recordSession(session, result);
    await session.close();
  }
  keepPcap(script, opts, session, result);
  return result;
}

/** The run's pcap: where asked, or (a failed run) among the failed runs; named in the failure. */
/** What a run's result carries of its session, however the run ended. */
export function recordSession(session: ScriptSession, result: RunResult): void {
  result.rtt = session.rtt;
  result.retransmissionsSkipped = session.skipped.length;
  result.joins = [...session.joins];
  result.tolerance = session.tolerance;
}

export function keepPcap(script: Script, opts: Pick<RunOptions, 'pcap' | 'pcapOnFailure'>, session: ScriptSession, result: RunResult): void {
  if (opts.pcap) result.pcapPath = session.writePcap(opts.pcap);
  else if (result.failure && opts.pcapOnFailure !== false) {
    const name = basename(script.source).replace(/[^A-Za-z0-9._-]/g, '_').replace(/\.pkt$/, '') || 'script';
    result.pcapPath = session.writePcap(failedRunPath(name), { exclusive: true });
  }
  if (result.failure && result.pcapPath) result.failure.withPcap(result.pcapPath);
}

/** Runs one event; returns when it actually happened (the base for the next '+' time). */
export async function runEvent(session: ScriptSession, ev: ScriptEvent, previous: number): Promise<number> {
  const w = window(ev.time, previous);
  if (ev.type === 'quiet') {
    const start = Number.isFinite(w.earliest) ? w.earliest : session.clock();
    const until = start + ev.duration;
    await session.quietUntil(until, ev, `nothing for ${ev.duration} s`, ev.conn);
    return until;
  }
  if (ev.direction === '<') {
    if (Number.isFinite(w.earliest)) await sleep(w.earliest - session.clock());
    if (ev.type === 'icmp') await session.sendIcmp(ev);
    else await session.send(ev);
    return session.clock();
  }
  const tol = session.tolerance;
  const win: ExpectWindow = {
    earliest: w.earliest,
    latest: w.latest,
    deadline: Number.isFinite(w.latest) ? w.latest + tol + LATE_GRACE : session.clock() + ANY_TIME_WAIT,
  };
  const got = await session.expectLine(ev, win);
  return got.time;
}

export { formatTarget };
