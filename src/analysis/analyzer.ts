/**
 * The per-stream TCP analyzer: feed it frames one at a time (from a file, sniff() or a
 * conversation's trace) and it says, for each TCP segment, what Wireshark's analysis says
 * (stream index, relative seq/ack, expert flags, ack RTT, bytes in flight, initial RTT) and
 * what state each endpoint is in.
 *
 *   const a = new Analyzer();
 *   for (const rec of readPcapSync('f.pcap')) {
 *     const s = a.add(rec);             // undefined when the frame is not TCP
 *     if (s?.flags.length) console.log(s.frame, s.stream, s.flags);
 *   }
 *
 * Memory: per open stream a few hundred bytes plus its unacknowledged segments (at most
 * Wireshark's 10000). A stream that ends (RST, or both FINs acknowledged) drops its segment
 * lists and joins a bounded list of recently closed streams, so that late retransmissions
 * still get its index; beyond MAX_CLOSED the oldest closed streams are forgotten, and beyond
 * MAX_OPEN open streams the oldest is closed. So memory is flat in the number of packets.
 */
import type { TcpState } from '../tcp/states.js';
import { EndpointPair } from './endpoint.js';
import { Flag, flagLabels, flagNames, type FlagName } from './flags.js';
import { decodeFrame, FrameView, newOptions, readTcpOptions, Transport } from './frame.js';
import { analyzeSegment, Flow, SegmentFacts, type SegmentIn } from './sequence.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

export const MAX_OPEN = 200_000;
// Shared by every ordinary segment (most of them): frozen, so no caller can change them.
const NO_FLAGS: readonly FlagName[] = Object.freeze([]);
const NO_LABELS: readonly string[] = Object.freeze([]);
export const MAX_CLOSED = 4096;

/** A frame as the analyzer takes it: a PcapRecord fits, so does { data, linkType, seconds, nanos }. */
export interface FrameInput {
  data: Buffer;
  linkType: number;
  /** Whole seconds and nanoseconds of the timestamp. */
  seconds: number;
  nanos: number;
}

/** One endpoint of a stream: address text and port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** What the analyzer says about one TCP segment. */
export interface SegmentAnalysis {
  /** Frame number in the input, from 1 (every frame counts, TCP or not), as Wireshark numbers them. */
  frame: number;
  /** Wireshark's tcp.stream. */
  stream: number;
  /** true when the client (the side that sent the first segment, normally the SYN) sent it. */
  fromClient: boolean;
  /** Relative sequence and acknowledgement numbers (tcp.seq, tcp.ack; ack 0 without the ACK flag). */
  seq: number;
  ack: number;
  /** Relative next sequence number (tcp.nxtseq). */
  nextSeq: number;
  /** Payload bytes (tcp.len). */
  length: number;
  /** TCP flag bits as on the wire. */
  tcpFlags: number;
  /** Raw window field, and the window scaled as Wireshark scales it (tcp.window_size). */
  window: number;
  scaledWindow: number;
  /** Analysis flags, as tcp.analysis.<name> fields. Empty for an ordinary segment. */
  flags: FlagName[];
  /** The same, as bits (see Flag). */
  flagBits: number;
  /** Wireshark's Info-column words: 'TCP Retransmission', 'TCP Dup ACK 5#3'. */
  labels: string[];
  /** For a duplicate ACK: its number (#n) and the frame it duplicates. */
  duplicateAck?: { number: number; of: number };
  /** The frame this segment's ACK acknowledges and the time it took, seconds (tcp.analysis.acks_frame, ack_rtt). */
  acks?: { frame: number; rtt: number };
  /** tcp.analysis.bytes_in_flight. */
  bytesInFlight?: number;
  /** tcp.analysis.initial_rtt (seconds) where Wireshark shows it. */
  initialRtt?: number;
  /** For a retransmission: the segment first sent and the time since, seconds (tcp.analysis.rto). */
  rto?: { frame: number; seconds: number };
  /** Both endpoints' states after this segment. */
  client: TcpState;
  server: TcpState;
  /** Seconds since the stream's first segment (tcp.time_relative). */
  time: number;
}

/** One TCP stream. */
export class Stream {
  readonly index: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** The client's address key and port, to tell directions apart. */
  readonly clientKey: string;
  readonly clientPort: number;
  /** IPv4 streams: both addresses as numbers, and the stream's slot in the analyzer's IPv4 table (-1: none). */
  readonly client4: number;
  readonly server4: number;
  readonly serverPort: number;
  hash4 = -1;
  /** The next open IPv4 stream with the same hash. */
  next4: Stream | undefined;
  readonly c2s = new Flow();
  readonly s2c = new Flow();
  readonly states: EndpointPair;
  /** ns: start, most recent SYN (no ACK), initial RTT (0: not yet). */
  readonly startNs: number;
  synNs = -1;
  irttNs = 0;
  ended = false;
  /** Segments seen. */
  segments = 0;
  /** Ladder/explain helpers: did the client or server FIN first, RSTs... */
  firstFin: 'client' | 'server' | undefined;
  /** The stream's 4-tuple key in the analyzer's tables. */
  key = '';
  /** Room for what a consumer keeps per stream (the explainer's notes); dropped with the stream. */
  context: unknown;

  constructor(index: number, v: FrameView, startNs: number) {
    this.index = index;
    this.clientKey = v.srcKey;
    this.clientPort = v.sport;
    this.client4 = v.src4;
    this.server4 = v.dst4;
    this.serverPort = v.dport;
    this.client = { address: v.srcText(), port: v.sport };
    this.server = { address: v.dstText(), port: v.dport };
    this.startNs = startNs;
    this.states = new EndpointPair();
  }

  /** Drop what only an open stream needs. */
  release(): void {
    this.c2s.release();
    this.s2c.release();
    this.ended = true;
  }
}

/** Is the frame from the stream's client? */
const fromClientOf = (stream: Stream, v: FrameView): boolean =>
  v.sport === stream.clientPort && (v.ipVersion === 4 ? v.src4 === stream.client4 : v.srcKey === stream.clientKey);

/** One endpoint (IPv4 address and port) mixed to 32 bits. */
const mix4 = (address: number, port: number): number => {
  let h = Math.imul(address ^ Math.imul(port, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35);
};

/** The IPv4 table's key: the same for both directions (xor), and a small integer (30 bits). */
export const hash4 = (srcAddr: number, sport: number, dstAddr: number, dport: number): number => (mix4(srcAddr, sport) ^ mix4(dstAddr, dport)) & 0x3fffffff;

/**
 * Wireshark's new stream on a known 4-tuple: a SYN without ACK whose seq is not the base seq
 * this direction began with (port numbers reused). The StreamIndexer numbers by it too.
 */
export const opensNewStream = (flags: number, baseSet: boolean, baseSeq: number, seq: number): boolean =>
  (flags & (SYN | ACK)) === SYN && baseSet && seq !== baseSeq;

/**
 * A SYN-ACK whose seq is not its direction's base seq (ports reused, the same stream): tshark
 * 4.0 makes that seq the direction's base, for the relative numbers after it and for the next
 * SYN's opensNewStream test.
 */
export const movesBaseSeq = (flags: number, baseSet: boolean, baseSeq: number, seq: number): boolean =>
  (flags & (SYN | ACK)) === (SYN | ACK) && baseSet && seq !== baseSeq;

const sameTuple4 = (s: Stream, v: FrameView): boolean =>
  (v.sport === s.clientPort && v.dport === s.serverPort && v.src4 === s.client4 && v.dst4 === s.server4) ||
  (v.dport === s.clientPort && v.sport === s.serverPort && v.dst4 === s.client4 && v.src4 === s.server4);

/** The 4-tuple as a string key, the same for both directions. */
export const tupleKey = (v: FrameView): string =>
  v.srcKey < v.dstKey || (v.srcKey === v.dstKey && v.sport <= v.dport)
    ? `${v.srcKey}${v.sport} ${v.dstKey}${v.dport}`
    : `${v.dstKey}${v.dport} ${v.srcKey}${v.sport}`;

export interface AnalyzerOptions {
  /** Called when a stream is first seen. */
  onStream?: (s: Stream) => void;
  /**
   * add() fills one result object (and its nested ones) again for every segment instead of
   * making new ones: for a caller that is done with each result before the next add(), such
   * as --explain. A million results are a million objects the collector must otherwise sweep.
   */
  reuseResult?: boolean;
}

export class Analyzer {
  /** Frames offered so far (the frame number of the last one). */
  frames = 0;
  /** Streams numbered so far. */
  streamCount = 0;
  private readonly open = new Map<string, Stream>();
  /**
   * IPv4 open streams by a hash of their endpoints that is the same both ways and fits a small
   * integer (so the map neither boxes its keys nor builds a string per packet); streams whose
   * hashes collide are chained through Stream.next4.
   */
  private readonly open4 = new Map<number, Stream>();
  private readonly closed = new Map<string, Stream>();
  /**
   * Closed streams in the order they closed (some since forgotten or replaced under their key):
   * the oldest is found here, not by iterating `closed`, since a Map iterates over the holes its
   * deletions leave at its front, and every close walked thousands of them.
   */
  private closedOrder: Stream[] = [];
  private closedHead = 0;
  private readonly view = new FrameView();
  private readonly facts = new SegmentFacts();
  private readonly options = newOptions();
  private readonly seg: SegmentIn = { frame: 0, time: 0, seq: 0, ack: 0, seglen: 0, flags: 0, window: 0 };
  private baseSeconds = -1;
  private baseNanos = 0;
  private readonly onStream: ((s: Stream) => void) | undefined;
  /** The result add() fills again each time (reuseResult), and its nested objects. */
  private readonly reused: SegmentAnalysis | undefined;
  private readonly reusedDup = { number: 0, of: 0 };
  private readonly reusedAcks = { frame: 0, rtt: 0 };
  private readonly reusedRto = { frame: 0, seconds: 0 };

  constructor(opts: AnalyzerOptions = {}) {
    this.onStream = opts.onStream;
    if (opts.reuseResult) {
      this.reused = {
        frame: 0, stream: 0, fromClient: false, seq: 0, ack: 0, nextSeq: 0, length: 0, tcpFlags: 0, window: 0, scaledWindow: 0,
        flags: NO_FLAGS as FlagName[], flagBits: 0, labels: NO_LABELS as string[], duplicateAck: undefined, acks: undefined,
        bytesInFlight: undefined, initialRtt: undefined, rto: undefined, client: 'CLOSED', server: 'CLOSED', time: 0,
      };
    }
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.open.size;
  }

  /** The frame just added, decoded (valid until the next add). */
  get lastFrame(): FrameView {
    return this.view;
  }

  /** The stream of the last TCP segment added. */
  lastStream: Stream | undefined;

  /** Analyses one frame; undefined when it is not a TCP segment (it still counts as a frame). */
  add(rec: FrameInput): SegmentAnalysis | undefined {
    const time = this.decode(rec.data, 0, rec.data.length, rec.linkType, rec.seconds, rec.nanos);
    return Number.isNaN(time) ? undefined : this.segment(this.frames, time, this.view, true);
  }

  /**
   * Analyses one frame like add(), every rule and both states included, but returns only the
   * stream index (-1: not TCP) instead of building the result: for counting and following.
   */
  track(rec: FrameInput): number {
    return this.trackAt(rec.data, 0, rec.data.length, rec.linkType, rec.seconds, rec.nanos);
  }

  /**
   * track() for a frame where it lies, buf[start, start + caplen) (a read chunk, see
   * scanFramesSync): no record and no slice per frame. lastFrame's offsets are then in buf.
   */
  trackAt(buf: Buffer, start: number, caplen: number, linkType: number, seconds: number, nanos: number): number {
    const time = this.decode(buf, start, caplen, linkType, seconds, nanos);
    if (Number.isNaN(time)) return -1;
    this.segment(this.frames, time, this.view, false);
    return this.lastStream!.index;
  }

  /** Counts and decodes a frame: its time in ns since the first frame (negative when stamped earlier), NaN when it is not a TCP segment. */
  private decode(buf: Buffer, start: number, caplen: number, linkType: number, seconds: number, nanos: number): number {
    this.frames++;
    if (this.baseSeconds < 0) {
      this.baseSeconds = seconds;
      this.baseNanos = nanos;
    }
    const v = this.view;
    if (!decodeFrame(buf, start, caplen, linkType, v) || v.transport !== Transport.TCP || v.short) {
      this.lastStream = undefined;
      return NaN;
    }
    return (seconds - this.baseSeconds) * 1e9 + (nanos - this.baseNanos);
  }

  private segment(frame: number, time: number, v: FrameView, build: true): SegmentAnalysis;
  private segment(frame: number, time: number, v: FrameView, build: false): undefined;
  private segment(frame: number, time: number, v: FrameView, build: boolean): SegmentAnalysis | undefined {
    let hash = -1;
    let stream: Stream | undefined;
    if (v.ipVersion === 4) {
      hash = hash4(v.src4, v.sport, v.dst4, v.dport);
      stream = this.open4.get(hash);
      while (stream && !sameTuple4(stream, v)) stream = stream.next4;
    }
    let key = '';
    if (!stream) {
      key = tupleKey(v);
      stream = this.open.get(key) ?? this.closed.get(key);
    }
    const flags = v.flags;
    let reused = false;
    if (stream) {
      const fromClient = fromClientOf(stream, v);
      const fwd = fromClient ? stream.c2s : stream.s2c;
      // A new SYN with another ISN on the same ports: a new stream (Wireshark's "port numbers reused").
      if (opensNewStream(flags, fwd.baseSet, fwd.baseSeq, v.seq)) {
        this.forget(key || tupleKey(v), stream);
        stream = undefined;
        reused = true;
      } else if (movesBaseSeq(flags, fwd.baseSet, fwd.baseSeq, v.seq)) {
        reused = true;
        fwd.baseSeq = v.seq;
      }
    }
    if (!stream) {
      stream = new Stream(this.streamCount++, v, time);
      if (this.open.size >= MAX_OPEN) {
        const [oldKey, old] = this.open.entries().next().value as [string, Stream];
        this.close(oldKey, old);
      }
      key ||= tupleKey(v);
      stream.key = key;
      this.open.set(key, stream);
      if (hash >= 0) {
        stream.hash4 = hash;
        stream.next4 = this.open4.get(hash);
        this.open4.set(hash, stream);
      }
      this.onStream?.(stream);
    }
    this.lastStream = stream;
    stream.segments++;
    const fromClient = fromClientOf(stream, v);
    const fwd = fromClient ? stream.c2s : stream.s2c;
    const rev = fromClient ? stream.s2c : stream.c2s;

    const s = this.seg;
    s.frame = frame;
    s.time = time;
    s.seq = v.seq;
    s.ack = v.ack;
    s.seglen = v.seglen;
    s.flags = flags;
    s.window = v.window;
    const facts = this.facts;
    facts.reset();
    if (reused) {
      facts.flags = Flag.REUSED_PORTS;
      facts.analysed = true;
    }
    analyzeSegment(s, fwd, rev, stream.irttNs, facts);

    // Options after the analysis, as Wireshark dissects them: window scale, SACK blocks.
    const opts = v.optionsLength > 0 ? readTcpOptions(v.bytes, v.optionsOffset, v.optionsLength, this.options) : undefined;
    if (fwd.sack.length) fwd.sack.length = 0;
    if (opts && opts.sack.length) for (const n of opts.sack) fwd.sack.push(n);
    if (flags & SYN) {
      if (opts && opts.wscale >= 0) fwd.winScale = opts.wscale;
      if (fwd.winScale === -1) {
        fwd.winScale = -2;
        rev.winScale = -2;
      } else if (flags & ACK && rev.winScale === -2) {
        fwd.winScale = -2;
      }
      if (!(flags & ACK)) stream.synNs = time;
    }
    fwd.isFirstAck = (flags & SYN) !== 0;
    if ((flags & (SYN | ACK)) === ACK && stream.synNs >= 0 && stream.irttNs === 0) stream.irttNs = time - stream.synNs;

    stream.states.segment(fromClient, flags, v.seq, v.ack, v.seglen, v.window, flags & SYN && opts ? opts.wscale : -1);
    if (flags & FIN && !stream.firstFin) stream.firstFin = fromClient ? 'client' : 'server';
    const ends = (flags & RST) !== 0 || (isClosed(stream.states.client) && isClosed(stream.states.server));
    if (!build) {
      if (ends && !stream.ended) this.close(stream.key, stream);
      return undefined;
    }

    const relSeq = (v.seq - fwd.baseSeq) >>> 0;
    const relAck = flags & ACK ? (v.ack - rev.baseSeq) >>> 0 : 0;
    let nextSeq = (relSeq + v.seglen) >>> 0;
    if (flags & (SYN | FIN) && v.seglen > 0) nextSeq = (nextSeq + 1) >>> 0;
    const scale = flags & SYN ? 0 : fwd.winScale >= 0 ? fwd.winScale : 0;
    const fl = facts.flags;
    const out = this.reused;
    if (out) {
      out.frame = frame;
      out.stream = stream.index;
      out.fromClient = fromClient;
      out.seq = relSeq;
      out.ack = relAck;
      out.nextSeq = nextSeq;
      out.length = v.seglen;
      out.tcpFlags = flags;
      out.window = v.window;
      out.scaledWindow = v.window * (1 << scale);
      out.flags = fl ? flagNames(fl) : (NO_FLAGS as FlagName[]);
      out.flagBits = fl;
      out.labels = fl ? flagLabels(fl, facts.dupAckFrame, facts.dupAckNum) : (NO_LABELS as string[]);
      let dup: SegmentAnalysis['duplicateAck'];
      if (fl & Flag.DUPLICATE_ACK) {
        dup = this.reusedDup;
        dup.number = facts.dupAckNum;
        dup.of = facts.dupAckFrame;
      }
      out.duplicateAck = dup;
      let acks: SegmentAnalysis['acks'];
      if (facts.ackedFrame) {
        acks = this.reusedAcks;
        acks.frame = facts.ackedFrame;
        acks.rtt = facts.ackRttNs / 1e9;
      }
      out.acks = acks;
      out.bytesInFlight = facts.bytesInFlight >= 0 ? facts.bytesInFlight : undefined;
      out.initialRtt = facts.analysed && stream.irttNs !== 0 ? stream.irttNs / 1e9 : undefined;
      let rto: SegmentAnalysis['rto'];
      if (facts.rtoFrame) {
        rto = this.reusedRto;
        rto.frame = facts.rtoFrame;
        rto.seconds = facts.rtoNs / 1e9;
      }
      out.rto = rto;
      out.client = stream.states.client;
      out.server = stream.states.server;
      out.time = (time - stream.startNs) / 1e9;
      if (ends && !stream.ended) this.close(stream.key, stream);
      return out;
    }
    const made: SegmentAnalysis = {
      frame,
      stream: stream.index,
      fromClient,
      seq: relSeq,
      ack: relAck,
      nextSeq,
      length: v.seglen,
      tcpFlags: flags,
      window: v.window,
      scaledWindow: v.window * (1 << scale),
      flags: fl ? flagNames(fl) : (NO_FLAGS as FlagName[]),
      flagBits: fl,
      labels: fl ? flagLabels(fl, facts.dupAckFrame, facts.dupAckNum) : (NO_LABELS as string[]),
      // Every field present in every object: one shape, so the JIT keeps property access fast.
      duplicateAck: fl & Flag.DUPLICATE_ACK ? { number: facts.dupAckNum, of: facts.dupAckFrame } : undefined,
      acks: facts.ackedFrame ? { frame: facts.ackedFrame, rtt: facts.ackRttNs / 1e9 } : undefined,
      bytesInFlight: facts.bytesInFlight >= 0 ? facts.bytesInFlight : undefined,
      initialRtt: facts.analysed && stream.irttNs !== 0 ? stream.irttNs / 1e9 : undefined,
      rto: facts.rtoFrame ? { frame: facts.rtoFrame, seconds: facts.rtoNs / 1e9 } : undefined,
      client: stream.states.client,
      server: stream.states.server,
      time: (time - stream.startNs) / 1e9,
    };

    if (ends && !stream.ended) this.close(stream.key, stream);
    return made;
  }

  private dropOpen4(stream: Stream): void {
    if (stream.hash4 < 0) return;
    let s = this.open4.get(stream.hash4);
    if (s === stream) {
      if (stream.next4) this.open4.set(stream.hash4, stream.next4);
      else this.open4.delete(stream.hash4);
    } else {
      while (s && s.next4 !== stream) s = s.next4;
      if (s) s.next4 = stream.next4;
    }
    stream.next4 = undefined;
    stream.hash4 = -1;
  }

  private close(key: string, stream: Stream): void {
    stream.release();
    this.dropOpen4(stream);
    if (this.open.get(key) === stream) this.open.delete(key);
    this.closed.set(key, stream);
    this.closedOrder.push(stream);
    while (this.closed.size > MAX_CLOSED) {
      const oldest = this.closedOrder[this.closedHead++]!;
      if (this.closed.get(oldest.key) === oldest) this.closed.delete(oldest.key);
    }
    // Bounded: entries before the head, and those no longer in `closed`, are dropped now and then.
    if (this.closedOrder.length - this.closedHead > 2 * MAX_CLOSED || this.closedHead > MAX_CLOSED) {
      this.closedOrder = this.closedOrder.slice(this.closedHead).filter((s) => this.closed.get(s.key) === s);
      this.closedHead = 0;
    }
  }

  private forget(key: string, stream: Stream): void {
    stream.release();
    this.dropOpen4(stream);
    if (this.open.get(key) === stream) this.open.delete(key);
    if (this.closed.get(key) === stream) this.closed.delete(key);
  }
}

const isClosed = (s: TcpState): boolean => s === 'CLOSED' || s === 'TIME-WAIT' || s === 'LISTEN';

/** Every TCP segment of `frames`, analysed. */
export async function* analyze(frames: Iterable<FrameInput> | AsyncIterable<FrameInput>): AsyncGenerator<SegmentAnalysis, void, undefined> {
  const a = new Analyzer();
  for await (const f of frames) {
    const s = a.add(f);
    if (s) yield s;
  }
}

/** The same, without promises, for arrays and synchronous readers. */
export function* analyzeSync(frames: Iterable<FrameInput>): Generator<SegmentAnalysis, void, undefined> {
  const a = new Analyzer();
  for (const f of frames) {
    const s = a.add(f);
    if (s) yield s;
  }
}
