/**
 * A TCP conversation driven by hand from crafted segments: the handshake, data with its ACKs,
 * every teardown, and a manual level ("send exactly this", "wait for a segment like that")
 * for scripts that deviate. It keeps RFC 9293's bookkeeping (snd.una, snd.nxt, rcv.nxt, both
 * windows with scaling, timestamps) and state names, and a trace of every segment both ways.
 *
 * The wire is a ConversationLink (sending IP packets, delivering the peer's segments on this
 * 4-tuple); connect() in connect.ts makes one from raw sockets and a capture, with the
 * kernel-RST guard around it.
 */
import { SynackError } from '../wire/errors.js';
import { Packet } from '../packet/packet.js';
import { IP, TCP } from '../packet/factories.js';
import { layerByName } from '../layers/registry.js';
import { TCPFlag, TCPLayer, parseTCPFlags } from '../layers/tcp.js';
import type { TCPOption } from '../layers/tcp-options.js';
import { isIPv6 } from '../wire/addr.js';
import { RawLayer } from '../layers/raw.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './states.js';

export interface ConversationLink {
  /** Sends one IP packet, marked so that the kernel-RST guard lets it through. */
  send(packet: Packet): Promise<void>;
  /** Stops delivery and releases the link's sockets, captures and guard. */
  close(): Promise<void>;
}

/** One segment of the trace: who sent it, when (ms since the conversation began), and the state after it. */
export interface TraceEntry {
  direction: 'out' | 'in';
  time: number;
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
  /** Exactly these options on the SYN instead of the ones above. */
  options?: TCPOption[];
  /** Ack the peer's data and FIN as they arrive (the default); false to watch the peer retransmit. */
  autoAck?: boolean;
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
  /** Exactly these flags (letters as tcpdump's, e.g. 'SA', 'FA', 'R'). */
  flags?: string;
  /** At least these flags set. */
  hasFlags?: string;
  seq?: number;
  ack?: number;
  /** Payload length. */
  length?: number;
  test?: (segment: TCPLayer, packet: Packet) => boolean;
}

interface Waiter {
  match: (tcp: TCPLayer, p: Packet) => boolean;
  resolve: (p: Packet) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT = 2000;

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
  /** Whether both sides agreed to timestamps; our TSval, and the last TSval the peer sent (our TSecr). */
  timestamps = false;
  tsRecent = 0;
  sackPermitted = false;

  /** When the first segment left: trace times count from it (not from the guard's set-up). */
  private started: number | undefined;
  private readonly tsBase = Math.floor(Math.random() * 0x7fffffff);
  private readonly inbox: Packet[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly received: Buffer[] = [];
  private readonly outOfOrder = new Map<number, Buffer>();
  private peerFinSeen = false;
  private dataWaiters = new Set<() => void>();
  private resetError: Error | undefined;
  private link: ConversationLink | undefined;
  private readonly ourFlagsForIp: () => Packet;

  constructor(
    readonly endpoints: Endpoints,
    readonly options: ConversationOptions = {},
  ) {
    this.iss = (options.isn ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.ourWscale = options.wscale === false ? 0 : (options.wscale ?? 7);
    const v6 = isIPv6(endpoints.dst);
    const IPv6 = v6 ? layerByName('IPv6') : undefined;
    if (v6 && !IPv6) throw new SynackError('IPv6 is not available in this build', 'system');
    this.ourFlagsForIp = v6
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
    return (this.tsBase + Math.floor(this.now())) >>> 0;
  }

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

  /** Builds a segment with seq, ack, window and timestamps filled from the conversation unless given. */
  segment(spec: SegmentSpec = {}): Packet {
    const flags = spec.flags === undefined ? TCPFlag.A : parseTCPFlags(spec.flags);
    const syn = (flags & TCPFlag.S) !== 0;
    let options = spec.options;
    if (options === undefined && this.timestamps && !syn) {
      options = [['NOP'], ['NOP'], ['Timestamp', [this.tsVal(), this.tsRecent]]];
    }
    // SYNs carry the window unscaled (RFC 7323 §2.2); later segments carry it shifted by our wscale.
    const ourWindow = this.options.window ?? 64240;
    const window = spec.window ?? (syn ? ourWindow : Math.min(0xffff, Math.max(1, ourWindow >> this.ourWscale)));
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
    let p = this.ourFlagsForIp().add(tcp);
    if (spec.data !== undefined && spec.data.length > 0) p = p.add(spec.data);
    return p;
  }

  /**
   * Sends exactly this segment (the manual level). Sequence space is consumed by what it
   * carries only when it starts at snd.nxt, so old duplicates and out-of-window probes do not
   * disturb the bookkeeping.
   */
  async sendSegment(spec: SegmentSpec = {}): Promise<Packet> {
    const p = this.segment(spec);
    const tcp = p.layer(TCPLayer);
    const flags = tcp.flagBits;
    const len = payloadLength(p) + (flags & TCPFlag.S ? 1 : 0) + (flags & TCPFlag.F ? 1 : 0);
    if (tcp.get('seq') === this.sndNxt) this.sndNxt = seqAdd(this.sndNxt, len);
    if (flags & TCPFlag.R) this.state = 'CLOSED';
    else if (flags & TCPFlag.F) this.afterOurFin();
    await this.transmit(p);
    return p;
  }

  private afterOurFin(): void {
    if (this.state === 'ESTABLISHED' || this.state === 'SYN-RECEIVED') this.state = 'FIN-WAIT-1';
    else if (this.state === 'CLOSE-WAIT') this.state = 'LAST-ACK';
  }

  private async transmit(p: Packet): Promise<void> {
    if (!this.link) throw new SynackError('conversation is not attached to the wire', 'system');
    this.trace.push({ direction: 'out', time: this.now(), packet: p, state: this.state });
    await this.link.send(p);
  }

  /**
   * Waits for a segment from the peer that matches, taking segments already received and not
   * yet consumed first, so that "send, then expect" has no race.
   */
  expect(match: SegmentMatch | ((tcp: TCPLayer, p: Packet) => boolean) = {}, opts: { timeout?: number } = {}): Promise<Packet> {
    const test = typeof match === 'function' ? match : compileMatch(match);
    for (let i = 0; i < this.inbox.length; i++) {
      const p = this.inbox[i]!;
      if (test(p.layer(TCPLayer), p)) {
        this.inbox.splice(0, i + 1);
        return Promise.resolve(p);
      }
    }
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    return new Promise<Packet>((resolve, reject) => {
      const waiter: Waiter = {
        match: test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new SynackError(`no segment ${describeMatch(match)} from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms (state ${this.state})`, 'timeout'));
        }, timeout),
      };
      this.waiters.add(waiter);
    });
  }

  /** Feeds one segment from the peer: bookkeeping, state, auto-ACK, then waiters. */
  deliver(p: Packet): void {
    const tcp = p.getLayer(TCPLayer);
    if (!tcp) return;
    const f = tcp.flagBits;
    const seq = tcp.get('seq');
    const ack = tcp.get('ack');
    const dataLength = payloadLength(p);
    let needAck = false;
    if (f & TCPFlag.R) {
      this.state = 'CLOSED';
      this.resetError = new SynackError(`connection reset by ${this.endpoints.dst}.${this.endpoints.dport}`, 'system');
      this.wakeData();
    } else if (f & TCPFlag.S) {
      this.learnPeerOptions(tcp);
      this.irs = seq;
      this.rcvNxt = seqAdd(seq, 1);
      if (f & TCPFlag.A && this.state === 'SYN-SENT' && ack === this.sndNxt) {
        this.sndUna = ack;
        this.state = 'ESTABLISHED';
      } else if (this.state === 'LISTEN') this.state = 'SYN-RECEIVED';
      this.peerWindow = tcp.get('window');
    } else {
      if (this.timestamps) this.noteTimestamp(tcp);
      if (f & TCPFlag.A) this.onAck(ack, tcp.get('window'));
      if (dataLength > 0) {
        this.onData(seq, payloadBytes(p));
        needAck = true;
      }
      if (f & TCPFlag.F) {
        const finSeq = seqAdd(seq, dataLength);
        if (finSeq === this.rcvNxt && !this.peerFinSeen) {
          this.peerFinSeen = true;
          this.rcvNxt = seqAdd(this.rcvNxt, 1);
          this.onPeerFin();
          this.wakeData();
        }
        needAck = true;
      }
    }
    this.trace.push({ direction: 'in', time: this.now(), packet: p, state: this.state });
    if (needAck && this.options.autoAck !== false && this.state !== 'CLOSED') {
      void this.sendSegment({ flags: 'A' }).catch(() => undefined);
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

  private learnPeerOptions(tcp: TCPLayer): void {
    let sawWscale = false;
    for (const opt of tcp.get('options') ?? []) {
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
    // Everything we sent is acknowledged, our FIN included.
    if (this.state === 'FIN-WAIT-1') this.state = 'FIN-WAIT-2';
    else if (this.state === 'CLOSING') this.state = 'TIME-WAIT';
    else if (this.state === 'LAST-ACK') this.state = 'CLOSED';
    else if (this.state === 'SYN-RECEIVED') this.state = 'ESTABLISHED';
  }

  private onData(seq: number, data: Buffer): void {
    const offset = seqDiff(this.rcvNxt, seq);
    if (offset >= data.length) return; // an old duplicate
    if (offset < 0) {
      // Ahead of what we expect: hold it until the gap fills.
      if (!this.outOfOrder.has(seq)) this.outOfOrder.set(seq, data);
      return;
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

  /** The handshake's first two steps from our side: SYN, then the peer's SYN-ACK, then our ACK. */
  async handshake(timeout = DEFAULT_TIMEOUT): Promise<void> {
    this.state = 'SYN-SENT';
    await this.sendSegment({ flags: 'S', ack: 0, options: this.synOptions() });
    const synAck = await this.expect((t) => (t.flagBits & (TCPFlag.S | TCPFlag.A)) === (TCPFlag.S | TCPFlag.A) || (t.flagBits & TCPFlag.R) !== 0, { timeout });
    if (synAck.layer(TCPLayer).flagBits & TCPFlag.R) {
      throw new SynackError(`connection refused: ${this.endpoints.dst}.${this.endpoints.dport} answered the SYN with RST`, 'timeout');
    }
    await this.sendSegment({ flags: 'A' });
  }

  /**
   * Sends data, cut at the peer's MSS and window, and waits until all of it is acknowledged,
   * retransmitting from snd.una after a timeout that doubles each time.
   */
  async send(data: Buffer | string, opts: { timeout?: number; retries?: number } = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.assertCanSend();
    const start = this.sndNxt;
    const end = seqAdd(start, bytes.length);
    let rto = 200;
    const retries = opts.retries ?? 6;
    const deadline = performance.now() + (opts.timeout ?? 10_000);
    for (let attempt = 0; ; attempt++) {
      // (Re)send everything from snd.una that the window allows.
      let from = Math.max(0, seqDiff(this.sndUna, start));
      const windowEnd = Math.max(from + 1, seqDiff(seqAdd(this.sndUna, Math.max(this.peerWindow, 1)), start));
      while (from < bytes.length && from < windowEnd) {
        const size = Math.min(this.peerMss, bytes.length - from, windowEnd - from);
        const last = from + size >= bytes.length;
        await this.sendSegment({ flags: last ? 'PA' : 'A', seq: seqAdd(start, from), data: bytes.subarray(from, from + size) });
        if (seqGt(seqAdd(start, from + size), this.sndNxt)) this.sndNxt = seqAdd(start, from + size);
        from += size;
      }
      try {
        // deliver() has already applied each segment's ACK when a waiter sees it.
        await this.expect(() => !seqLt(this.sndUna, end) || this.resetError !== undefined, { timeout: rto });
      } catch {
        // No ACK in time: retransmit with a doubled timeout.
      }
      if (this.resetError) throw this.resetError;
      if (!seqLt(this.sndUna, end)) return;
      if (attempt >= retries || performance.now() > deadline) {
        throw new SynackError(`${seqDiff(end, this.sndUna)} bytes unacknowledged by ${this.endpoints.dst}.${this.endpoints.dport} after ${attempt + 1} tries`, 'timeout');
      }
      rto = Math.min(rto * 2, 4000);
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
        const out = Buffer.concat(this.received);
        this.received.length = 0;
        return out;
      }
      if (this.peerFinSeen || this.state === 'CLOSED') {
        if (this.resetError) throw this.resetError;
        return Buffer.alloc(0);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new SynackError(`no data from ${this.endpoints.dst}.${this.endpoints.dport} within ${timeout} ms (state ${this.state})`, 'timeout');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.dataWaiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
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

  /**
   * Closes from our side, whatever the peer does: the active close (FIN-WAIT-1, FIN-WAIT-2,
   * TIME-WAIT), the simultaneous close (CLOSING), or, when the peer closed first, LAST-ACK.
   */
  async close(opts: { timeout?: number } = {}): Promise<void> {
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    try {
      if (this.state === 'ESTABLISHED' || this.state === 'CLOSE-WAIT' || this.state === 'SYN-RECEIVED') {
        await this.sendSegment({ flags: 'FA' });
      }
      const done = (): boolean => this.state === 'TIME-WAIT' || this.state === 'CLOSED';
      const deadline = performance.now() + timeout;
      while (!done()) {
        const left = deadline - performance.now();
        if (left <= 0) throw new SynackError(`teardown incomplete: stuck in ${this.state} after ${timeout} ms`, 'timeout');
        await this.expect(() => true, { timeout: left }).catch(() => undefined);
      }
    } finally {
      await this.release();
    }
  }

  /** Sends RST and releases the link. */
  async abort(): Promise<void> {
    try {
      if (this.state !== 'CLOSED') await this.sendSegment({ flags: 'RA' });
    } finally {
      this.state = 'CLOSED';
      await this.release();
    }
  }

  /** Releases the wire (capture, socket, guard) without sending anything. */
  async release(): Promise<void> {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new SynackError('conversation released', 'system'));
    }
    this.waiters.clear();
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }
}

function payloadBytes(p: Packet): Buffer {
  const raw = p.getLayer(RawLayer);
  return raw && raw.name === 'Raw' ? raw.load : Buffer.alloc(0);
}

function payloadLength(p: Packet): number {
  return payloadBytes(p).length;
}

function compileMatch(m: SegmentMatch): (tcp: TCPLayer, p: Packet) => boolean {
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

function describeMatch(m: SegmentMatch | ((tcp: TCPLayer, p: Packet) => boolean)): string {
  if (typeof m === 'function') return 'matching';
  const parts = Object.entries(m).filter(([k]) => k !== 'test').map(([k, v]) => `${k} ${String(v)}`);
  return parts.length ? `with ${parts.join(', ')}` : 'at all';
}
