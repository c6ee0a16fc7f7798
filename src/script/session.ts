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
 */
import { connectTarget, type Target } from './target.js';
import { listen } from '../tcp/listen.js';
import { SynackError } from '../wire/errors.js';
import { TCPFlag, TCPLayer } from '../layers/tcp.js';
import type { Packet } from '../packet/packet.js';
import type { Conversation, TraceEntry } from '../tcp/conversation.js';
import { writePcap } from '../pcap/pcap-writer.js';
import type { PacketLine } from './ast.js';
import { compareSegment, type Mismatch } from './check.js';
import { formatSeconds, formatView, type SegmentView } from './format.js';
import { parseSegment } from './parse.js';
import { SequenceMap } from './sequence-map.js';
import { ecnBits } from './ecn.js';
import { JitterMeter } from './jitter.js';

/** A check that failed: exit 1. `line` is the script line (0 for API calls). */
export class ScriptCheckError extends SynackError {
  /** Where the pcap of the run was written, when it was. */
  pcapPath: string | undefined;

  constructor(
    readonly line: number,
    readonly mismatch: Mismatch,
    readonly scriptText: string,
    readonly liveText: string | undefined,
  ) {
    super(describeFailure(line, mismatch, scriptText, liveText), 'timeout');
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

function describeFailure(line: number, m: Mismatch, scriptText: string, liveText: string | undefined): string {
  const where = line > 0 ? `script line ${line}` : 'script';
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
  /** Our port (default: a random ephemeral one). */
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

export class ScriptSession {
  readonly map: SequenceMap;
  /** The handshake's round trip in seconds, once measured (our SYN to the server's answer). */
  rtt: number | undefined;
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
  private startMs: number;
  private synSentAt: number | undefined;
  private lastFromServer: SegmentView | undefined;
  /** Script-relative end of the server's data seen so far (for telling retransmissions). */
  private serverDataEnd: number | undefined;
  /** The server's latest TS val as it was on the wire. */
  private lastServerTsLive: number | undefined;
  private released = false;

  private constructor(
    readonly conversation: Conversation,
    opts: SessionOptions,
  ) {
    this.map = new SequenceMap(conversation.iss);
    this.baseTolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
    this.allowRetransmits = opts.allowRetransmits ?? false;
    this.strictSegments = opts.strictSegments ?? false;
    this.startMs = conversation.now();
  }

  /** Opens the wire to the target (raw socket, capture, kernel-RST guard); nothing is sent yet. */
  static async open(opts: SessionOptions): Promise<ScriptSession> {
    if (opts.listen) {
      const l = opts.listen;
      // Returns in SYN-RECEIVED with the client's SYN pending: the script's first '>' line takes it.
      const conversation = await listen({
        port: l.port,
        ...(l.address !== undefined ? { address: l.address } : {}),
        timeout: l.timeout ?? 10_000,
        ready: l.ready,
        handshake: false,
        autoAck: false,
        ...(opts.isn !== undefined ? { isn: opts.isn } : {}),
      });
      const session = new ScriptSession(conversation, opts);
      session.listening = true;
      await session.jitter.start();
      return session;
    }
    if (opts.target === undefined) throw new SynackError('a script session needs a target (HOST:PORT) or a port to listen on', 'usage');
    const conversation = await connectTarget(opts.target, { sport: opts.sport, isn: opts.isn });
    const session = new ScriptSession(conversation, opts);
    await session.jitter.start();
    return session;
  }

  /** A session over a conversation wired elsewhere (local mode: the namespace helper is the wire). */
  static async over(conversation: Conversation, opts: SessionOptions = {}): Promise<ScriptSession> {
    const session = new ScriptSession(conversation, opts);
    await session.jitter.start();
    return session;
  }

  /** Whether the script plays the listening side (the client's SYN came first). */
  listening = false;

  /** Restarts the clock: time 0 of the script (listening: when the client's SYN arrived). */
  startClock(): void {
    const syn = this.conversation.trace[0];
    this.startMs = this.listening && syn ? syn.time : this.conversation.now();
  }

  /** Seconds since the clock started. */
  clock(): number {
    return (this.conversation.now() - this.startMs) / 1000;
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

  get trace(): readonly TraceEntry[] {
    return this.conversation.trace;
  }

  /** A trace entry's time on the session clock, in seconds. */
  traceTime(e: TraceEntry): number {
    return (e.time - this.startMs) / 1000;
  }

  /** Sends one segment written in script syntax (or parsed), with relative numbers. */
  async send(segment: string | PacketLine): Promise<Packet> {
    const line = typeof segment === 'string' ? apiLine(segment, '<') : segment;
    if (line.direction !== '<') throw new SynackError(`line ${line.line}: send() takes segments we send ('<'), not '${line.direction}'`, 'usage');
    const c = this.conversation;
    // A '<' line without 'ack N' carries ack 0, as packetdrill sends it (even with the ACK flag).
    const ack = line.ack !== undefined ? this.map.serverSeqToWire(line.ack) : 0;
    const options = Array.isArray(line.options) ? this.map.optionsToWire(line.options) : [];
    const p = await c.sendSegment({
      flags: line.flags,
      seq: this.map.ourSeqToWire(line.seq),
      ack,
      window: line.win ?? 65535,
      data: line.payload ?? Buffer.alloc(line.length),
      options,
      ...(line.urg !== undefined ? { urgptr: line.urg } : {}),
      ...(line.ecn !== undefined ? { tos: ecnBits(line.ecn) } : {}),
    });
    // Our SYN (or, listening, our SYN-ACK): the next segment from the peer measures the RTT.
    if (line.flags & TCPFlag.S && this.synSentAt === undefined) this.synSentAt = this.clock();
    return p;
  }

  /** The server's next segment, or undefined if none arrives before `until` (session clock, s). */
  async next(until: number): Promise<Packet | undefined> {
    if (this.released) return undefined;
    const ms = Math.max(0, (until - this.clock()) * 1000);
    try {
      return await this.conversation.expect(() => true, { timeout: ms });
    } catch (err) {
      if (err instanceof SynackError && (err.kind === 'timeout' || err.message === 'conversation released')) return undefined;
      throw err;
    }
  }

  /** When a received packet arrived, on the session clock. */
  arrival(p: Packet): number {
    const trace = this.conversation.trace;
    for (let i = trace.length - 1; i >= 0; i--) if (trace[i]!.packet === p) return this.traceTime(trace[i]!);
    return this.clock();
  }

  /**
   * A retransmission: data wholly inside what the server already sent (an RTO or a tail-loss
   * probe resends any of it), or a repeat of its previous segment (SYN-ACK, FIN, pure ACK).
   */
  private isRepeat(v: SegmentView): boolean {
    if (v.length > 0 && this.serverDataEnd !== undefined && ((this.serverDataEnd - ((v.seq + v.length) >>> 0)) | 0) >= 0) return true;
    const last = this.lastFromServer;
    return last !== undefined && last.flags === v.flags && last.seq === v.seq && last.length === v.length && last.ack === v.ack;
  }

  /**
   * Waits for the server's segment that `line` describes and checks it, field by field, then
   * its timing. Throws ScriptCheckError on the first difference.
   */
  async expectLine(line: PacketLine, window: ExpectWindow): Promise<Received> {
    if (line.direction !== '>') throw new SynackError(`line ${line.line}: expect() takes segments the server sends ('>'), not '${line.direction}'`, 'usage');
    let skipped: Received | undefined;
    for (;;) {
      const p = await this.next(window.deadline);
      if (!p) {
        const waited = Number.isFinite(window.latest) ? `by ${formatSeconds(round3(window.latest + this.tolerance))} s` : `within ${formatSeconds(round3(window.deadline))} s`;
        // A repeat that was skipped may be the segment the script meant, with a field wrong: show it.
        const liveText = skipped
          ? `${formatView(skipped.view, { time: formatSeconds(round3(skipped.time)), maxPayload: 40 })}   (skipped: a repeat of the server's previous segment)`
          : undefined;
        throw new ScriptCheckError(line.line, { field: 'segment', expected: 'a segment', got: `nothing ${waited}` }, line.text, liveText);
      }
      let time = this.arrival(p);
      let view = this.map.view(p, '>', line);
      if (!this.strictSegments && view.length > 0 && view.length < line.length && !(this.allowRetransmits && this.isRepeat(view))) {
        const joined = await this.join(line, view, window.deadline);
        if (joined.failure) throw joined.failure;
        view = joined.view;
        time = joined.time;
      }
      // Compared in script terms, mapped now: the TS origin may have been learned after the last one.
      const lastTs = this.lastServerTsLive === undefined ? undefined : this.map.serverTsToScript(this.lastServerTsLive);
      const mismatch = compareSegment(line, view, { lastServerTsVal: lastTs, ignorePsh: this.ignorePsh });
      if (mismatch && this.allowRetransmits && this.isRepeat(view)) {
        skipped = { packet: p, view, time };
        this.skipped.push(skipped);
        continue;
      }
      const liveText = formatView(view, { time: formatSeconds(round3(time)), maxPayload: 40 });
      if (mismatch) throw new ScriptCheckError(line.line, mismatch, line.text, liveText);
      const tol = this.tolerance;
      if (time < window.earliest - tol || time > window.latest + tol) {
        const when = window.earliest === window.latest ? `${formatSeconds(round3(window.earliest))} s` : `${formatSeconds(round3(window.earliest))}~${formatSeconds(round3(window.latest))} s`;
        const how = time < window.earliest - tol ? 'too early' : 'too late';
        throw new ScriptCheckError(
          line.line,
          { field: 'time', expected: `the segment at ${when} (±${formatSeconds(round3(tol))} s)`, got: `it at ${formatSeconds(round3(time))} s, ${how}` },
          line.text,
          liveText,
        );
      }
      if (this.rtt === undefined && this.synSentAt !== undefined) this.rtt = Math.max(0, time - this.synSentAt);
      this.lastFromServer = view;
      const end = (view.seq + view.length) >>> 0;
      if (view.length > 0 && (this.serverDataEnd === undefined || ((end - this.serverDataEnd) | 0) > 0)) this.serverDataEnd = end;
      const ts = liveTsVal(p);
      if (ts !== undefined) this.lastServerTsLive = ts;
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
  private async join(line: PacketLine, first: SegmentView, deadline: number): Promise<{ view: SegmentView; time: number; failure?: ScriptCheckError }> {
    const payloads = [first.payload];
    let total = first.length;
    let last = first;
    let time = 0;
    let pieces = 1;
    while (total < line.length) {
      const p = await this.next(deadline);
      if (!p) {
        const got = `${total} bytes in ${pieces} segment${pieces === 1 ? '' : 's'}, then nothing by ${formatSeconds(round3(deadline))} s`;
        return { view: first, time, failure: new ScriptCheckError(line.line, { field: 'length', expected: `length ${line.length}`, got }, line.text, formatView(last, { maxPayload: 40 })) };
      }
      const arrived = this.arrival(p);
      const v = this.map.view(p, '>');
      // A resend of a piece already joined, or of older data: skipped when retransmits are allowed.
      const joinedEnd = (first.seq + total) >>> 0;
      if (this.allowRetransmits && v.length > 0 && (((joinedEnd - ((v.seq + v.length) >>> 0)) | 0) >= 0 || this.isRepeat(v))) {
        this.skipped.push({ packet: p, view: v, time: arrived });
        continue;
      }
      time = arrived;
      const at = `${formatSeconds(round3(time))}`;
      const expectedSeq = (first.seq + total) >>> 0;
      if (v.seq !== expectedSeq) {
        return { view: v, time, failure: new ScriptCheckError(line.line, { field: 'seq', expected: `seq ${expectedSeq} (piece ${pieces + 1} of a joined segment)`, got: `seq ${v.seq}` }, line.text, formatView(v, { time: at, maxPayload: 40 })) };
      }
      if (v.length === 0 || total + v.length > line.length) {
        const m = { field: 'length' as const, expected: `length ${line.length - total} or less (piece ${pieces + 1} of a joined segment, after ${total} bytes)`, got: `length ${v.length}` };
        return { view: v, time, failure: new ScriptCheckError(line.line, m, line.text, formatView(v, { time: at, maxPayload: 40 })) };
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

  /** The server must send nothing until `until` (session clock, s); `line` names the script line. */
  async quietUntil(until: number, line: { line: number; text: string } = { line: 0, text: 'quiet' }, what = 'nothing'): Promise<void> {
    for (;;) {
      const p = await this.next(until);
      if (!p) return;
      const time = this.arrival(p);
      const view = this.map.view(p, '>');
      if (this.allowRetransmits && this.isRepeat(view)) {
        this.skipped.push({ packet: p, view, time });
        continue;
      }
      throw new ScriptCheckError(line.line, { field: 'quiet', expected: what, got: `a segment at ${formatSeconds(round3(time))} s` }, line.text, formatView(view, { time: formatSeconds(round3(time)), maxPayload: 40 }));
    }
  }

  /** API: the server must stay quiet for `ms` milliseconds. */
  async quiet(ms: number): Promise<void> {
    await this.quietUntil(this.clock() + ms / 1000, { line: 0, text: `quiet ${ms}ms` }, `nothing for ${ms} ms`);
  }

  /** Writes every segment of the run, both ways, to a pcap file (raw IP link type). */
  writePcap(path: string, options: { exclusive?: boolean } = {}): string {
    const w = writePcap(path, { linkType: 'ip', exclusive: options.exclusive });
    const wallStart = Date.now() * 1000 - performance.now() * 1000;
    const convStart = performance.now() - this.conversation.now();
    try {
      for (const e of this.conversation.trace) w.write(e.packet, Math.round(wallStart + (convStart + e.time) * 1000));
    } finally {
      w.close();
    }
    return path;
  }

  /** Releases the wire (guard, capture, socket). Sends nothing. */
  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.jitter.stop();
    await this.conversation.release();
  }
}

function liveTsVal(p: Packet): number | undefined {
  for (const o of p.layer(TCPLayer).get('options') ?? []) if (o[0] === 'Timestamp' && Array.isArray(o[1])) return (o[1] as readonly number[])[0];
  return undefined;
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
