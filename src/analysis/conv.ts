/**
 * Conversations as Wireshark counts them (`tshark -q -z conv,tcp|udp|ip|ipv6`): frames and
 * bytes (whole frames, as captured on the wire) each way, the start relative to the capture's
 * first frame, and the duration. TCP conversations are told apart by stream index (a reused
 * port pair is a new conversation), UDP by address and port pair, IP by address pair.
 *
 * Side A of a conversation is the source of its first frame: "->" counts A to B, "<-" B to A,
 * as tshark prints them.
 */
import type { FrameView } from './frame.js';
import { Transport } from './frame.js';

export type ConvKind = 'tcp' | 'udp' | 'ipv4' | 'ipv6';

export interface ConversationStats {
  kind: ConvKind;
  /** Side A and side B: 'addr' or 'addr:port' ('[v6]:port' is not used: tshark writes v6:port). */
  a: string;
  b: string;
  /** Frames and bytes from A to B, from B to A. */
  aToB: { frames: number; bytes: number };
  bToA: { frames: number; bytes: number };
  /** Seconds since the capture's first frame, of this conversation's first and last frame. */
  start: number;
  end: number;
  /** The TCP stream index (tcp only). */
  stream?: number;
}

interface Item extends ConversationStats {
  aKey: string;
  aPort: number;
  /** IPv4 side A as a number (-1 for IPv6). */
  a4: number;
  /** A TCP conversation's IP conversation (its frames count there too): no lookup per frame. */
  ip: Item | undefined;
}

function compareKeys(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Times relative to the capture's first frame, as Wireshark computes them: (seconds,
 * nanoseconds) normalised, then one double. The first call sets the base.
 */
export class RelativeClock {
  private baseSeconds = -1;
  private baseNanos = 0;

  at(seconds: number, nanos: number): number {
    if (this.baseSeconds < 0) {
      this.baseSeconds = seconds;
      this.baseNanos = nanos;
    }
    let rs = seconds - this.baseSeconds;
    let rn = nanos - this.baseNanos;
    if (rn < 0) {
      rs -= 1;
      rn += 1e9;
    }
    return rs + rn / 1e9;
  }
}

/**
 * TCP conversations by stream index (a StreamIndexer's, or the Analyzer's), each counter in a
 * flat array: nothing made per frame, two strings per stream.
 */
export class TcpConversations {
  private readonly a: string[] = [];
  private readonly b: string[] = [];
  private framesAB: Float64Array = new Float64Array(1024);
  private framesBA: Float64Array = new Float64Array(1024);
  private bytesAB: Float64Array = new Float64Array(1024);
  private bytesBA: Float64Array = new Float64Array(1024);
  private start: Float64Array = new Float64Array(1024);
  private end: Float64Array = new Float64Array(1024);

  /**
   * Counts a frame of stream `stream`, `fromA` when its source is side A. Streams come first in
   * index order (0, 1, 2...), as both numberings give them.
   */
  add(stream: number, fromA: boolean, v: FrameView, wireLength: number, t: number): void {
    if (stream >= this.a.length) this.open(stream, v, t);
    if (fromA) {
      this.framesAB[stream]++;
      this.bytesAB[stream] += wireLength;
    } else {
      this.framesBA[stream]++;
      this.bytesBA[stream] += wireLength;
    }
    if (t > this.end[stream]!) this.end[stream] = t;
    else if (t < this.start[stream]!) this.start[stream] = t;
  }

  /** A new stream: side A the source of its first frame. */
  private open(stream: number, v: FrameView, t: number): void {
    if (stream >= this.start.length) {
      const n = Math.max(stream + 1, this.start.length * 2);
      const more = (x: Float64Array): Float64Array => {
        const y = new Float64Array(n);
        y.set(x);
        return y;
      };
      this.framesAB = more(this.framesAB);
      this.framesBA = more(this.framesBA);
      this.bytesAB = more(this.bytesAB);
      this.bytesBA = more(this.bytesBA);
      this.start = more(this.start);
      this.end = more(this.end);
    }
    this.a.push(`${v.srcText()}:${v.sport}`);
    this.b.push(`${v.dstText()}:${v.dport}`);
    this.start[stream] = t;
    this.end[stream] = t;
  }

  /** Most frames first (ties in stream order), as tshark lists them. */
  list(): ConversationStats[] {
    const n = this.a.length;
    const order = Array.from({ length: n }, (_, i) => i);
    const total = (i: number): number => this.framesAB[i]! + this.framesBA[i]!;
    order.sort((x, y) => total(y) - total(x) || x - y);
    return order.map((i) => ({
      kind: 'tcp',
      a: this.a[i]!,
      b: this.b[i]!,
      aToB: { frames: this.framesAB[i]!, bytes: this.bytesAB[i]! },
      bToA: { frames: this.framesBA[i]!, bytes: this.bytesBA[i]! },
      start: this.start[i]!,
      end: this.end[i]!,
      stream: i,
    }));
  }
}

export class ConversationCounter {
  private readonly tables: Record<ConvKind, Map<string, Item>> = { tcp: new Map(), udp: new Map(), ipv4: new Map(), ipv6: new Map() };
  // The hot paths without a string per frame: TCP by stream index, IPv4 by the address pair.
  private readonly byStream: Item[] = [];
  private readonly ipv4Pairs = new Map<number, Map<number, Item>>();
  private readonly clock = new RelativeClock();

  /**
   * Counts one frame. `v` is the frame decoded (decodeFrame), `tcpStream` its stream index
   * when it is a TCP segment the analyzer numbered.
   */
  add(v: FrameView, wireLength: number, seconds: number, nanos: number, tcpStream?: number): void {
    const t = this.clock.at(seconds, nanos);
    if (v.ipVersion === 0) return;
    if (v.transport === Transport.TCP && tcpStream !== undefined) {
      // Most frames: the stream's item by index, and through it the IP conversation's.
      let item = this.byStream[tcpStream];
      if (!item) {
        const ip = this.ipItem(v, t);
        this.byStream[tcpStream] = item = this.item('tcp', v, v.sport, v.dport, `#${tcpStream}`, t, tcpStream);
        item.ip = ip;
      }
      this.tally(item.ip!, v, 0, wireLength, t);
      this.tally(item, v, v.sport, wireLength, t);
      return;
    }
    this.tally(this.ipItem(v, t), v, 0, wireLength, t);
    if (v.transport === Transport.UDP) this.count('udp', v, v.sport, v.dport, '', wireLength, t, undefined);
  }

  /** The frame's IPv4 or IPv6 conversation, entered when new. */
  private ipItem(v: FrameView, t: number): Item {
    if (v.ipVersion !== 4) return this.find('ipv6', v, 0, 0, '', t, undefined);
    const lo = v.src4 < v.dst4 ? v.src4 : v.dst4;
    const hi = v.src4 < v.dst4 ? v.dst4 : v.src4;
    let inner = this.ipv4Pairs.get(lo);
    if (!inner) this.ipv4Pairs.set(lo, (inner = new Map()));
    let item = inner.get(hi);
    if (!item) inner.set(hi, (item = this.item('ipv4', v, 0, 0, '', t, undefined)));
    return item;
  }

  /** A new conversation, side A the frame's source, entered in its table (for the order). */
  private item(kind: ConvKind, v: FrameView, sport: number, dport: number, key: string, t: number, stream: number | undefined): Item {
    const ports = kind === 'tcp' || kind === 'udp';
    const item: Item = {
      kind,
      a: ports ? `${v.srcText()}:${sport}` : v.srcText(),
      b: ports ? `${v.dstText()}:${dport}` : v.dstText(),
      aKey: v.ipVersion === 4 ? '' : v.srcKey,
      aPort: sport,
      a4: v.ipVersion === 4 ? v.src4 : -1,
      ip: undefined,
      aToB: { frames: 0, bytes: 0 },
      bToA: { frames: 0, bytes: 0 },
      start: t,
      end: t,
      ...(stream !== undefined ? { stream } : {}),
    };
    this.tables[kind].set(key || `${kind}${this.tables[kind].size}`, item);
    return item;
  }

  private tally(item: Item, v: FrameView, sport: number, bytes: number, t: number): void {
    const fromA = sport === item.aPort && (item.a4 >= 0 ? v.src4 === item.a4 : v.srcKey === item.aKey);
    const side = fromA ? item.aToB : item.bToA;
    side.frames++;
    side.bytes += bytes;
    if (t > item.end) item.end = t;
    else if (t < item.start) item.start = t;
  }

  private count(kind: ConvKind, v: FrameView, sport: number, dport: number, id: string, bytes: number, t: number, stream: number | undefined): void {
    this.tally(this.find(kind, v, sport, dport, id, t, stream), v, sport, bytes, t);
  }

  /** The conversation of a frame by its address (and port) pair, entered when new. */
  private find(kind: ConvKind, v: FrameView, sport: number, dport: number, id: string, t: number, stream: number | undefined): Item {
    const src = v.srcKey;
    const dst = v.dstKey;
    // One key for both directions; side A is whoever sent the first frame.
    const forward = sport !== dport ? sport > dport : compareKeys(src, dst) <= 0;
    const key = forward ? `${src}/${sport}/${dst}/${dport}${id}` : `${dst}/${dport}/${src}/${sport}${id}`;
    return this.tables[kind].get(key) ?? this.item(kind, v, sport, dport, key, t, stream);
  }

  /** Conversations of one kind, most frames first (ties in order of appearance), as tshark lists them. */
  list(kind: ConvKind): ConversationStats[] {
    const items = [...this.tables[kind].values()];
    const sorted = items
      .map((item, i) => ({ item, i }))
      .sort((x, y) => total(y.item) - total(x.item) || x.i - y.i)
      .map(({ item }) => {
        const { aKey: _k, aPort: _p, a4: _a, ip: _i, ...stats } = item;
        return stats;
      });
    return sorted;
  }
}

const total = (c: ConversationStats): number => c.aToB.frames + c.bToA.frames;

// Largest first, for formatSize: a constant table, not one made at every call (16k calls a table).
const SIZE_UNITS = [1e15, 1e12, 1e9, 1e6, 1e3];
const SIZE_PREFIXES = ['P', 'T', 'G', 'M', 'k'];

/** Wireshark's format_size() for bytes with SI prefixes: '785 bytes', '12 kB', '1 MB'. */
export function formatSize(bytes: number): string {
  for (let i = 0; i < SIZE_UNITS.length; i++) {
    const m = SIZE_UNITS[i]!;
    if (bytes >= 10 * m) return `${Math.floor(bytes / m)} ${SIZE_PREFIXES[i]!}B`;
  }
  return `${bytes} bytes`;
}

const TITLES: Record<ConvKind, string> = { tcp: 'TCP', udp: 'UDP', ipv4: 'IPv4', ipv6: 'IPv6' };
const RULE = '================================================================================';


/** One table in tshark's `-z conv,<kind>` layout. */
export function formatConversations(kind: ConvKind, list: readonly ConversationStats[]): string {
  const ports = kind === 'tcp' || kind === 'udp';
  const indent = ports ? '            ' : '';
  const lines = [
    RULE,
    `${TITLES[kind]} Conversations`,
    'Filter:<No Filter>',
    `${indent}                                               |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |`,
    `${indent}                                               | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |`,
  ];
  const width = ports ? 26 : 20;
  // Rows joined a block at a time: tens of thousands of rows, each a rope of a dozen pieces,
  // would otherwise all live until the end and be copied by every young-generation collection.
  const blocks: string[] = [lines.join('\n')];
  let rows: string[] = [];
  for (const c of list) {
    const rx = c.bToA;
    const tx = c.aToB;
    rows.push(
      `${c.a.padEnd(width)} <-> ${c.b.padEnd(width)}  ${String(rx.frames).padStart(6)} ${formatSize(rx.bytes).padEnd(9)}` +
        `  ${String(tx.frames).padStart(6)} ${formatSize(tx.bytes).padEnd(9)}` +
        `  ${String(rx.frames + tx.frames).padStart(6)} ${formatSize(rx.bytes + tx.bytes).padEnd(9)}  ` +
        `${c.start.toFixed(9).padStart(14)}   ${(c.end - c.start).toFixed(4).padStart(12)}`,
    );
    if (rows.length === 1024) {
      blocks.push(rows.join('\n'));
      rows = [];
    }
  }
  if (rows.length) blocks.push(rows.join('\n'));
  blocks.push(RULE);
  return blocks.join('\n') + '\n';
}
