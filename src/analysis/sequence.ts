/**
 * Wireshark's TCP sequence analysis, one direction's memory and the per-segment rules
 * (packet-tcp.c, tcp_analyze_sequence_number): which segment is a retransmission, which ACK
 * is a duplicate, when a window is full, what each ACK acknowledges and how long it took.
 * The rules are applied in Wireshark's order, because that order decides the flags (a
 * zero-window probe is never also a retransmission, a keep-alive ACK never a duplicate ACK).
 *
 * Memory per direction is bounded: at most MAX_UNACKED segments are remembered (Wireshark's
 * own limit), each as four numbers side by side in one flat array.
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
  // Unacked segments, oldest first, entries [head, tail) of one Float64Array, four numbers
  // each (seq, nextseq, frame, time in ns): no object and no array resize per segment, and a
  // segment's numbers side by side (one array to reach, not four). The array starts small and
  // doubles up to MAX_UNACKED entries; an ACK usually drops a prefix, which only moves `head`.
  // analyzeSegment() appends to it in place (a method call would box the uint32 and time
  // arguments: a few heap numbers per data segment, the analyzer's largest garbage).
  segs: Float64Array = EMPTY;
  head = 0;
  tail = 0;

  get segmentCount(): number {
    return this.tail - this.head;
  }

  /** Forget the unacked list (the stream ended; nothing more will be acked). */
  release(): void {
    if (this.segs.length) spareList(this.segs);
    this.segs = EMPTY;
    this.head = this.tail = 0;
  }

  /** Moves the live entries to the front, or doubles the array when it is more than half full. */
  makeRoom(): void {
    const n = this.tail - this.head;
    const cap = this.segs.length / SEG;
    if (cap && n <= cap >> 1) {
      this.segs.copyWithin(0, this.head * SEG, this.tail * SEG);
    } else {
      const bigger = takeList(Math.max(8, cap * 2) * SEG);
      for (let i = this.head * SEG, j = 0; i < this.tail * SEG; i++, j++) bigger[j] = this.segs[i]!;
      if (cap) spareList(this.segs);
      this.segs = bigger;
    }
    this.head = 0;
    this.tail = n;
  }

  /**
   * Removes what `ack` acknowledges; when it acknowledges a segment's end exactly, records that
   * segment in `out` (the oldest such, as Wireshark's newest-first walk leaves it).
   */
  acknowledge(ack: number, time: number, out: SegmentFacts): void {
    const segs = this.segs;
    let i = this.head;
    const tail = this.tail;
    let matched = false;
    // The acknowledged prefix (the common case): dropped by moving head.
    for (; i < tail; i++) {
      const next = segs[i * SEG + 1]!;
      if (ack === next) {
        if (!matched) matched = acked(segs, i, time, out);
      } else if (gt(next, ack)) break;
    }
    this.head = i;
    // The rest: kept unless acknowledged (segments out of order, retransmissions); the first
    // kept one has its start trimmed to the ACK when the ACK falls inside it.
    let w = i;
    for (; i < tail; i++) {
      const at = i * SEG;
      const next = segs[at + 1]!;
      if (ack === next) {
        if (!matched) matched = acked(segs, i, time, out);
        continue;
      }
      if (!gt(next, ack)) continue;
      if (gt(ack, segs[at]!)) segs[at] = ack;
      if (w !== i) {
        const to = w * SEG;
        segs[to] = segs[at]!;
        segs[to + 1] = next;
        segs[to + 2] = segs[at + 2]!;
        segs[to + 3] = segs[at + 3]!;
      }
      w++;
    }
    this.tail = w;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  /** Bytes from the lowest unacked seq to the highest unacked end (Wireshark's payload-based method). */
  inFlight(): number {
    const base = this.baseSeq;
    const segs = this.segs;
    const n = this.tail;
    let first = (segs[(n - 1) * SEG]! - base) >>> 0;
    let last = (segs[(n - 1) * SEG + 1]! - base) >>> 0;
    for (let i = this.head; i < n - 1; i++) {
      const s = (segs[i * SEG]! - base) >>> 0;
      const e = (segs[i * SEG + 1]! - base) >>> 0;
      if (e > last) last = e;
      if (s < first) first = s;
    }
    return (last - first) >>> 0;
  }

  /** For a retransmission: the oldest unacked segment's frame (0: none) and time (Wireshark's RTO reference). */
  oldestFrame(): number {
    return this.tail > this.head ? this.segs[this.head * SEG + 2]! : 0;
  }

  oldestTime(): number {
    return this.segs[this.head * SEG + 3]!;
  }
}

/** Records entry i as the segment an ACK acknowledges exactly. */
function acked(segs: Float64Array, i: number, time: number, out: SegmentFacts): true {
  out.ackedFrame = segs[i * SEG + 2]!;
  out.ackRttNs = time - segs[i * SEG + 3]!;
  out.analysed = true;
  return true;
}

/** Numbers per unacked segment: seq, nextseq, frame, time (ns). */
const SEG = 4;

const EMPTY = new Float64Array(0);

/**
 * The arrays of flows that ended or grew, by size, for the next flows to take: streams come
 * and go by the thousand, and a typed array is dear to make (its buffer is allocated outside
 * the heap and counted against it). At most ~256 KiB are kept per size.
 */
const spare: Float64Array[][] = [];

function takeList(size: number): Float64Array {
  return spare[Math.clz32(size)]?.pop() ?? new Float64Array(size);
}

function spareList(list: Float64Array): void {
  const kept = (spare[Math.clz32(list.length)] ??= []);
  if (kept.length * list.length * 8 < 256 * 1024) kept.push(list);
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

/** Wireshark's base seq of a direction from its first segment: the SYN's seq, else the seq before. */
export const baseSeqOf = (seq: number, flags: number): number => (flags & SYN ? seq : (seq - 1) >>> 0);

/** The base seq of the other direction, from the first ACK seen before it sent anything. */
export const peerBaseSeqOf = (ack: number): number => (ack - 1) >>> 0;

/**
 * The rules for one segment travelling fwd (rev is the other direction), in Wireshark's order.
 * `irttNs` is the stream's initial RTT so far (0: none), the out-of-order threshold.
 */
export function analyzeSegment(s: SegmentIn, fwd: Flow, rev: Flow, irttNs: number, out: SegmentFacts): void {
  const { seq, ack, seglen, flags, window, frame, time } = s;
  let fl = out.flags;

  if (!fwd.baseSet) {
    fwd.baseSeq = baseSeqOf(seq, flags);
    if (flags & SYN) fwd.sawSyn = true;
    fwd.baseSet = true;
  }
  if (!rev.baseSet && flags & ACK) {
    rev.baseSeq = peerBaseSeqOf(ack);
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
      // (1 << shift), not 2 ** shift: shifts are 0..14, and Math.pow is the slow part of this rule.
      const edge = (rev.lastack + rev.window * (1 << shift)) >>> 0;
      if (((seq + seglen) >>> 0) === edge) fl |= Flag.WINDOW_FULL;
    }
    if (plain && window && window === fwd.window && ack === fwd.lastack && rev.lastSegmentFlags & Flag.KEEP_ALIVE) {
      fl |= Flag.KEEP_ALIVE_ACK;
      fwdDone = true;
    } else if (plain && window === 0 && window === fwd.window && ack === fwd.lastack && rev.lastSegmentFlags & Flag.ZERO_WINDOW_PROBE) {
      fl |= Flag.ZERO_WINDOW_PROBE_ACK;
      fwdDone = true;
    } else if (plain && window && window === fwd.window && ack === fwd.lastack) {
      // -1: this side's ACKs were found to cover unseen data (below); its first duplicate is #1.
      fwd.dupacknum = fwd.dupacknum === -1 ? 1 : fwd.dupacknum + 1;
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

  // ACKed unseen segment: the ACK covers more than the other direction has shown continuously
  // (maxseqtobeacked). tshark 4.0's rule, pinned on crafted captures (test/analysis-corner.test.ts):
  // when that side has sent past a hole since (nextseq beyond maxseqtobeacked), the ACK is
  // flagged and the edge moves to nextseq; otherwise it is flagged only while that side's
  // duplicate-ACK count is 0, and the count is set to -1, so the ACKs that follow are not
  // flagged again until that side's own ACK number moves (or it sends past a new hole).
  if (rev.maxseqtobeacked && gt(ack, rev.maxseqtobeacked) && flags & ACK) {
    // Wireshark makes the frame's analysis record here, flagged or not (so iRTT shows).
    out.analysed = true;
    if (lt(rev.maxseqtobeacked, rev.nextseq)) {
      rev.maxseqtobeacked = rev.nextseq;
      fl |= Flag.ACK_LOST_PACKET;
    } else {
      if (rev.dupacknum === 0) fl |= Flag.ACK_LOST_PACKET;
      rev.dupacknum = -1;
    }
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
        const first = fwd.oldestFrame();
        out.rtoFrame = first || fwd.nextseqFrame;
        out.rtoNs = time - (first ? fwd.oldestTime() : fwd.nextseqTime);
      }
    }
  }

  let nextseq = (seq + seglen) >>> 0;
  if ((seglen || flags & (SYN | FIN)) && fwd.segmentCount < MAX_UNACKED) {
    if (flags & (SYN | FIN)) nextseq = (nextseq + 1) >>> 0;
    if ((fwd.tail + 1) * SEG > fwd.segs.length) fwd.makeRoom();
    const at = fwd.tail++ * SEG;
    const segs = fwd.segs;
    segs[at] = seq;
    segs[at + 1] = nextseq;
    segs[at + 2] = frame;
    segs[at + 3] = time;
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

  rev.acknowledge(ack, time, out);

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
