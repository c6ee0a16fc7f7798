/**
 * Wireshark's tcp.stream numbering alone, for what needs the numbers and nothing else of the
 * analysis (`synack conv`): a stream per 4-tuple, and a new one when a SYN opens the tuple
 * again with another ISN (port numbers reused), by the Analyzer's own rules (opensNewStream,
 * movesBaseSeq, baseSeqOf, hash4, tupleKey: one home each). A fraction of the Analyzer's cost per segment:
 * no flow state, no endpoint states, no object per stream or per segment.
 *
 *   const v = new FrameView(), ix = new StreamIndexer();
 *   if (decodeFrame(buf, 0, buf.length, linkType, v) && v.transport === Transport.TCP && !v.short) ix.add(v);
 *
 * State per stream is a few numbers in flat typed arrays (the 4-tuple, both base seqs), and
 * IPv4 tuples are found through an open-addressing table of stream indexes. Unlike the Analyzer,
 * which forgets the oldest of its closed streams beyond MAX_CLOSED to stay flat in memory, the
 * indexer keeps every stream (about 30 bytes each), as tshark does: a late segment of a stream
 * closed long ago still gets that stream's number.
 */
import { hash4, movesBaseSeq, opensNewStream, tupleKey } from './analyzer.js';
import type { FrameView } from './frame.js';
import { baseSeqOf, peerBaseSeqOf } from './sequence.js';

const SYN = 0x02;
const ACK = 0x10;
/** Bits of baseSet: the client's direction has its base seq, the server's has. */
const CLIENT_BASE = 1;
const SERVER_BASE = 2;

export class StreamIndexer {
  /** Streams numbered so far. */
  streamCount = 0;
  /** The last segment added came from its stream's client (the source of the stream's first segment). */
  fromClient = false;
  // Per stream, by index: the IPv4 addresses (0 for IPv6), both ports (client << 16 | server),
  // both directions' base seqs and which of them are set.
  private client4: Uint32Array = new Uint32Array(1024);
  private server4: Uint32Array = new Uint32Array(1024);
  private ports: Uint32Array = new Uint32Array(1024);
  private clientBase: Uint32Array = new Uint32Array(1024);
  private serverBase: Uint32Array = new Uint32Array(1024);
  private baseSet: Uint8Array = new Uint8Array(1024);
  /** IPv4 tuples: stream index + 1 of the tuple's latest stream (0: empty), linear probing. */
  private slots: Int32Array = new Int32Array(1 << 12);
  private slotsUsed = 0;
  /** The slot find4() stopped at: the tuple's, or the empty one where it goes. */
  private slot = 0;
  /** IPv6 tuples by their key, and each IPv6 stream's client address key. */
  private readonly byKey6 = new Map<string, number>();
  private readonly clientKey6 = new Map<number, string>();

  /** The stream index of a decoded TCP segment (v not short), numbering a new stream when it opens one. */
  add(v: FrameView): number {
    let s = v.ipVersion === 4 ? this.find4(v) : this.find6(v);
    let fromClient = this.fromClient;
    if (s >= 0 && v.flags & SYN) {
      const baseSet = (this.baseSet[s]! & (fromClient ? CLIENT_BASE : SERVER_BASE)) !== 0;
      const bases = fromClient ? this.clientBase : this.serverBase;
      if (opensNewStream(v.flags, baseSet, bases[s]!, v.seq)) s = -1;
      else if (movesBaseSeq(v.flags, baseSet, bases[s]!, v.seq)) bases[s] = v.seq;
    }
    if (s < 0) {
      s = this.create(v);
      fromClient = true;
    }
    // Both base seqs as analyzeSegment sets them: the next SYN is judged against them.
    let set = this.baseSet[s]!;
    const fwd = fromClient ? CLIENT_BASE : SERVER_BASE;
    const rev = fromClient ? SERVER_BASE : CLIENT_BASE;
    if ((set & (fwd | rev)) !== (fwd | rev)) {
      if (!(set & fwd)) {
        (fromClient ? this.clientBase : this.serverBase)[s] = baseSeqOf(v.seq, v.flags);
        set |= fwd;
      }
      if (!(set & rev) && v.flags & ACK) {
        (fromClient ? this.serverBase : this.clientBase)[s] = peerBaseSeqOf(v.ack);
        set |= rev;
      }
      this.baseSet[s] = set;
    }
    this.fromClient = fromClient;
    return s;
  }

  /** The IPv4 tuple's latest stream (-1: none), its direction in fromClient, its slot in `slot`. */
  private find4(v: FrameView): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const src = v.src4;
    const dst = v.dst4;
    const out = ((v.sport << 16) | v.dport) >>> 0;
    const back = ((v.dport << 16) | v.sport) >>> 0;
    for (let i = hash4(src, v.sport, dst, v.dport) & mask; ; i = (i + 1) & mask) {
      const e = slots[i]!;
      if (e === 0) {
        this.slot = i;
        return -1;
      }
      const s = e - 1;
      const c = this.client4[s]!;
      const p = this.ports[s]!;
      if (p === out && c === src && this.server4[s] === dst) {
        this.fromClient = true;
        this.slot = i;
        return s;
      }
      if (p === back && c === dst && this.server4[s] === src) {
        this.fromClient = false;
        this.slot = i;
        return s;
      }
    }
  }

  private find6(v: FrameView): number {
    const s = this.byKey6.get(tupleKey(v));
    if (s === undefined) return -1;
    this.fromClient = v.sport === this.ports[s]! >>> 16 && v.srcKey === this.clientKey6.get(s);
    return s;
  }

  /** A new stream, the segment's source its client, entered as its tuple's latest. */
  private create(v: FrameView): number {
    const s = this.streamCount++;
    if (s === this.ports.length) this.grow();
    this.client4[s] = v.src4;
    this.server4[s] = v.dst4;
    this.ports[s] = ((v.sport << 16) | v.dport) >>> 0;
    this.baseSet[s] = 0;
    if (v.ipVersion === 4) {
      if (this.slots[this.slot] === 0) this.slotsUsed++;
      this.slots[this.slot] = s + 1;
      if (this.slotsUsed * 2 > this.slots.length) this.rehash();
    } else {
      this.byKey6.set(tupleKey(v), s);
      this.clientKey6.set(s, v.srcKey);
    }
    return s;
  }

  private grow(): void {
    const n = this.ports.length * 2;
    const more = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    const u32 = (k: number): Uint32Array => new Uint32Array(k);
    this.client4 = more(this.client4, u32);
    this.server4 = more(this.server4, u32);
    this.ports = more(this.ports, u32);
    this.clientBase = more(this.clientBase, u32);
    this.serverBase = more(this.serverBase, u32);
    this.baseSet = more(this.baseSet, (k) => new Uint8Array(k));
  }

  /** Twice the slots, every tuple entered again (hash4 is the same both ways: either side will do). */
  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 1;
    for (const e of old) {
      if (e === 0) continue;
      const s = e - 1;
      const p = this.ports[s]!;
      let i = hash4(this.client4[s]!, p >>> 16, this.server4[s]!, p & 0xffff) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = e;
    }
    this.slots = slots;
  }
}
