/**
 * A TCP conversation driven by hand from crafted segments: the handshake (either side), data
 * with its ACKs, every teardown, and a manual level ("send exactly this", "wait for a segment
 * like that", "hold what arrives") for scripts that deviate. Its state and RFC 9293 bookkeeping
 * (snd.una, snd.nxt, rcv.nxt, both windows) are the pure TCB's (tcb.ts), fed every segment both
 * ways; around it sit the option negotiation (negotiate.ts), the delayed-ACK policy and timer
 * (delayed-ack.ts), the receive bytes (reassembly.ts), the waits (waiters.ts), and a trace of
 * every segment both ways.
 *
 * The wire is a ConversationLink (sending IP packets, delivering the peer's segments on this
 * 4-tuple); connect() in connect.ts and listen() in listen.ts make one from raw sockets and a
 * capture, with the kernel-RST guard around it.
 *
 * What the TCB asks for and this does: ACKs (through the delayed-ACK policy, unless autoAck is
 * off), data into the reassembly, resets reported to readers. What it leaves to the user, as a
 * hand-driven conversation should: the RSTs RFC 9293 would send for unacceptable segments
 * (scripts want to see them arrive, not answer them), and TIME-WAIT's 2 MSL (our side has no
 * socket to keep; the wire is released when close() returns).
 */
import { SynackError } from '../wire/errors.js';
import { Packet } from '../packet/packet.js';
import { IP, TCP } from '../packet/factories.js';
import { layerByName } from '../layers/registry.js';
import { TCPFlag, TCPLayer, parseTCPFlags } from '../layers/tcp.js';
import type { TCPOption } from '../layers/tcp-options.js';
import { isIPv6 } from '../wire/addr.js';
import { nowMicros } from '../io/clock.js';
import { releaseWhenIdle } from '../io/idle.js';
import { seqAdd, seqDiff, seqGt, seqLt } from './seq.js';
import type { TcpState } from './states.js';
import { createTcb, step, advance, type Tcb, type TcbAction, type TcbEvent } from './tcb.js';
import { clockIsn, clockTsVal } from './clocks.js';
import { initialNegotiation, negotiate, synAckOptions, synOptions, tsValOf, type Negotiated } from './negotiate.js';
import { ackTiming, DelayedAck } from './delayed-ack.js';
import { Reassembly } from './reassembly.js';
import { DataSignal, SegmentWaiters, compileMatch, describeMatch, payloadBytes, type Matcher, type SegmentMatch } from './waiters.js';
import { maxSegmentPayload } from './segment-size.js';

export { clockIsn } from './clocks.js';
export type { SegmentMatch } from './waiters.js';

export interface ConversationLink {
  /** Sends one IP packet, marked so that the kernel-RST guard lets it through. */
  send(packet: Packet): Promise<void>;
  /** Stops delivery and releases the link's sockets, captures and guard. */
  close(): Promise<void>;
  /** The MTU of the interface toward the peer (segments are sized to fit it). */
  readonly mtu?: number;
}

/** One segment of the trace: who sent it, when (ms since the conversation began), and our state after it. */
export interface TraceEntry {
  direction: 'out' | 'in';
  time: number;
  /** The segment; its `time` is the wall-clock stamp in microseconds (for tcpdump-style lines). */
  packet: Packet;
  state: TcpState;
}

export interface Endpoints {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

export interface ConversationOptions {
  isn?: number;
  /** Our receive window, before scaling. */
  window?: number;
  mss?: number;
  wscale?: number | false;
  sack?: boolean;
  timestamps?: boolean;
  /** Exactly these options on the SYN (or SYN-ACK) instead of the ones above. */
  options?: TCPOption[];
  /** Ack the peer's data and FIN as they arrive (the default); false to watch the peer retransmit. */
  autoAck?: boolean;
  /**
   * How long an ACK may wait for a segment of ours to carry it, in ms (default 40, Linux's
   * minimum delayed-ACK time); 0 acks every segment at once.
   */
  ackDelay?: number;
}

/** A segment to send by hand; seq and ack come from the conversation unless given. */
export interface SegmentSpec {
  flags?: string | number;
  seq?: number;
  ack?: number;
  window?: number;
  data?: Buffer | string;
  options?: TCPOption[];
  urgptr?: number;
  /** The IP header's TOS (IPv4) or traffic class (IPv6) byte, e.g. ECN bits; default 0. */
  tos?: number;
}

export interface ExpectOptions {
  timeout?: number;
  /** Also take segments that arrived before the call and are not consumed yet (default true). */
  pending?: boolean;
}

const DEFAULT_TIMEOUT = 2000;
const DEFAULT_WINDOW = 64240;
/** RFC 6298's initial RTO is 1 s; SYNs and SYN-ACKs use it (as Linux does), data a shorter one on a LAN. */
const SYN_RTO = 1000;
const DATA_RTO = 200;
const MAX_RTO = 4000;
/** The MTU assumed when the link does not say (Ethernet's). */
const DEFAULT_MTU = 1500;
/** NOP, NOP, Timestamp: what every data segment carries once timestamps are agreed. */
const TIMESTAMP_OPTION_BYTES = 12;

export class Conversation {
  readonly trace: TraceEntry[] = [];
  readonly iss: number;
  /** Retransmissions we made (SYN, SYN-ACK, data). */
  retransmissions = 0;

  private tcb: Tcb;
  private negotiated: Negotiated;
  /** When the first segment left: trace times count from it (not from the guard's set-up). */
  private started: number | undefined;
  private readonly arrivals = new SegmentWaiters();
  private readonly heldWaiters = new SegmentWaiters();
  private readonly reassembly = new Reassembly();
  private readonly dataSignal = new DataSignal();
  private readonly delayedAck: DelayedAck;
  private peerSynOptions: TCPOption[] = [];
  private resetError: Error | undefined;
  private link: ConversationLink | undefined;
  private unregisterIdle: (() => void) | undefined;
  private readonly ipHeader: () => Packet;
  private readonly family: 4 | 6;
  /** Segments held back by holdIncoming(), and the match that starts holding. */
  private held: Packet[] | undefined;
  private holdFrom: Matcher | undefined;

  constructor(
    readonly endpoints: Endpoints,
    readonly options: ConversationOptions = {},
  ) {
    this.iss = (options.isn ?? clockIsn()) >>> 0;
    this.tcb = createTcb({ iss: this.iss, rcvWnd: options.window ?? DEFAULT_WINDOW });
    this.negotiated = initialNegotiation(options);
    this.delayedAck = new DelayedAck(options.ackDelay ?? 40, () => {
      if (this.state !== 'CLOSED') this.sendAckNow();
    });
    const v6 = isIPv6(endpoints.dst);
    this.family = v6 ? 6 : 4;
    const IPv6 = v6 ? layerByName('IPv6') : undefined;
    if (v6 && !IPv6) throw new SynackError('IPv6 is not available in this build', 'system');
    this.ipHeader = v6
      ? () => new Packet([new IPv6!({ src: endpoints.src, dst: endpoints.dst })])
      : () => IP({ src: endpoints.src, dst: endpoints.dst, flags: 'DF', id: 0 });
  }

  // ---------------------------------------------------------------------------------------
  // The TCB's bookkeeping, read-only from outside (state may be set to LISTEN by listen())

  /** RFC 9293 state name. */
  get state(): TcpState {
    return this.tcb.state;
  }
  set state(state: TcpState) {
    this.tcb = state === 'LISTEN' ? step(this.tcb, { kind: 'open', passive: true }).tcb : { ...this.tcb, state };
  }
  /** Oldest unacknowledged sequence number we sent. */
  get sndUna(): number {
    return this.tcb.sndUna;
  }
  /** Next sequence number we send (a script may move it by hand, past data it sent out of order). */
  get sndNxt(): number {
    return this.tcb.sndNxt;
  }
  set sndNxt(seq: number) {
    this.tcb = { ...this.tcb, sndNxt: seq >>> 0 };
  }
  /** Next sequence number we expect from the peer. */
  get rcvNxt(): number {
    return this.tcb.rcvNxt;
  }
  set rcvNxt(seq: number) {
    this.tcb = { ...this.tcb, rcvNxt: seq >>> 0 };
  }
  /** The peer's initial sequence number, learned from its SYN or SYN-ACK. */
  get irs(): number {
    return this.tcb.irs;
  }
  /** The peer's window in bytes (its field scaled by its wscale). */
  get peerWindow(): number {
    return this.tcb.sndWnd;
  }
  get peerMss(): number {
    return this.negotiated.peerMss;
  }
  get peerWscale(): number {
    return this.negotiated.peerWscale;
  }
  get ourWscale(): number {
    return this.negotiated.ourWscale;
  }
  /** Whether both sides agreed to timestamps, and the last TSval the peer sent (our TSecr). */
  get timestamps(): boolean {
    return this.negotiated.timestamps;
  }
  get tsRecent(): number {
    return this.negotiated.tsRecent;
  }
  get sackPermitted(): boolean {
    return this.negotiated.sackPermitted;
  }

  attach(link: ConversationLink): void {
    this.link = link;
    // A program that forgets close() must still end: once nothing but our capture keeps the
    // process alive, the wire (and its guard) is released.
    this.unregisterIdle?.();
    this.unregisterIdle = releaseWhenIdle(() => void this.release().catch(() => undefined));
  }

  /** Milliseconds since the conversation began. */
  now(): number {
    this.started ??= performance.now();
    return performance.now() - this.started;
  }

  private run(event: TcbEvent): TcbAction[] {
    const { tcb, actions } = step(this.tcb, event);
    this.tcb = tcb;
    return actions;
  }

  // ---------------------------------------------------------------------------------------
  // Building and sending segments (the manual level)

  /** The SYN's options, from the conversation options (Linux's order). */
  synOptions(): TCPOption[] {
    return synOptions(this.options, clockTsVal(), this.negotiated.ourWscale);
  }

  /** The SYN-ACK's options: ours, limited to what the peer's SYN offered (RFC 7323, RFC 2018). */
  synAckOptions(): TCPOption[] {
    return synAckOptions(this.options, this.peerSynOptions, this.negotiated, clockTsVal());
  }

  /** Builds a segment with seq, ack, window and timestamps filled from the conversation unless given. */
  segment(spec: SegmentSpec = {}): Packet {
    const flags = spec.flags === undefined ? TCPFlag.A : parseTCPFlags(spec.flags);
    const syn = (flags & TCPFlag.S) !== 0;
    let options = spec.options;
    if (options === undefined && this.timestamps && !syn && (flags & TCPFlag.R) === 0) {
      options = [['NOP'], ['NOP'], ['Timestamp', [clockTsVal(), this.tsRecent]]];
    }
    // SYNs carry the window unscaled (RFC 7323 §2.2); later segments carry it shifted by our wscale.
    const ourWindow = this.options.window ?? DEFAULT_WINDOW;
    const window = spec.window ?? ((flags & TCPFlag.R) !== 0 ? 0 : syn ? Math.min(0xffff, ourWindow) : Math.min(0xffff, Math.max(1, ourWindow >> this.ourWscale)));
    const tcp = TCP({
      sport: this.endpoints.sport,
      dport: this.endpoints.dport,
      seq: spec.seq ?? this.sndNxt,
      ack: spec.ack ?? ((flags & TCPFlag.A) !== 0 ? this.rcvNxt : 0),
      flags,
      window,
      ...(spec.urgptr !== undefined ? { urgptr: spec.urgptr } : {}),
      ...(options ? { options } : {}),
    });
    const ip = this.ipHeader();
    if (spec.tos !== undefined) (ip.layers[0] as unknown as { set(name: string, value: number): void }).set(this.family === 6 ? 'tc' : 'tos', spec.tos);
    let p = ip.add(tcp);
    if (spec.data !== undefined && spec.data.length > 0) p = p.add(spec.data);
    return p;
  }

  /**
   * Sends exactly this segment (the manual level). Sequence space is consumed by what it
   * carries only when it starts at snd.nxt, so old duplicates and out-of-window probes do not
   * disturb the bookkeeping; a RST closes the conversation only when its seq is snd.nxt (a RST
   * with a guessed seq is a probe, and the conversation goes on to see the peer's answer).
   */
  async sendSegment(spec: SegmentSpec = {}): Promise<Packet> {
    const p = this.segment(spec);
    const tcp = p.layer(TCPLayer);
    const flags = tcp.flagBits;
    this.run({ kind: 'send', segment: { flags, seq: tcp.get('seq'), ack: tcp.get('ack'), len: payloadBytes(p).length } });
    // Any segment that acknowledges everything received carries the ACK we were holding.
    if (flags & TCPFlag.A && tcp.get('ack') === this.rcvNxt) this.delayedAck.cancel();
    await this.transmit(p);
    return p;
  }

  /**
   * Sends a packet that is not a segment of this connection (an ICMP error about the peer's
   * segment, as a script's ICMP line writes it) over the same link: the TCB does not see it,
   * and the trace (segments only) does not hold it.
   */
  async sendOther(p: Packet): Promise<void> {
    if (!this.link) throw new SynackError('conversation is not attached to the wire (it was released)', 'system');
    p.time = nowMicros();
    await this.link.send(p);
  }

  private async transmit(p: Packet): Promise<void> {
    if (!this.link) throw new SynackError('conversation is not attached to the wire (it was released)', 'system');
    const time = this.now();
    p.time = nowMicros();
    this.trace.push({ direction: 'out', time, packet: p, state: this.state });
    await this.link.send(p);
  }

  // ---------------------------------------------------------------------------------------
  // Receiving

  /**
   * Waits for a segment from the peer that matches. By default it takes segments already
   * received and not yet consumed first, so that "send, then expect" has no race.
   */
  expect(match: SegmentMatch | Matcher = {}, opts: ExpectOptions = {}): Promise<Packet> {
    const test = compileMatch(match);
    if (opts.pending === false) this.arrivals.clearPending();
    const already = this.arrivals.takePending(test);
    if (already) return Promise.resolve(already);
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    return this.arrivals.wait(test, timeout, () => `no segment ${describeMatch(match)} from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms (state ${this.state})`);
  }

  /**
   * Holds every segment that arrives from now on, unprocessed (no state change, no ACK, not in
   * the trace yet), until releaseHeld(). This is how a script makes segments cross on the
   * wire: see the peer's FIN arrive, send its own FIN as if it had not, then let the FIN in.
   * With `from`, segments are processed as usual until one matches; holding starts with it.
   */
  holdIncoming(from?: SegmentMatch | Matcher): void {
    if (from === undefined) this.held ??= [];
    else this.holdFrom = compileMatch(from);
  }

  /** Waits until a held segment matches (one already held counts). */
  waitHeld(match: SegmentMatch | Matcher = {}, opts: { timeout?: number } = {}): Promise<Packet> {
    const test = compileMatch(match);
    if (!this.held && !this.holdFrom) throw new SynackError('waitHeld() needs holdIncoming() first', 'usage');
    const already = this.held && SegmentWaiters.find(this.held, test);
    if (already) return Promise.resolve(already);
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    return this.heldWaiters.wait(test, timeout, () => `no held segment ${describeMatch(match)} within ${timeout} ms`);
  }

  /** Processes the held segments in the order they arrived, and stops holding. */
  releaseHeld(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.holdFrom = undefined;
    for (const p of held) this.process(p);
  }

  /** Feeds one segment from the peer (the link calls this). */
  deliver(p: Packet): void {
    if (!p.getLayer(TCPLayer)) return;
    if (!this.held && this.holdFrom?.(p.layer(TCPLayer), p)) this.held = [];
    if (this.held) {
      this.held.push(p);
      this.heldWaiters.offerAll(p);
      return;
    }
    this.process(p);
  }

  /** One segment from the peer through the TCB, then its actions, the trace and the waiters. */
  private process(p: Packet): void {
    const tcp = p.layer(TCPLayer);
    const f = tcp.flagBits;
    const data = payloadBytes(p);
    const before = this.state;
    if (this.timestamps && !(f & (TCPFlag.R | TCPFlag.S))) {
      const tsVal = tsValOf(tcp.get('options'));
      if (tsVal !== undefined) this.negotiated = { ...this.negotiated, tsRecent: tsVal };
    }
    // The peer's SYN settles the options before its window is read (a SYN's is never scaled).
    if (f & TCPFlag.S && (before === 'LISTEN' || before === 'SYN-SENT')) this.learnSyn(tcp.get('options') ?? []);
    const window = f & TCPFlag.S ? tcp.get('window') : tcp.get('window') * 2 ** this.peerWscale;
    const actions = this.run({ kind: 'recv', segment: { flags: f, seq: tcp.get('seq'), ack: tcp.get('ack'), len: data.length, window } });
    if (f & TCPFlag.S && (before === 'LISTEN' || before === 'SYN-SENT') && this.state === before) this.restorePreSyn();
    for (const a of actions) {
      if (a.type === 'data') this.reassembly.accept(data.subarray(a.offset, a.offset + a.length));
      else if (a.type === 'queue') this.reassembly.hold(a.seq, Buffer.from(data.subarray(a.offset)));
      else if (a.type === 'peer-fin') this.dataSignal.wake();
      else if (a.type === 'reset') this.reset(a.refused ? 'connection refused' : 'connection reset');
    }
    if (actions.some((a) => a.type === 'data')) {
      const drained = this.reassembly.drain(this.rcvNxt);
      if (drained > 0) this.tcb = advance(this.tcb, drained);
      this.dataSignal.wake();
    }
    p.time ??= nowMicros();
    this.trace.push({ direction: 'in', time: this.now(), packet: p, state: this.state });
    this.ackAsAsked(actions, data.length);
    if (!this.arrivals.offer(p)) this.arrivals.keep(p);
  }

  /** Options learned from a SYN that the TCB then refused are forgotten again. */
  private preSyn: { negotiated: Negotiated; options: TCPOption[] } | undefined;
  private learnSyn(options: readonly TCPOption[]): void {
    this.preSyn = { negotiated: this.negotiated, options: this.peerSynOptions };
    this.peerSynOptions = [...options];
    this.negotiated = negotiate(this.options, this.peerSynOptions, this.negotiated);
  }
  private restorePreSyn(): void {
    if (!this.preSyn) return;
    this.negotiated = this.preSyn.negotiated;
    this.peerSynOptions = this.preSyn.options;
    this.preSyn = undefined;
  }

  /** Performs the TCB's ACKs through the delayed-ACK policy. */
  private ackAsAsked(actions: readonly TcbAction[], payload: number): void {
    if (this.options.autoAck === false || this.state === 'CLOSED' || this.state === 'LISTEN' || this.state === 'SYN-SENT') return;
    const { timing, counts } = ackTiming(actions, {
      holding: this.delayedAck.holding,
      segmentsHeld: this.delayedAck.segments,
      fullSized: payload >= Math.min(this.peerMss, this.options.mss ?? 1460),
      delay: this.options.ackDelay ?? 40,
      afterOurFin: this.tcb.peerFinSeq !== undefined && this.state !== 'CLOSE-WAIT',
    });
    if (counts) this.delayedAck.segments++;
    if (timing === 'now') this.sendAckNow();
    else if (timing === 'later') this.delayedAck.hold();
  }

  private sendAckNow(): void {
    this.delayedAck.cancel();
    if (!this.link) return;
    void this.sendSegment({ flags: 'A' }).catch(() => undefined);
  }

  private reset(what: string): void {
    this.resetError = new SynackError(`${what} by ${this.endpoints.dst}.${this.endpoints.dport}`, 'system');
    this.delayedAck.cancel();
    this.dataSignal.wake();
  }

  // ---------------------------------------------------------------------------------------
  // Opening

  /** The active open: SYN (retransmitted with backoff), the peer's SYN-ACK, our ACK. */
  async handshake(timeout = DEFAULT_TIMEOUT): Promise<void> {
    const deadline = performance.now() + timeout;
    const synOptions = this.synOptions();
    this.run({ kind: 'open', passive: false });
    const answered: Matcher = (t) => (t.flagBits & (TCPFlag.S | TCPFlag.A)) === (TCPFlag.S | TCPFlag.A) || (t.flagBits & TCPFlag.R) !== 0;
    await this.sendSegment({ flags: 'S', seq: this.iss, ack: 0, options: synOptions });
    for (let rto = SYN_RTO; ; rto = Math.min(rto * 2, MAX_RTO)) {
      const left = deadline - performance.now();
      try {
        await this.expect(answered, { timeout: Math.max(1, Math.min(rto, left)) });
        break;
      } catch (err) {
        if (this.state !== 'SYN-SENT' || deadline - performance.now() <= 0) {
          throw new SynackError(`no answer to our SYN from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms`, 'timeout');
        }
        if ((err as SynackError).kind !== 'timeout') throw err;
        this.retransmissions++;
        await this.sendSegment({ flags: 'S', seq: this.iss, ack: 0, options: synOptions });
      }
    }
    const state = this.state as TcpState;
    if (this.resetError || state === 'CLOSED') {
      throw new SynackError(`connection refused: ${this.endpoints.dst}.${this.endpoints.dport} answered the SYN with RST`, 'system');
    }
    if (state !== 'ESTABLISHED') throw new SynackError(`handshake ended in state ${state}`, 'system');
    await this.sendSegment({ flags: 'A' });
  }

  /**
   * The passive open, once the peer's SYN is in (state SYN-RECEIVED): our SYN-ACK, retransmitted
   * with backoff until the peer's ACK makes the conversation ESTABLISHED.
   */
  async passiveOpen(timeout = DEFAULT_TIMEOUT): Promise<void> {
    if (this.state !== 'SYN-RECEIVED') throw new SynackError(`passiveOpen() needs the peer's SYN first (state ${this.state})`, 'usage');
    const deadline = performance.now() + timeout;
    const options = this.synAckOptions();
    const established: Matcher = () => this.state !== 'SYN-RECEIVED';
    await this.sendSegment({ flags: 'SA', seq: this.iss, options });
    for (let rto = SYN_RTO; ; rto = Math.min(rto * 2, MAX_RTO)) {
      const left = deadline - performance.now();
      try {
        await this.expect(established, { timeout: Math.max(1, Math.min(rto, left)) });
        break;
      } catch {
        if (deadline - performance.now() <= 0) {
          throw new SynackError(`no ACK for our SYN-ACK from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms`, 'timeout');
        }
        this.retransmissions++;
        await this.sendSegment({ flags: 'SA', seq: this.iss, options });
      }
    }
    if (this.resetError) throw this.resetError;
  }

  // ---------------------------------------------------------------------------------------
  // Data

  /** The most payload one segment may carry toward the peer (its MSS, the path MTU, IP's limit). */
  maxSegmentPayload(): number {
    return maxSegmentPayload({
      peerMss: this.peerMss,
      mtu: this.link?.mtu ?? DEFAULT_MTU,
      family: this.family,
      tcpOptions: this.timestamps ? TIMESTAMP_OPTION_BYTES : 0,
    });
  }

  /**
   * Sends data, cut to the segment size (maxSegmentPayload()) and the peer's window, and waits
   * until all of it is acknowledged, retransmitting from snd.una after a timeout that doubles
   * each time. Any size: the peer's window paces it.
   */
  async send(data: Buffer | string, opts: { timeout?: number; retries?: number; rto?: number } = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.assertCanSend();
    const start = this.sndNxt;
    const end = seqAdd(start, bytes.length);
    const mss = this.maxSegmentPayload();
    let rto = opts.rto ?? DATA_RTO;
    const retries = opts.retries ?? 6;
    const deadline = performance.now() + (opts.timeout ?? 10_000);
    const allAcked: Matcher = () => !seqLt(this.sndUna, end) || this.resetError !== undefined;
    /** How much of `bytes` has left at least once; a timeout resends from snd.una (go-back-N). */
    let sent = 0;
    let timedOut = false;
    for (let attempt = 0; ; ) {
      const acked = Math.max(0, seqDiff(this.sndUna, start));
      let from = timedOut ? acked : Math.max(acked, sent);
      if (timedOut && from < sent) this.retransmissions++;
      const windowEnd = Math.max(acked + 1, seqDiff(seqAdd(this.sndUna, Math.max(this.peerWindow, 1)), start));
      while (from < bytes.length && from < windowEnd) {
        const size = Math.min(mss, bytes.length - from, windowEnd - from);
        const last = from + size >= bytes.length;
        await this.sendSegment({ flags: last ? 'PA' : 'A', seq: seqAdd(start, from), data: bytes.subarray(from, from + size) });
        from += size;
        sent = Math.max(sent, from);
      }
      const before = this.sndUna;
      timedOut = false;
      try {
        // process() has already applied each segment's ACK when a waiter sees it.
        // The RTO never carries us past the deadline: a timeout is a deadline from the call.
        const left = deadline - performance.now();
        await this.expect((t, p) => allAcked(t, p) || seqGt(this.sndUna, before), { timeout: Math.max(1, Math.min(rto, left)) });
      } catch {
        // No progress in time: retransmit from snd.una with a doubled timeout.
        timedOut = true;
        rto = Math.min(rto * 2, MAX_RTO);
        attempt++;
      }
      if (this.resetError) throw this.resetError;
      if (!seqLt(this.sndUna, end)) return;
      if (!timedOut) {
        // Progress: the retransmission timer starts again from its first value (RFC 6298 §5).
        rto = opts.rto ?? DATA_RTO;
        attempt = 0;
      }
      if (attempt > retries || performance.now() >= deadline) {
        throw new SynackError(`${seqDiff(end, this.sndUna)} bytes unacknowledged by ${this.endpoints.dst}.${this.endpoints.dport} after ${attempt} retransmissions`, 'timeout');
      }
    }
  }

  private assertCanSend(): void {
    if (this.resetError) throw this.resetError;
    if (this.state !== 'ESTABLISHED' && this.state !== 'CLOSE-WAIT') {
      throw new SynackError(`cannot send data in state ${this.state}`, 'usage');
    }
  }

  /** The peer's data received in order so far, and not yet read; waits for some. Empty at the peer's FIN. */
  async recv(opts: { timeout?: number } = {}): Promise<Buffer> {
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    const deadline = performance.now() + timeout;
    for (;;) {
      if (this.reassembly.hasData) return this.reassembly.take();
      if (this.resetError) throw this.resetError;
      if (this.tcb.peerFinSeq !== undefined || this.state === 'CLOSED') return Buffer.alloc(0);
      const left = deadline - performance.now();
      if (left <= 0) throw new SynackError(`no data from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms (state ${this.state})`, 'timeout');
      await this.dataSignal.wait(left);
    }
  }

  /** Everything the peer sends until its FIN. */
  async recvAll(opts: { timeout?: number } = {}): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const chunk = await this.recv(opts);
      if (chunk.length === 0) return Buffer.concat(parts);
      parts.push(chunk);
    }
  }

  /** The peer's data as it arrives, until its FIN. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await this.recv({ timeout: 60_000 });
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Closing

  /** Our FIN when the TCB's CLOSE calls for one. */
  private async sendFinIfDue(): Promise<void> {
    if (this.run({ kind: 'close' }).some((a) => a.type === 'fin')) await this.sendSegment({ flags: 'FA' });
  }

  /**
   * Our FIN, then waits until the peer has acknowledged it (FIN-WAIT-2, or further when the
   * peer's FIN came too). The conversation stays attached: like shutdown(SHUT_WR), the peer
   * may still send, and a kernel peer that never closes sits in CLOSE-WAIT.
   */
  async shutdown(opts: { timeout?: number } = {}): Promise<void> {
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    await this.sendFinIfDue();
    await this.waitFor(() => this.sndUna === this.sndNxt || this.state === 'CLOSED', timeout, 'our FIN unacknowledged');
  }

  /**
   * Closes from our side, whatever the peer does: the active close (FIN-WAIT-1, FIN-WAIT-2,
   * TIME-WAIT), the simultaneous close (CLOSING), or, when the peer closed first, LAST-ACK.
   * Releases the wire at the end (TIME-WAIT is not waited out: our side has no socket to keep).
   */
  async close(opts: { timeout?: number } = {}): Promise<void> {
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    try {
      await this.sendFinIfDue();
      await this.waitFor(() => this.state === 'TIME-WAIT' || this.state === 'CLOSED', timeout, 'teardown incomplete');
      // An ACK still owed goes now: the wire is about to be released.
      if (this.delayedAck.holding && this.state !== 'CLOSED') this.sendAckNow();
    } finally {
      await this.release();
    }
  }

  private async waitFor(done: () => boolean, timeout: number, what: string): Promise<void> {
    const deadline = performance.now() + timeout;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new SynackError(`${what}: stuck in ${this.state} after ${timeout} ms`, 'timeout');
      await this.expect(() => done(), { timeout: left }).catch(() => undefined);
    }
  }

  /** Sends RST (seq snd.nxt, so the peer accepts it) and releases the link. */
  async abort(): Promise<void> {
    try {
      if (this.state !== 'CLOSED' && this.state !== 'LISTEN' && this.link) {
        await this.sendSegment(this.state === 'SYN-SENT' ? { flags: 'R', ack: 0 } : { flags: 'RA' });
      }
    } finally {
      this.run({ kind: 'abort' });
      await this.release();
    }
  }

  /** Releases the wire (capture, socket, guard) without sending anything. */
  async release(): Promise<void> {
    this.delayedAck.cancel();
    this.unregisterIdle?.();
    this.unregisterIdle = undefined;
    const released = new SynackError('conversation released', 'system');
    this.arrivals.rejectAll(released);
    this.heldWaiters.rejectAll(released);
    this.dataSignal.wake();
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }
}
