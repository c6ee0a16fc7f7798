/**
 * Wireshark's TCP sequence analysis, one direction's memory and the per-segment rules
 * (packet-tcp.c, tcp_analyze_sequence_number): which segment is a retransmission, which ACK
 * is a duplicate, when a window is full, what each ACK acknowledges and how long it took.
 * The rules are applied in Wireshark's order, because that order decides the flags (a
 * zero-window probe is never also a retransmission, a keep-alive ACK never a duplicate ACK).
 *
 * Memory per direction is bounded: at most MAX_UNACKED segments are remembered (Wireshark's
 * own limit), each as four numbers in flat arrays.
 */
import { Flag } from './flags.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** Wireshark's TCP_MAX_UNACKED_SEGMENTS. */
export const MAX_UNACKED = 10000;

const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const le = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
const gt = (a: number, b: number): boolean => ((a - b) | 0) > 0;

/** Outputs of one segment's analysis (one object reused by the analyzer). */
export class SegmentFacts {
  flags = 0;
  dupAckNum = 0;
  dupAckFrame = 0;
  /** Frame this segment's ACK acknowledges exactly (0: none), and the time since it, ns. */
  ackedFrame = 0;
  ackRttNs = 0;
  /** -1 when Wireshark gives none. */
  bytesInFlight = -1;
  /** For retransmissions: the frame first sent and the time since, ns (Wireshark's tcp.analysis.rto). */
  rtoFrame = 0;
  rtoNs = 0;
  /** Wireshark would show a "SEQ/ACK analysis" tree for this frame (decides whether iRTT is printed). */
  analysed = false;

  reset(): void {
    this.flags = 0;
    this.dupAckNum = 0;
    this.dupAckFrame = 0;
    this.ackedFrame = 0;
    this.ackRttNs = 0;
    this.bytesInFlight = -1;
    this.rtoFrame = 0;
    this.rtoNs = 0;
    this.analysed = false;
  }
}

/** One direction of a stream. */
export class Flow {
  baseSeq = 0;
  baseSet = false;
  sawSyn = false;
  nextseq = 0;
  nextseqTime = 0;
  nextseqFrame = 0;
  maxseqtobeacked = 0;
  lastack = 0;
  lastackTime = 0;
  /** The raw (unscaled) window of the last segment; Wireshark starts with G_MAXUINT32. */
  window = 0xffffffff;
  /** Shift from the SYN's option; -1 unknown, -2 no scaling. */
  winScale = -1;
  /** The last segment in this direction was a SYN (its window is never scaled). */
  isFirstAck = true;
  lastSegmentFlags = 0;
  dupacknum = 0;
  lastnondupack = 0;
  validBif = true;
  pushBytesSent = 0;
  pushSetLast = false;
  /** SACK blocks of the last segment sent in this direction (left, right, ...). */
  sack: number[] = [];
  // Unacked segments, oldest first: seq, nextseq, frame, time (ns).
  private segSeq: number[] = [];
  private segNext: number[] = [];
  private segFrame: number[] = [];
  private segTime: number[] = [];

  get segmentCount(): number {
    return this.segSeq.length;
  }

  /** Forget the unacked list (the stream ended; nothing more will be acked). */
  release(): void {
    this.segSeq = [];
    this.segNext = [];
    this.segFrame = [];
    this.segTime = [];
  }

  addSegment(seq: number, nextseq: number, frame: number, time: number): void {
    this.segSeq.push(seq);
    this.segNext.push(nextseq);
    this.segFrame.push(frame);
    this.segTime.push(time);
  }

  /**
   * Removes what `ack` acknowledges; when it acknowledges a segment's end exactly, records that
   * segment in `out` (the oldest such, as Wireshark's newest-first walk leaves it).
   */
  acknowledge(ack: number, frame: number, time: number, out: SegmentFacts): void {
    const n = this.segSeq.length;
    if (n === 0) return;
    // Nothing acknowledged (the common case for the newest segments): no walk.
    if (((ack - this.segSeq[0]!) | 0) <= 0 && n === 1) return;
    let w = 0;
    // Wireshark walks newest first; the last exact match it meets is the oldest.
    for (let i = n - 1; i >= 0; i--) {
      const next = this.segNext[i]!;
      if (ack === next) {
        out.ackedFrame = this.segFrame[i]!;
        out.ackRttNs = time - this.segTime[i]!;
        out.analysed = true;
      }
    }
    for (let i = 0; i < n; i++) {
      const next = this.segNext[i]!;
      let seq = this.segSeq[i]!;
      if (ack !== next) {
        if (gt(ack, seq) && le(ack, next)) seq = ack;
        if (gt(next, ack)) {
          this.segSeq[w] = seq;
          this.segNext[w] = next;
          this.segFrame[w] = this.segFrame[i]!;
          this.segTime[w] = this.segTime[i]!;
          w++;
          continue;
        }
      }
      // acked: dropped
    }
    void frame;
    if (w === n) return;
    this.segSeq.length = w;
    this.segNext.length = w;
    this.segFrame.length = w;
    this.segTime.length = w;
  }

  /** Bytes from the lowest unacked seq to the highest unacked end (Wireshark's payload-based method). */
  inFlight(): number {
    const n = this.segSeq.length;
    const base = this.baseSeq;
    let first = (this.segSeq[n - 1]! - base) >>> 0;
    let last = (this.segNext[n - 1]! - base) >>> 0;
    for (let i = 0; i < n; i++) {
      const s = (this.segSeq[i]! - base) >>> 0;
      const e = (this.segNext[i]! - base) >>> 0;
      if (e > last) last = e;
      if (s < first) first = s;
    }
    return (last - first) >>> 0;
  }

  /** For a retransmission: the oldest unacked segment (Wireshark's RTO reference). */
  oldest(): { frame: number; time: number } | undefined {
    return this.segSeq.length ? { frame: this.segFrame[0]!, time: this.segTime[0]! } : undefined;
  }
}

export interface SegmentIn {
  frame: number;
  /** ns since the capture's first packet. */
  time: number;
  seq: number;
  ack: number;
  seglen: number;
  flags: number;
  /** Raw window field. */
  window: number;
}

/**
 * The rules for one segment travelling fwd (rev is the other direction), in Wireshark's order.
 * `irttNs` is the stream's initial RTT so far (0: none), the out-of-order threshold.
 */
export function analyzeSegment(s: SegmentIn, fwd: Flow, rev: Flow, irttNs: number, out: SegmentFacts): void {
  const { seq, ack, seglen, flags, window, frame, time } = s;
  let fl = out.flags;

  if (!fwd.baseSet) {
    if (flags & SYN) {
      fwd.baseSeq = seq;
      fwd.sawSyn = true;
    } else {
      fwd.baseSeq = (seq - 1) >>> 0;
    }
    fwd.baseSet = true;
  }
  if (!rev.baseSet && flags & ACK) {
    rev.baseSeq = (ack - 1) >>> 0;
    rev.baseSet = true;
  }
  if (flags & ACK) rev.validBif = true;

  let fwdDone = false;
  // Zero window probe: one byte at the next expected seq into a closed window.
  if (seglen === 1 && seq === fwd.nextseq && rev.window === 0) {
    fl |= Flag.ZERO_WINDOW_PROBE;
    fwdDone = true;
  }
  if (!fwdDone) {
    if (window === 0 && (flags & (RST | FIN | SYN)) === 0) fl |= Flag.ZERO_WINDOW;
    if (fwd.nextseq && gt(seq, fwd.nextseq) && (flags & RST) === 0) {
      fl |= Flag.LOST_PACKET;
      fwd.validBif = false;
    }
    if ((seglen === 0 || seglen === 1) && seq === ((fwd.nextseq - 1) >>> 0) && (flags & (SYN | FIN | RST)) === 0) fl |= Flag.KEEP_ALIVE;
    const plain = seglen === 0 && (flags & (SYN | FIN | RST)) === 0 && seq === fwd.nextseq;
    if (plain && window && window !== fwd.window && ack === fwd.lastack) fl |= Flag.WINDOW_UPDATE;
    if (seglen > 0 && rev.winScale !== -1 && (flags & (SYN | FIN | RST)) === 0) {
      const shift = rev.isFirstAck ? 0 : rev.winScale === -2 ? 0 : rev.winScale;
      const edge = (rev.lastack + rev.window * 2 ** shift) >>> 0;
      if (((seq + seglen) >>> 0) === edge) fl |= Flag.WINDOW_FULL;
    }
    if (plain && window && window === fwd.window && ack === fwd.lastack && rev.lastSegmentFlags & Flag.KEEP_ALIVE) {
      fl |= Flag.KEEP_ALIVE_ACK;
      fwdDone = true;
    } else if (plain && window === 0 && window === fwd.window && ack === fwd.lastack && rev.lastSegmentFlags & Flag.ZERO_WINDOW_PROBE) {
      fl |= Flag.ZERO_WINDOW_PROBE_ACK;
      fwdDone = true;
    } else if (plain && window && window === fwd.window && ack === fwd.lastack) {
      fwd.dupacknum++;
      fl |= Flag.DUPLICATE_ACK;
      out.dupAckNum = fwd.dupacknum;
      out.dupAckFrame = fwd.lastnondupack;
    }
  }
  // finished_fwd
  if (ack !== fwd.lastack) {
    fwd.lastnondupack = frame;
    fwd.dupacknum = 0;
  }

  // ACKed unseen segment: the ACK covers more than the other direction has shown. (Known gap:
  // once in a capture where the capture missed a segment next to a loss repair, tshark 4.0
  // stayed silent on the first such ACK and flagged the next; this rule flags both.)
  if (rev.maxseqtobeacked && gt(ack, rev.maxseqtobeacked) && flags & ACK) {
    fl |= Flag.ACK_LOST_PACKET;
    rev.maxseqtobeacked = rev.nextseq;
  }

  if (seglen > 0 || flags & (SYN | FIN)) {
    let notAdvanced = fwd.nextseq !== 0 && lt(seq, fwd.nextseq);
    if (!(fl & Flag.KEEP_ALIVE)) {
      if (seglen > 1 && ((fwd.nextseq - 1) >>> 0) === seq) notAdvanced = false;
      if (seglen > 0 && rev.lastack && le((seq + seglen) >>> 0, rev.lastack)) {
        fl |= Flag.SPURIOUS_RETRANSMISSION;
      } else if (notAdvanced && rev.dupacknum >= 2 && rev.lastack === seq && time - rev.lastackTime < 20_000_000) {
        fl |= Flag.FAST_RETRANSMISSION;
      } else if (
        notAdvanced &&
        time - fwd.nextseqTime < (irttNs === 0 ? 3_000_000 : irttNs) &&
        fwd.nextseq !== ((seq + seglen + (flags & (SYN | FIN) ? 1 : 0)) >>> 0)
      ) {
        fl |= Flag.OUT_OF_ORDER;
      } else if (notAdvanced) {
        fl |= Flag.RETRANSMISSION;
        const first = fwd.oldest();
        out.rtoFrame = first ? first.frame : fwd.nextseqFrame;
        out.rtoNs = time - (first ? first.time : fwd.nextseqTime);
      }
    }
  }

  let nextseq = (seq + seglen) >>> 0;
  if ((seglen || flags & (SYN | FIN)) && fwd.segmentCount < MAX_UNACKED) {
    if (flags & (SYN | FIN)) nextseq = (nextseq + 1) >>> 0;
    fwd.addSegment(seq, nextseq, frame, time);
  }
  const probe = (fl & Flag.ZERO_WINDOW_PROBE) !== 0;
  if ((gt(nextseq, fwd.nextseq) || !fwd.nextseq) && !probe) {
    fwd.nextseq = nextseq;
    fwd.nextseqFrame = frame;
    fwd.nextseqTime = time;
  }
  if ((seq === fwd.maxseqtobeacked || !fwd.maxseqtobeacked) && !probe) fwd.maxseqtobeacked = fwd.nextseq;

  fwd.window = window;
  fwd.lastack = ack;
  fwd.lastackTime = time;
  fwd.lastSegmentFlags = fl;

  rev.acknowledge(ack, frame, time, out);

  if (seglen !== 0 && fwd.segmentCount > 0 && fwd.validBif) {
    out.analysed = true;
    let inFlight = fwd.inFlight();
    const sack = rev.sack;
    for (let i = 0; i + 1 < sack.length; i += 2) inFlight = (inFlight - ((sack[i + 1]! - sack[i]!) >>> 0)) >>> 0;
    if (inFlight > 0 && inFlight < 2_000_000_000) out.bytesInFlight = flags & (SYN | FIN) ? inFlight - 1 : inFlight;
    if (flags & PSH) {
      fwd.pushBytesSent = fwd.pushSetLast ? seglen : fwd.pushBytesSent + seglen;
      fwd.pushSetLast = true;
    } else if (fwd.pushSetLast) {
      fwd.pushBytesSent = seglen;
      fwd.pushSetLast = false;
    } else {
      fwd.pushBytesSent += seglen;
    }
  }
  out.flags = fl;
  if (fl) out.analysed = true;
}
