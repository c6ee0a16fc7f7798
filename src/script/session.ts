/**
 * A scripted conversation with a live server, one segment at a time: the engine under the
 * script runner, and the TypeScript API with the same power.
 *
 *   const s = await ScriptSession.open({ target: '127.0.0.1:8080' });
 *   await s.send('S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>');
 *   await s.expect('S. 0:0(0) ack 1 <...>', { within: 100 });
 *   await s.send('. 1:1(0) ack 1 win 502 <nop,nop,TS val 100 ecr 1000>');
 *   await s.close();
 *
 * Segments are written in script syntax with relative numbers (see sequence-map.ts); send()
 * puts exactly that on the wire, expect() checks the server's next segment field by field and
 * throws a ScriptCheckError that reads like packetdrill's.
 *
 * A session may hold several named connections (`connections: ['a', 'b']`), each with its own
 * port, ISNs and relative numbers (connection.ts), on one clock; a segment names its
 * connection before the direction ('b < S 0:0(0) ...'), and one without a name is the first's.
 */
import { connectTarget, type Target } from './target.js';
import { openListener, type Listener } from '../tcp/listen.js';
import { SynackError } from '../wire/errors.js';
import { TCPFlag } from '../layers/tcp.js';
import type { Packet } from '../packet/packet.js';
import type { Conversation, TraceEntry } from '../tcp/conversation.js';
import { writePcap } from '../pcap/pcap-writer.js';
import type { IcmpLine, PacketLine } from './ast.js';
import { icmpPacket, resolveIcmp } from './icmp.js';
import { isIPv6 } from '../wire/addr.js';
import { compareSegment, type Mismatch } from './check.js';
import { formatSeconds, formatView, type SegmentView } from './format.js';
import { parseSegment } from './parse.js';
import type { SequenceMap } from './sequence-map.js';
import { ecnBits } from './ecn.js';
import { JitterMeter } from './jitter.js';
import { ScriptConnection } from './connection.js';

/** A check that failed: exit 1. `line` is the script line (0 for API calls). */
export class ScriptCheckError extends SynackError {
  /** Where the pcap of the run was written, when it was. */
  pcapPath: string | undefined;

  constructor(
    readonly line: number,
    readonly mismatch: Mismatch,
    readonly scriptText: string,
    readonly liveText: string | undefined,
    /** The connection's name, in a script of named connections. */
    readonly connection?: string | undefined,
  ) {
    super(describeFailure(line, mismatch, scriptText, liveText, connection), 'timeout');
    this.name = 'ScriptCheckError';
  }

  get field(): Mismatch['field'] {
    return this.mismatch.field;
  }

  /** Adds the pcap's path to the report. */
  withPcap(path: string): this {
    this.pcapPath = path;
    this.message += `\n  pcap of the run: ${path}`;
    return this;
  }
}

function describeFailure(line: number, m: Mismatch, scriptText: string, liveText: string | undefined, connection: string | undefined): string {
  const where = `${line > 0 ? `script line ${line}` : 'script'}${connection === undefined ? '' : `, connection ${connection}`}`;
  let s = `${where}: expected ${m.expected}, got ${m.got}\n  script: ${scriptText}`;
  if (liveText !== undefined) s += `\n  live:   ${liveText}`;
  return s;
}

/** The listening role: the script's '>' side is a real client that connects to us. */
export interface ListenRole {
  port: number;
  /** Our address (default 127.0.0.1); nothing in the kernel may listen on it. */
  address?: string | undefined;
  /** How long to wait for the client's SYN, ms (default 10000). */
  timeout?: number | undefined;
  /** Called once the guard and capture are in place: start the client now. */
  ready?: (() => void) | undefined;
}

export interface SessionOptions {
  /** 'HOST:PORT', '[v6]:PORT', or the parts (the connecting role). */
  target?: string | Target | undefined;
  /** Instead of target: listen, and take the first client's SYN (the script's first '>' line). */
  listen?: ListenRole | undefined;
  /**
   * The connections' names: each opens its own port towards the target, or (listening) is the
   * next client to connect, in this order. Default: one connection without a name.
   */
  connections?: readonly string[] | undefined;
  /** Our port (default: a random ephemeral one); with several connections, the first one's. */
  sport?: number;
  /** Our ISN (default: random); the script's 0 maps to it. */
  isn?: number;
  /** Base timing tolerance in seconds (default 0.025); twice the handshake RTT is added. */
  tolerance?: number;
  /** Skip repeats of the server's previous segment that match nothing (retransmissions). */
  allowRetransmits?: boolean;
  /** One '>' line is one segment (packetdrill's --strict_segments); default: consecutive segments join up to the line's length. */
  strictSegments?: boolean;
}

export interface ExpectWindow {
  /** Earliest and latest acceptable arrival, seconds on the session clock (before tolerance). */
  earliest: number;
  latest: number;
  /** Stop waiting at this time (a segment after `latest` + tolerance but before this is "too late"). */
  deadline: number;
}

export interface Received {
  packet: Packet;
  view: SegmentView;
  /** Arrival, seconds on the session clock. */
  time: number;
}

const DEFAULT_TOLERANCE = 0.025;

/** One entry of the run's trace: the segment, its connection, its time on the session clock. */
export interface TimedEntry {
  entry: TraceEntry;
  seconds: number;
  /** The connection's name; undefined in a script of one unnamed connection. */
  connection: string | undefined;
}

export class ScriptSession {
  baseTolerance: number;
  allowRetransmits: boolean;
  strictSegments: boolean;
  /** `psh ignore`: PSH is not compared on the server's segments. */
  ignorePsh = false;
  /** How late this process's timers and capture events run (measured, not assumed): part of the tolerance. */
  readonly jitter = new JitterMeter();
  /** Retransmissions skipped, with their arrival time. */
  readonly skipped: Received[] = [];
  /** How many segments each joined '>' line took. */
  readonly joins: number[] = [];
  /** Whether the script plays the listening side (the clients' SYNs come first). */
  readonly listening: boolean;
  /** performance.now() at the script's time 0. */
  private startPerf = performance.now();
  /** The connections opened or accepted so far, in the order of `names`. */
  private readonly open: ScriptConnection[] = [];
  /**
   * Local mode's connection under test (packetdrill's socket_under_test): lines without a name
   * go to it. Undefined until adopt() is called: the first connection then.
   */
  private current: ScriptConnection | undefined;
  private released = false;

  private constructor(
    first: Conversation,
    /** Every connection's name, in order; [undefined] for one without a name. */
    private readonly names: ReadonlyArray<string | undefined>,
    opts: SessionOptions,
    /** Listening: where the next clients come from. */
    private readonly listener: Listener | undefined,
  ) {
    this.open.push(new ScriptConnection(names[0], first));
    this.baseTolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
    this.allowRetransmits = opts.allowRetransmits ?? false;
    this.strictSegments = opts.strictSegments ?? false;
    this.listening = listener !== undefined;
  }

  /** Opens the wire to the target (raw socket, capture, kernel-RST guard); nothing is sent yet. */
  static async open(opts: SessionOptions): Promise<ScriptSession> {
    const names = connectionNames(opts.connections);
    if (opts.listen) {
      const l = opts.listen;
      // Each client arrives in LISTEN with its SYN pending: its connection's first '>' line takes it.
      const listener = await openListener({
        port: l.port,
        address: l.address,
        peers: names.length,
        autoAck: false,
        ...(opts.isn !== undefined ? { isn: opts.isn } : {}),
      });
      let first: Conversation;
      try {
        l.ready?.();
        first = await listener.accept(l.timeout ?? 10_000);
      } catch (err) {
        await listener.close();
        throw err;
      }
      // One client is all it waits for: the port guard goes now, so other peers get the kernel's RST.
      if (names.length === 1) await listener.close();
      const session = new ScriptSession(first, names, opts, listener);
      await session.jitter.start();
      return session;
    }
    if (opts.target === undefined) throw new SynackError('a script session needs a target (HOST:PORT) or a port to listen on', 'usage');
    const conversations: Conversation[] = [];
    try {
      // One after another: each its own port (the next ephemeral one), guard and socket.
      for (let i = 0; i < names.length; i++) conversations.push(await connectTarget(opts.target, { sport: i === 0 ? opts.sport : undefined, isn: opts.isn }));
    } catch (err) {
      for (const c of conversations) await c.release();
      throw err;
    }
    const session = new ScriptSession(conversations[0]!, names, opts, undefined);
    for (let i = 1; i < conversations.length; i++) session.open.push(new ScriptConnection(names[i], conversations[i]!));
    await session.jitter.start();
    return session;
  }

  /** A session over one conversation wired elsewhere (local mode: the namespace helper is the wire). */
  static async over(conversation: Conversation, opts: SessionOptions = {}): Promise<ScriptSession> {
    const session = new ScriptSession(conversation, [undefined], opts, undefined);
    await session.jitter.start();
    return session;
  }

  /**
   * Local mode: a further connection of a script without names (a second socket's handshake);
   * from now on the unnamed lines are its, as packetdrill maps a script's packets to its
   * newest socket. Its numbers are relative to its own ISNs; the clock stays the session's.
   */
  adopt(conversation: Conversation): void {
    if (this.names.length !== 1 || this.names[0] !== undefined) throw new SynackError('adopt() is for sessions of unnamed connections', 'usage');
    const c = new ScriptConnection(undefined, conversation);
    this.open.push(c);
    this.current = c;
  }

  /** The first connection's conversation (the only one in a script without names). */
  get conversation(): Conversation {
    return this.open[0]!.conversation;
  }

  /** The first connection's relative numbers. */
  get map(): SequenceMap {
    return this.open[0]!.map;
  }

  /** The handshake's round trip in seconds, once measured: the longest of the connections'. */
  get rtt(): number | undefined {
    let rtt: number | undefined;
    for (const c of this.open) if (c.rtt !== undefined && (rtt === undefined || c.rtt > rtt)) rtt = c.rtt;
    return rtt;
  }

  /** Restarts the clock: time 0 of the script (listening: when the first client's SYN arrived). */
  startClock(): void {
    const first = this.open[0]!;
    const syn = first.conversation.trace[0];
    this.startPerf = this.listening && syn ? first.origin + syn.time : performance.now();
  }

  /** Seconds since the clock started. */
  clock(): number {
    return (performance.now() - this.startPerf) / 1000;
  }

  /**
   * Timing tolerance in seconds: the base, plus twice the handshake RTT once measured, plus
   * the scheduling delay this process has seen so far (a probe before the first line, then
   * the event loop's worst delay during the run). Arrivals are stamped when the capture's
   * event runs, and our segments leave when a timer fires, so both move by that delay.
   */
  get tolerance(): number {
    return this.baseTolerance + 2 * (this.rtt ?? 0) + this.jitter.allowance();
  }

  /** Every segment so far, both ways, every connection, in time order. */
  get trace(): readonly TraceEntry[] {
    return this.timeline().map((t) => t.entry);
  }

  /** Every segment so far with its connection and its time on the session clock, in time order. */
  timeline(): TimedEntry[] {
    return sortByTime(this.open.flatMap((c) => c.conversation.trace.map((e) => this.timed(c, e))));
  }

  /** The segments not handed out before, in time order (the runner reports them as it goes). */
  takeNewEntries(): TimedEntry[] {
    const fresh: TimedEntry[] = [];
    for (const c of this.open) {
      const trace = c.conversation.trace;
      for (; c.reported < trace.length; c.reported++) fresh.push(this.timed(c, trace[c.reported]!));
    }
    return sortByTime(fresh);
  }

  private timed(c: ScriptConnection, e: TraceEntry): TimedEntry {
    return { entry: e, seconds: (c.origin + e.time - this.startPerf) / 1000, connection: c.name };
  }

  /** The connection a line names (or the first, for a line without a name), opened or accepted already. */
  private connectionOf(line: { line: number; conn: string | undefined }): ScriptConnection {
    if (line.conn === undefined && this.current) return this.current;
    const name = line.conn ?? this.names[0];
    const c = this.open.find((o) => o.name === name);
    if (c) return c;
    if (!this.names.includes(name)) {
      const known = this.names.filter((n) => n !== undefined);
      throw new SynackError(`line ${line.line}: no connection '${line.conn}' in this session${known.length ? ` (its connections: ${known.join(', ')})` : ' (it has one, without a name)'}`, 'usage');
    }
    throw new SynackError(`line ${line.line}: connection ${name} has no client yet: in the listening role a connection begins with its client's SYN ('> S')`, 'usage');
  }

  /**
   * Listening: the line's connection, waiting until `deadline` for the clients before it and
   * then its own (the k-th client to connect is the k-th name). Connecting: at once.
   */
  private async connectionFor(line: PacketLine, deadline: number): Promise<ScriptConnection> {
    const name = line.conn ?? this.names[0];
    const index = this.names.indexOf(name);
    while (this.listener && index >= this.open.length) {
      const ms = Math.max(0, (deadline - this.clock()) * 1000);
      let c: Conversation;
      try {
        c = await this.listener.accept(ms);
      } catch (err) {
        if (!(err instanceof SynackError)) throw err;
        const nth = ordinal(this.open.length + 1);
        throw new ScriptCheckError(line.line, { field: 'segment', expected: `a ${nth} client's SYN`, got: `nothing by ${formatSeconds(round3(deadline))} s` }, line.text, undefined, name);
      }
      this.open.push(new ScriptConnection(this.names[this.open.length], c));
    }
    return this.connectionOf(line);
  }

  /** Sends one segment written in script syntax (or parsed), with relative numbers. */
  async send(segment: string | PacketLine): Promise<Packet> {
    const line = typeof segment === 'string' ? apiLine(segment, '<') : segment;
    if (line.direction !== '<') throw new SynackError(`line ${line.line}: send() takes segments we send ('<'), not '${line.direction}'`, 'usage');
    const conn = this.connectionOf(line);
    const map = conn.map;
    // A '<' line without 'ack N' carries ack 0, as packetdrill sends it (even with the ACK flag).
    const ack = line.ack !== undefined ? map.serverSeqToWire(line.ack) : 0;
    const options = Array.isArray(line.options) ? map.optionsToWire(line.options) : [];
    const p = await conn.conversation.sendSegment({
      flags: line.flags,
      seq: map.ourSeqToWire(line.seq),
      ack,
      window: line.win ?? 65535,
      data: line.payload ?? Buffer.alloc(line.length),
      options,
      ...(line.urg !== undefined ? { urgptr: line.urg } : {}),
      ...(line.ecn !== undefined ? { tos: ecnBits(line.ecn) } : {}),
    });
    // Our SYN (or, listening, our SYN-ACK): the next segment from the peer measures the RTT.
    if (line.flags & TCPFlag.S && conn.synSentAt === undefined) conn.synSentAt = this.clock();
    return p;
  }

  /**
   * Sends an ICMP line's error, as packetdrill builds it, quoting the kernel's segment on the
   * line's connection: its addresses and ports, and the bracketed seq mapped onto its ISN.
   */
  async sendIcmp(line: IcmpLine): Promise<Packet> {
    const conn = this.connectionOf(line);
    const { src, dst, sport, dport } = conn.conversation.endpoints;
    const family = isIPv6(dst) ? 6 : 4;
    const resolved = resolveIcmp(family, line.icmpType, line.icmpCode);
    if (typeof resolved === 'string') throw new SynackError(`line ${line.line}: ${resolved}: this connection is IPv${family}`, 'usage');
    const p = icmpPacket(family, { ...resolved, mtu: line.mtu, src, dst, sport, dport, seq: conn.map.serverSeqToWire(line.quotedSeq), length: line.quotedLength });
    await conn.conversation.sendOther(p);
    return p;
  }

  /** The connection's next segment from the peer, or undefined if none arrives before `until` (session clock, s). */
  private async next(conn: ScriptConnection, until: number): Promise<Packet | undefined> {
    if (this.released) return undefined;
    const ms = Math.max(0, (until - this.clock()) * 1000);
    try {
      return await conn.conversation.expect(() => true, { timeout: ms });
    } catch (err) {
      if (err instanceof SynackError && (err.kind === 'timeout' || err.message === 'conversation released')) return undefined;
      throw err;
    }
  }

  /** When a received packet arrived, on the session clock. */
  private arrival(conn: ScriptConnection, p: Packet): number {
    const trace = conn.conversation.trace;
    for (let i = trace.length - 1; i >= 0; i--) if (trace[i]!.packet === p) return this.timed(conn, trace[i]!).seconds;
    return this.clock();
  }

  /**
   * Waits for the server's segment that `line` describes, on the line's connection, and checks
   * it, field by field, then its timing. Throws ScriptCheckError on the first difference.
   */
  async expectLine(line: PacketLine, window: ExpectWindow): Promise<Received> {
    if (line.direction !== '>') throw new SynackError(`line ${line.line}: expect() takes segments the server sends ('>'), not '${line.direction}'`, 'usage');
    const conn = await this.connectionFor(line, window.deadline);
    const fail = (m: Mismatch, liveText: string | undefined): ScriptCheckError => new ScriptCheckError(line.line, m, line.text, liveText, conn.name);
    let skipped: Received | undefined;
    for (;;) {
      const p = await this.next(conn, window.deadline);
      if (!p) {
        const waited = Number.isFinite(window.latest) ? `by ${formatSeconds(round3(window.latest + this.tolerance))} s` : `within ${formatSeconds(round3(window.deadline))} s`;
        // A repeat that was skipped may be the segment the script meant, with a field wrong: show it.
        const liveText = skipped
          ? `${formatView(skipped.view, { time: formatSeconds(round3(skipped.time)), maxPayload: 40 })}   (skipped: a repeat of the server's previous segment)`
          : undefined;
        throw fail({ field: 'segment', expected: 'a segment', got: `nothing ${waited}` }, liveText);
      }
      let time = this.arrival(conn, p);
      let view = conn.map.view(p, '>', line);
      if (!this.strictSegments && view.length > 0 && view.length < line.length && !(this.allowRetransmits && conn.isRepeat(view))) {
        const joined = await this.join(conn, line, view, window.deadline);
        if (joined.failure) throw joined.failure;
        view = joined.view;
        time = joined.time;
      }
      const mismatch = compareSegment(line, view, { lastServerTsVal: conn.lastPeerTs(), ignorePsh: this.ignorePsh });
      if (mismatch && this.allowRetransmits && conn.isRepeat(view)) {
        skipped = { packet: p, view, time };
        this.skipped.push(skipped);
        continue;
      }
      const liveText = formatView(view, { time: formatSeconds(round3(time)), maxPayload: 40 });
      if (mismatch) throw fail(mismatch, liveText);
      const tol = this.tolerance;
      if (time < window.earliest - tol || time > window.latest + tol) {
        const when = window.earliest === window.latest ? `${formatSeconds(round3(window.earliest))} s` : `${formatSeconds(round3(window.earliest))}~${formatSeconds(round3(window.latest))} s`;
        const how = time < window.earliest - tol ? 'too early' : 'too late';
        throw fail({ field: 'time', expected: `the segment at ${when} (±${formatSeconds(round3(tol))} s)`, got: `it at ${formatSeconds(round3(time))} s, ${how}` }, liveText);
      }
      if (conn.rtt === undefined && conn.synSentAt !== undefined) conn.rtt = Math.max(0, time - conn.synSentAt);
      conn.accepted(view, p);
      return { packet: p, view, time };
    }
  }

  /**
   * packetdrill's segment joining: a segment shorter than the line is followed by the next ones
   * until their payloads add up to the line's length (TSO/GSO, or a server that writes in
   * pieces). The joined segment takes seq and CWR from the first, every other header field
   * from the last, and its time from the last. Pieces must be contiguous and carry data, and
   * the last must end exactly at the line's end. Unlike packetdrill, pieces need not be equal:
   * a live sender's GSO size follows its pacing rate (measured on lo: 2896- and 1448-byte
   * pieces mixed in one flight), so only contiguity is a fact worth checking.
   */
  private async join(conn: ScriptConnection, line: PacketLine, first: SegmentView, deadline: number): Promise<{ view: SegmentView; time: number; failure?: ScriptCheckError }> {
    const fail = (m: Mismatch, liveText: string): ScriptCheckError => new ScriptCheckError(line.line, m, line.text, liveText, conn.name);
    const payloads = [first.payload];
    let total = first.length;
    let last = first;
    let time = 0;
    let pieces = 1;
    while (total < line.length) {
      const p = await this.next(conn, deadline);
      if (!p) {
        const got = `${total} bytes in ${pieces} segment${pieces === 1 ? '' : 's'}, then nothing by ${formatSeconds(round3(deadline))} s`;
        return { view: first, time, failure: fail({ field: 'length', expected: `length ${line.length}`, got }, formatView(last, { maxPayload: 40 })) };
      }
      const arrived = this.arrival(conn, p);
      const v = conn.map.view(p, '>');
      // A resend of a piece already joined, or of older data: skipped when retransmits are allowed.
      const joinedEnd = (first.seq + total) >>> 0;
      if (this.allowRetransmits && v.length > 0 && (((joinedEnd - ((v.seq + v.length) >>> 0)) | 0) >= 0 || conn.isRepeat(v))) {
        this.skipped.push({ packet: p, view: v, time: arrived });
        continue;
      }
      time = arrived;
      const at = `${formatSeconds(round3(time))}`;
      const expectedSeq = (first.seq + total) >>> 0;
      if (v.seq !== expectedSeq) {
        return { view: v, time, failure: fail({ field: 'seq', expected: `seq ${expectedSeq} (piece ${pieces + 1} of a joined segment)`, got: `seq ${v.seq}` }, formatView(v, { time: at, maxPayload: 40 })) };
      }
      if (v.length === 0 || total + v.length > line.length) {
        const m = { field: 'length' as const, expected: `length ${line.length - total} or less (piece ${pieces + 1} of a joined segment, after ${total} bytes)`, got: `length ${v.length}` };
        return { view: v, time, failure: fail(m, formatView(v, { time: at, maxPayload: 40 })) };
      }
      payloads.push(v.payload);
      total += v.length;
      last = v;
      pieces++;
    }
    this.joins.push(pieces);
    const payload = Buffer.concat(payloads);
    return { view: { ...last, seq: first.seq, flags: (last.flags & ~TCPFlag.C) | (first.flags & TCPFlag.C), length: total, payload }, time };
  }

  /** API: the server's next segment must look like `segment`, within `within` ms (default 2000). */
  async expect(segment: string | PacketLine, opts: { within?: number } = {}): Promise<Packet> {
    const line = typeof segment === 'string' ? apiLine(segment, '>') : segment;
    const now = this.clock();
    const latest = now + (opts.within ?? 2000) / 1000;
    // No "too late" grace at this level: within is a hard limit.
    const got = await this.expectLine(line, { earliest: -Infinity, latest, deadline: latest });
    return got.packet;
  }

  /**
   * The server must send nothing until `until` (session clock, s) on connection `conn`, or on
   * any when it is undefined; `line` names the script line. Connections are watched one after
   * another: the first waits until `until`, the others' segments are already in by then.
   */
  async quietUntil(until: number, line: { line: number; text: string } = { line: 0, text: 'quiet' }, what = 'nothing', conn?: string): Promise<void> {
    const watched = conn === undefined ? this.open : this.open.filter((c) => c.name === conn);
    for (const c of watched) {
      for (;;) {
        const p = await this.next(c, until);
        if (!p) break;
        const time = this.arrival(c, p);
        const view = c.map.view(p, '>');
        if (this.allowRetransmits && c.isRepeat(view)) {
          this.skipped.push({ packet: p, view, time });
          continue;
        }
        throw new ScriptCheckError(line.line, { field: 'quiet', expected: what, got: `a segment at ${formatSeconds(round3(time))} s` }, line.text, formatView(view, { time: formatSeconds(round3(time)), maxPayload: 40 }), c.name);
      }
    }
  }

  /** API: the server must stay quiet for `ms` milliseconds. */
  async quiet(ms: number): Promise<void> {
    await this.quietUntil(this.clock() + ms / 1000, { line: 0, text: `quiet ${ms}ms` }, `nothing for ${ms} ms`);
  }

  /** Writes every segment of the run, both ways, every connection, to a pcap file (raw IP link type). */
  writePcap(path: string, options: { exclusive?: boolean } = {}): string {
    const w = writePcap(path, { linkType: 'ip', exclusive: options.exclusive });
    const wallStart = Date.now() * 1000 - performance.now() * 1000;
    try {
      for (const t of this.timeline()) w.write(t.entry.packet, Math.round(wallStart + (this.startPerf + t.seconds * 1000) * 1000));
    } finally {
      w.close();
    }
    return path;
  }

  /** Releases the wire (guards, captures, sockets, the listener). Sends nothing. */
  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.jitter.stop();
    for (const c of this.open) await c.conversation.release();
    await this.listener?.close();
  }
}

/** The names as given, or one connection without a name; checked for repeats and count. */
function connectionNames(given: readonly string[] | undefined): ReadonlyArray<string | undefined> {
  if (given === undefined || given.length === 0) return [undefined];
  const seen = new Set<string>();
  for (const n of given) {
    if (seen.has(n)) throw new SynackError(`connection '${n}' is named twice`, 'usage');
    seen.add(n);
  }
  return [...given];
}

function sortByTime(entries: TimedEntry[]): TimedEntry[] {
  // Stable: entries of one connection at the same instant keep their order.
  return entries.sort((a, b) => a.seconds - b.seconds);
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
function ordinal(n: number): string {
  return ORDINALS[n - 1] ?? `${n}th`;
}

function round3(s: number): number {
  return Math.round(s * 1000) / 1000;
}

/** A segment given to the API: a parsed line numbered 0 (so reports say 'script', not a line). */
function apiLine(text: string, direction: '<' | '>'): PacketLine {
  const line = parseSegment(text, direction);
  line.line = 0;
  return line;
}
