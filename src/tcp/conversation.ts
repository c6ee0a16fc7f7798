/**
 * A TCP conversation driven by hand from crafted segments: the handshake (either side), data
 * with its ACKs, every teardown, and a manual level ("send exactly this", "wait for a segment
 * like that", "hold what arrives") for scripts that deviate. It keeps RFC 9293's bookkeeping
 * (snd.una, snd.nxt, rcv.nxt, both windows with scaling, timestamps) and state names, and a
 * trace of every segment both ways.
 *
 * The wire is a ConversationLink (sending IP packets, delivering the peer's segments on this
 * 4-tuple); connect() in connect.ts and listen() in listen.ts make one from raw sockets and a
 * capture, with the kernel-RST guard around it.
 *
 * ACKs are delayed the way a kernel delays them (RFC 1122 §4.2.3.2, RFC 9293 §3.8.6.3): an
 * ACK for in-order data waits up to `ackDelay` ms for a segment of ours to carry it, and goes
 * at once for every second full-sized segment, for anything out of order or duplicated, and
 * for a FIN that arrives alone. A FIN that arrives while the ACK of the data just before it
 * is still waiting keeps waiting with it, so a script that closes when it reads the end of
 * the data makes its FIN carry the ACK: the "three-way" close a capture shows when the
 * server's FIN comes right behind its data. A FIN that comes alone, later, is acked at once,
 * and the script's own FIN follows as a fourth segment.
 */
import { SynackError } from '../wire/errors.js';
import { Packet } from '../packet/packet.js';
import { IP, TCP } from '../packet/factories.js';
import { layerByName } from '../layers/registry.js';
import { TCPFlag, TCPLayer, parseTCPFlags } from '../layers/tcp.js';
import type { TCPOption } from '../layers/tcp-options.js';
import { isIPv6 } from '../wire/addr.js';
import { RawLayer } from '../layers/raw.js';
import { nowMicros } from '../io/clock.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './states.js';

export interface ConversationLink {
  /** Sends one IP packet, marked so that the kernel-RST guard lets it through. */
  send(packet: Packet): Promise<void>;
  /** Stops delivery and releases the link's sockets, captures and guard. */
  close(): Promise<void>;
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
}

/** What a received segment must look like for expect() to take it. */
export interface SegmentMatch {
  /** Exactly these flags (letters as Scapy's, e.g. 'SA', 'FA', 'R', 'A'). */
  flags?: string;
  /** At least these flags set. */
  hasFlags?: string;
  seq?: number;
  ack?: number;
  /** Payload length. */
  length?: number;
  test?: (segment: TCPLayer, packet: Packet) => boolean;
}

export interface ExpectOptions {
  timeout?: number;
  /** Also take segments that arrived before the call and are not consumed yet (default true). */
  pending?: boolean;
}

type Matcher = (tcp: TCPLayer, p: Packet) => boolean;

interface Waiter {
  match: Matcher;
  resolve: (p: Packet) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT = 2000;
/**
 * ISNs and TSvals follow one clock per process (RFC 6528's clock-driven ISN, RFC 7323's
 * monotonic TSval), each from a random offset: a conversation reusing a 4-tuple that the
 * server still holds in TIME-WAIT then sends a SYN with a higher seq and a newer timestamp,
 * which Linux accepts (a random ISN or TSval would be refused half the time).
 */
const ISN_OFFSET = Math.floor(Math.random() * 0x100000000);
const TS_OFFSET = Math.floor(Math.random() * 0x7fffffff);
/** One ISN tick every 4 µs, as RFC 793's clock. */
export function clockIsn(): number {
  return (ISN_OFFSET + Math.floor(performance.now() * 250)) >>> 0;
}
/** RFC 6298's initial RTO is 1 s; SYNs and SYN-ACKs use it (as Linux does), data a shorter one on a LAN. */
const SYN_RTO = 1000;
const DATA_RTO = 200;
const MAX_RTO = 4000;

export class Conversation {
  state: TcpState = 'CLOSED';
  readonly trace: TraceEntry[] = [];
  /** Oldest unacknowledged sequence number we sent. */
  sndUna: number;
  /** Next sequence number we send. */
  sndNxt: number;
  /** Next sequence number we expect from the peer. */
  rcvNxt = 0;
  /** The peer's initial sequence number, learned from its SYN or SYN-ACK. */
  irs = 0;
  readonly iss: number;
  /** The peer's window in bytes (its field scaled by its wscale). */
  peerWindow = 0;
  peerMss = 536;
  peerWscale = 0;
  ourWscale: number;
  /** Whether both sides agreed to timestamps, and the last TSval the peer sent (our TSecr). */
  timestamps = false;
  tsRecent = 0;
  sackPermitted = false;
  /** Retransmissions we made (SYN, SYN-ACK, data). */
  retransmissions = 0;

  /** When the first segment left: trace times count from it (not from the guard's set-up). */
  private started: number | undefined;
  private inbox: Packet[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly received: Buffer[] = [];
  private readonly outOfOrder = new Map<number, Buffer>();
  private peerFinSeen = false;
  private peerSynOptions: TCPOption[] = [];
  private readonly dataWaiters = new Set<() => void>();
  private resetError: Error | undefined;
  private link: ConversationLink | undefined;
  private readonly ipHeader: () => Packet;
  /** A pending delayed ACK, and how many segments it covers. */
  private ackTimer: NodeJS.Timeout | undefined;
  private unackedSegments = 0;
  /** Segments held back by holdIncoming(), and those waiting to see one. */
  private held: Packet[] | undefined;
  private holdFrom: Matcher | undefined;
  private readonly heldWaiters = new Set<Waiter>();

  constructor(
    readonly endpoints: Endpoints,
    readonly options: ConversationOptions = {},
  ) {
    this.iss = (options.isn ?? clockIsn()) >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.ourWscale = options.wscale === false ? 0 : (options.wscale ?? 7);
    const v6 = isIPv6(endpoints.dst);
    const IPv6 = v6 ? layerByName('IPv6') : undefined;
    if (v6 && !IPv6) throw new SynackError('IPv6 is not available in this build', 'system');
    this.ipHeader = v6
      ? () => new Packet([new IPv6!({ src: endpoints.src, dst: endpoints.dst })])
      : () => IP({ src: endpoints.src, dst: endpoints.dst, flags: 'DF', id: 0 });
  }

  attach(link: ConversationLink): void {
    this.link = link;
  }

  /** Milliseconds since the conversation began. */
  now(): number {
    this.started ??= performance.now();
    return performance.now() - this.started;
  }

  private tsVal(): number {
    return (TS_OFFSET + Math.floor(performance.now())) >>> 0;
  }

  // ---------------------------------------------------------------------------------------
  // Building and sending segments (the manual level)

  /** The SYN's options, from the conversation options (Linux's order). */
  synOptions(): TCPOption[] {
    if (this.options.options) return this.options.options;
    const opts: TCPOption[] = [['MSS', this.options.mss ?? 1460]];
    if (this.options.sack !== false) opts.push(['SAckOK']);
    if (this.options.timestamps !== false) opts.push(['Timestamp', [this.tsVal(), 0]]);
    else if (this.options.sack !== false) opts.push(['NOP'], ['NOP']);
    if (this.options.wscale !== false) opts.push(['NOP'], ['WScale', this.ourWscale]);
    return opts;
  }

  /** The SYN-ACK's options: ours, limited to what the peer's SYN offered (RFC 7323, RFC 2018). */
  synAckOptions(): TCPOption[] {
    if (this.options.options) return this.options.options;
    const offered = (kind: string): boolean => this.peerSynOptions.some((o) => o[0] === kind);
    const opts: TCPOption[] = [['MSS', this.options.mss ?? 1460]];
    const sack = this.options.sack !== false && offered('SAckOK');
    const ts = this.timestamps;
    if (sack) opts.push(['SAckOK']);
    if (ts) opts.push(['Timestamp', [this.tsVal(), this.tsRecent]]);
    else if (sack) opts.push(['NOP'], ['NOP']);
    if (this.options.wscale !== false && offered('WScale')) opts.push(['NOP'], ['WScale', this.ourWscale]);
    return opts;
  }

  /** Builds a segment with seq, ack, window and timestamps filled from the conversation unless given. */
  segment(spec: SegmentSpec = {}): Packet {
    const flags = spec.flags === undefined ? TCPFlag.A : parseTCPFlags(spec.flags);
    const syn = (flags & TCPFlag.S) !== 0;
    let options = spec.options;
    if (options === undefined && this.timestamps && !syn && (flags & TCPFlag.R) === 0) {
      options = [['NOP'], ['NOP'], ['Timestamp', [this.tsVal(), this.tsRecent]]];
    }
    // SYNs carry the window unscaled (RFC 7323 §2.2); later segments carry it shifted by our wscale.
    const ourWindow = this.options.window ?? 64240;
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
    let p = this.ipHeader().add(tcp);
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
    const seq = tcp.get('seq');
    const len = payloadLength(p) + (flags & TCPFlag.S ? 1 : 0) + (flags & TCPFlag.F ? 1 : 0);
    const fresh = seq === this.sndNxt;
    if (fresh) this.sndNxt = seqAdd(this.sndNxt, len);
    if (flags & TCPFlag.R) {
      if (fresh) this.state = 'CLOSED';
    } else {
      if (flags & TCPFlag.S && this.state === 'CLOSED') this.state = 'SYN-SENT';
      if (flags & TCPFlag.F && fresh) this.afterOurFin();
    }
    // Any segment that acknowledges everything received carries the ACK we were holding.
    if (flags & TCPFlag.A && tcp.get('ack') === this.rcvNxt) this.cancelDelayedAck();
    await this.transmit(p);
    return p;
  }

  private afterOurFin(): void {
    if (this.state === 'ESTABLISHED' || this.state === 'SYN-RECEIVED') this.state = 'FIN-WAIT-1';
    else if (this.state === 'CLOSE-WAIT') this.state = 'LAST-ACK';
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
    const test = typeof match === 'function' ? match : compileMatch(match);
    if (opts.pending === false) this.inbox = [];
    for (let i = 0; i < this.inbox.length; i++) {
      const p = this.inbox[i]!;
      if (test(p.layer(TCPLayer), p)) {
        this.inbox.splice(0, i + 1);
        return Promise.resolve(p);
      }
    }
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    return this.wait(this.waiters, test, timeout, () => `no segment ${describeMatch(match)} from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms (state ${this.state})`);
  }

  private wait(set: Set<Waiter>, match: Matcher, timeout: number, message: () => string): Promise<Packet> {
    return new Promise<Packet>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(waiter);
          reject(new SynackError(message(), 'timeout'));
        }, timeout),
      };
      set.add(waiter);
    });
  }

  /**
   * Holds every segment that arrives from now on, unprocessed (no state change, no ACK, not in
   * the trace yet), until releaseHeld(). This is how a script makes segments cross on the
   * wire: see the peer's FIN arrive, send its own FIN as if it had not, then let the FIN in.
   * With `from`, segments are processed as usual until one matches; holding starts with it.
   */
  holdIncoming(from?: SegmentMatch | Matcher): void {
    if (from === undefined) this.held ??= [];
    else this.holdFrom = typeof from === 'function' ? from : compileMatch(from);
  }

  /** Waits until a held segment matches (one already held counts). */
  waitHeld(match: SegmentMatch | Matcher = {}, opts: { timeout?: number } = {}): Promise<Packet> {
    const test = typeof match === 'function' ? match : compileMatch(match);
    if (!this.held && !this.holdFrom) throw new SynackError('waitHeld() needs holdIncoming() first', 'usage');
    if (!this.held) return this.wait(this.heldWaiters, test, opts.timeout ?? DEFAULT_TIMEOUT, () => `no held segment ${describeMatch(match)} within ${opts.timeout ?? DEFAULT_TIMEOUT} ms`);
    const already = this.held.find((p) => test(p.layer(TCPLayer), p));
    if (already) return Promise.resolve(already);
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    return this.wait(this.heldWaiters, test, timeout, () => `no held segment ${describeMatch(match)} within ${timeout} ms`);
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
      for (const w of this.heldWaiters) {
        if (w.match(p.layer(TCPLayer), p)) {
          clearTimeout(w.timer);
          this.heldWaiters.delete(w);
          w.resolve(p);
        }
      }
      return;
    }
    this.process(p);
  }

  /** Bookkeeping, state, ACKs, then waiters, for one segment from the peer (RFC 9293 §3.10.7). */
  private process(p: Packet): void {
    const tcp = p.layer(TCPLayer);
    const f = tcp.flagBits;
    const seq = tcp.get('seq');
    const ack = tcp.get('ack');
    const data = payloadBytes(p);
    let ackNow = false;
    let ackLater = false;
    if (f & TCPFlag.R) {
      ackNow = this.onReset(seq, ack, f);
    } else if (this.state === 'LISTEN' || this.state === 'SYN-SENT' || this.state === 'CLOSED') {
      if (f & TCPFlag.S) this.onSyn(tcp, seq, ack, f);
    } else if (f & TCPFlag.S && !(this.state === 'SYN-RECEIVED' && seq === this.irs)) {
      // A SYN in a synchronized state (a retransmitted SYN-ACK whose ACK the peer lost, or a
      // forged SYN): RFC 5961 §4 answers with an ACK, and so does a lost-ACK recovery.
      ackNow = true;
    } else if (f & TCPFlag.S) {
      // The peer retransmitted its SYN: our SYN-ACK was lost; passiveOpen() resends it.
    } else {
      if (this.timestamps) this.noteTimestamp(tcp);
      if (f & TCPFlag.A) this.onAck(ack, tcp.get('window'));
      const inOrder = seq === this.rcvNxt;
      if (data.length > 0) {
        const accepted = this.onData(seq, data);
        if (!inOrder || !accepted) ackNow = true;
        else {
          this.unackedSegments++;
          // Every second full-sized segment is acked at once (RFC 9293 §3.8.6.3).
          if (this.unackedSegments >= 2 && data.length >= this.peerMssForAcks()) ackNow = true;
          else ackLater = true;
        }
      }
      if (f & TCPFlag.F) {
        const finSeq = seqAdd(seq, data.length);
        if (finSeq === this.rcvNxt && !this.peerFinSeen) {
          this.peerFinSeen = true;
          this.rcvNxt = seqAdd(this.rcvNxt, 1);
          this.onPeerFin();
          this.wakeData();
          // A FIN right behind data whose ACK is still waiting waits with it; alone, at once.
          if (this.ackTimer || ackLater) ackLater = true;
          else ackNow = true;
        } else ackNow = true;
      }
    }
    // Once our own FIN is out, no segment of ours is coming to carry the ACK of theirs.
    if (ackLater && this.peerFinSeen && this.state !== 'CLOSE-WAIT') ackNow = true;
    p.time ??= nowMicros();
    this.trace.push({ direction: 'in', time: this.now(), packet: p, state: this.state });
    if (this.options.autoAck !== false && this.state !== 'CLOSED' && this.state !== 'LISTEN' && this.state !== 'SYN-SENT') {
      if (ackNow || (ackLater && (this.options.ackDelay ?? 40) <= 0)) this.sendAckNow();
      else if (ackLater) this.scheduleAck();
    }
    for (const w of this.waiters) {
      if (w.match(tcp, p)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(p);
        return;
      }
    }
    this.inbox.push(p);
    if (this.inbox.length > 4096) this.inbox.shift();
  }

  private peerMssForAcks(): number {
    return Math.min(this.peerMss, this.options.mss ?? 1460);
  }

  /** RFC 9293 §3.10.7.4 with RFC 5961 §3: returns whether to answer with a challenge ACK. */
  private onReset(seq: number, ack: number, f: number): boolean {
    if (this.state === 'SYN-SENT') {
      if (!(f & TCPFlag.A) || ack !== this.sndNxt) return false;
      this.reset('connection refused');
      return false;
    }
    if (this.state === 'LISTEN' || this.state === 'CLOSED') return false;
    if (seq === this.rcvNxt) {
      this.reset('connection reset');
      return false;
    }
    // In the window but not exact: maybe forged; a challenge ACK lets a real peer try again.
    const window = Math.max(1, this.ourWindowBytes());
    return seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, window));
  }

  private reset(what: string): void {
    this.state = 'CLOSED';
    this.resetError = new SynackError(`${what} by ${this.endpoints.dst}.${this.endpoints.dport}`, 'system');
    this.cancelDelayedAck();
    this.wakeData();
  }

  private ourWindowBytes(): number {
    return this.options.window ?? 64240;
  }

  private onSyn(tcp: TCPLayer, seq: number, ack: number, f: number): void {
    if (f & TCPFlag.A) {
      // SYN-ACK: acceptable only in SYN-SENT, acking exactly our SYN.
      if (this.state !== 'SYN-SENT' || ack !== this.sndNxt) return;
      this.learnPeerOptions(tcp);
      this.irs = seq;
      this.rcvNxt = seqAdd(seq, 1);
      this.sndUna = ack;
      this.peerWindow = tcp.get('window');
      this.state = 'ESTABLISHED';
      return;
    }
    // A bare SYN: a passive open (LISTEN), or a simultaneous open (SYN-SENT).
    this.learnPeerOptions(tcp);
    this.irs = seq;
    this.rcvNxt = seqAdd(seq, 1);
    this.peerWindow = tcp.get('window');
    this.state = 'SYN-RECEIVED';
  }

  private learnPeerOptions(tcp: TCPLayer): void {
    let sawWscale = false;
    this.peerSynOptions = [...(tcp.get('options') ?? [])];
    for (const opt of this.peerSynOptions) {
      if (opt[0] === 'MSS' && typeof opt[1] === 'number') this.peerMss = opt[1];
      else if (opt[0] === 'WScale' && typeof opt[1] === 'number') {
        this.peerWscale = Math.min(opt[1], 14);
        sawWscale = true;
      } else if (opt[0] === 'SAckOK') this.sackPermitted = this.options.sack !== false;
      else if (opt[0] === 'Timestamp' && Array.isArray(opt[1])) {
        this.timestamps = this.options.timestamps !== false && !this.options.options;
        this.tsRecent = (opt[1] as readonly number[])[0]!;
      }
    }
    // Window scaling applies only when both sides offered it (RFC 7323 §2.2).
    if (!sawWscale || this.options.wscale === false) {
      this.peerWscale = 0;
      this.ourWscale = 0;
    }
  }

  private noteTimestamp(tcp: TCPLayer): void {
    for (const opt of tcp.get('options') ?? []) {
      if (opt[0] === 'Timestamp' && Array.isArray(opt[1])) this.tsRecent = (opt[1] as readonly number[])[0]!;
    }
  }

  private onAck(ack: number, window: number): void {
    if (seqGt(ack, this.sndUna) && seqLe(ack, this.sndNxt)) this.sndUna = ack;
    this.peerWindow = window * (1 << this.peerWscale);
    if (this.sndUna !== this.sndNxt) return;
    // Everything we sent is acknowledged, our SYN or FIN included.
    if (this.state === 'FIN-WAIT-1') this.state = 'FIN-WAIT-2';
    else if (this.state === 'CLOSING') this.state = 'TIME-WAIT';
    else if (this.state === 'LAST-ACK') this.state = 'CLOSED';
    else if (this.state === 'SYN-RECEIVED') this.state = 'ESTABLISHED';
  }

  /** Returns false for a segment that brought nothing new (an old duplicate). */
  private onData(seq: number, data: Buffer): boolean {
    const offset = seqDiff(this.rcvNxt, seq);
    if (offset >= data.length) return false;
    if (offset < 0) {
      // Ahead of what we expect: hold it until the gap fills (only within our window).
      if (-offset < this.ourWindowBytes() && !this.outOfOrder.has(seq)) this.outOfOrder.set(seq, Buffer.from(data));
      return true;
    }
    this.accept(data.subarray(offset));
    // Drain held segments that now fit.
    for (let progress = true; progress; ) {
      progress = false;
      for (const [s, held] of this.outOfOrder) {
        const off = seqDiff(this.rcvNxt, s);
        if (off < 0) continue;
        this.outOfOrder.delete(s);
        if (off < held.length) this.accept(held.subarray(off));
        progress = true;
      }
    }
    return true;
  }

  private accept(data: Buffer): void {
    this.received.push(data);
    this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    this.wakeData();
  }

  private wakeData(): void {
    for (const wake of this.dataWaiters) wake();
    this.dataWaiters.clear();
  }

  private onPeerFin(): void {
    if (this.state === 'ESTABLISHED' || this.state === 'SYN-RECEIVED') this.state = 'CLOSE-WAIT';
    else if (this.state === 'FIN-WAIT-1') this.state = this.sndUna === this.sndNxt ? 'TIME-WAIT' : 'CLOSING';
    else if (this.state === 'FIN-WAIT-2') this.state = 'TIME-WAIT';
  }

  private sendAckNow(): void {
    this.cancelDelayedAck();
    if (!this.link) return;
    void this.sendSegment({ flags: 'A' }).catch(() => undefined);
  }

  private scheduleAck(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (this.state !== 'CLOSED') this.sendAckNow();
    }, this.options.ackDelay ?? 40);
  }

  private cancelDelayedAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unackedSegments = 0;
  }

  // ---------------------------------------------------------------------------------------
  // Opening

  /** The active open: SYN (retransmitted with backoff), the peer's SYN-ACK, our ACK. */
  async handshake(timeout = DEFAULT_TIMEOUT): Promise<void> {
    const deadline = performance.now() + timeout;
    const synOptions = this.synOptions();
    this.state = 'SYN-SENT';
    const answered: Matcher = (t) => (t.flagBits & (TCPFlag.S | TCPFlag.A)) === (TCPFlag.S | TCPFlag.A) || (t.flagBits & TCPFlag.R) !== 0;
    await this.sendSegment({ flags: 'S', ack: 0, options: synOptions });
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

  /**
   * Sends data, cut at the peer's MSS and window, and waits until all of it is acknowledged,
   * retransmitting from snd.una after a timeout that doubles each time.
   */
  async send(data: Buffer | string, opts: { timeout?: number; retries?: number; rto?: number } = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.assertCanSend();
    const start = this.sndNxt;
    const end = seqAdd(start, bytes.length);
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
        const size = Math.min(this.peerMss, bytes.length - from, windowEnd - from);
        const last = from + size >= bytes.length;
        await this.sendSegment({ flags: last ? 'PA' : 'A', seq: seqAdd(start, from), data: bytes.subarray(from, from + size) });
        if (seqGt(seqAdd(start, from + size), this.sndNxt)) this.sndNxt = seqAdd(start, from + size);
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
      if (this.received.length > 0) {
        const out = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received);
        this.received.length = 0;
        return out;
      }
      if (this.resetError) throw this.resetError;
      if (this.peerFinSeen || this.state === 'CLOSED') return Buffer.alloc(0);
      const left = deadline - performance.now();
      if (left <= 0) throw new SynackError(`no data from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms (state ${this.state})`, 'timeout');
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.dataWaiters.delete(wake);
          resolve();
        }, left);
        this.dataWaiters.add(wake);
      });
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

  /**
   * Our FIN, then waits until the peer has acknowledged it (FIN-WAIT-2, or further when the
   * peer's FIN came too). The conversation stays attached: like shutdown(SHUT_WR), the peer
   * may still send, and a kernel peer that never closes sits in CLOSE-WAIT.
   */
  async shutdown(opts: { timeout?: number } = {}): Promise<void> {
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE-WAIT' || this.state === 'SYN-RECEIVED') {
      await this.sendSegment({ flags: 'FA' });
    }
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
      if (this.state === 'ESTABLISHED' || this.state === 'CLOSE-WAIT' || this.state === 'SYN-RECEIVED') {
        await this.sendSegment({ flags: 'FA' });
      }
      await this.waitFor(() => this.state === 'TIME-WAIT' || this.state === 'CLOSED', timeout, 'teardown incomplete');
      // An ACK still owed goes now: the wire is about to be released.
      if (this.ackTimer && this.state !== 'CLOSED') this.sendAckNow();
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
      this.state = 'CLOSED';
      await this.release();
    }
  }

  /** Releases the wire (capture, socket, guard) without sending anything. */
  async release(): Promise<void> {
    this.cancelDelayedAck();
    for (const set of [this.waiters, this.heldWaiters]) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new SynackError('conversation released', 'system'));
      }
      set.clear();
    }
    this.wakeData();
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }
}

function payloadBytes(p: Packet): Buffer {
  const raw = p.getLayer(RawLayer);
  return raw && raw.name === 'Raw' ? raw.load : EMPTY;
}

const EMPTY = Buffer.alloc(0);

function payloadLength(p: Packet): number {
  return payloadBytes(p).length;
}

function compileMatch(m: SegmentMatch): Matcher {
  const flags = m.flags !== undefined ? parseTCPFlags(m.flags) : undefined;
  const has = m.hasFlags !== undefined ? parseTCPFlags(m.hasFlags) : undefined;
  return (tcp, p) =>
    (flags === undefined || tcp.flagBits === flags) &&
    (has === undefined || (tcp.flagBits & has) === has) &&
    (m.seq === undefined || tcp.get('seq') === m.seq) &&
    (m.ack === undefined || tcp.get('ack') === m.ack) &&
    (m.length === undefined || payloadLength(p) === m.length) &&
    (m.test === undefined || m.test(tcp, p));
}

function describeMatch(m: SegmentMatch | Matcher): string {
  if (typeof m === 'function') return 'matching';
  const parts = Object.entries(m).filter(([k]) => k !== 'test').map(([k, v]) => `${k} ${String(v)}`);
  return parts.length ? `with ${parts.join(', ')}` : 'at all';
}
