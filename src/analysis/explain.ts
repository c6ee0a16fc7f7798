/**
 * Plain-language notes for `--explain`: what one segment means in its conversation, in a short
 * sentence, with Wireshark's words for its flags and both endpoints' states beside it:
 *
 *   client opens: SYN, ISN 3255498564, offers mss 1460, sackOK, timestamps, wscale 7
 *   server closes first: its FIN rides on the ACK of 'get' (the three-packet close begins)
 *   nothing listens on 127.0.0.1:5: the kernel answers RST (RST from a closed port)
 *   retransmission of 1:4 after 201 ms: no ACK came
 *   duplicate ACK #3: the receiver is missing 2897:4345
 *
 * The seed scenarios each get their name in the notes: three-way handshake, data, 4-packet
 * close, 3-packet close, simultaneous close (CLOSING), CLOSE-WAIT, TIME-WAIT, RST from a
 * closed port, full backlog.
 */
import type { Analyzer, SegmentAnalysis, Stream } from './analyzer.js';
import { Flag } from './flags.js';
import { newOptions, readTcpOptions, type FrameView } from './frame.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

export interface Explanation {
  /** The flags in Wireshark's words ('TCP Dup ACK 5#3'), then the note. */
  labels: string[];
  note: string;
  client: string;
  server: string;
}

/** What the notes remember per stream (kept on the Stream, so it goes when the stream goes). */
interface Context {
  /** Last data each side sent (a short quote), for "rides on the ACK of 'get'". */
  lastData: [string, string];
  /** Relative seq of each side's FIN + 1, when sent. */
  fin: [number, number];
  firstCloser: -1 | 0 | 1;
  /** The close as it turns out: 3-packet, 4-packet, simultaneous. */
  close: string;
  handshakeDone: boolean;
  synAckSeen: number;
}

/**
 * The note line as --explain prints it under a packet line: the flags in Wireshark's words,
 * the note, both endpoints' states.
 */
export function formatExplanation(labels: readonly string[], note: string, client: string, server: string): string {
  const tail = stateTail(client, server);
  return labels.length ? '      [' + labels.join('] [') + '] ' + note + tail : '      ' + note + tail;
}

/** '  (client X, server Y)', made once per pair of states (there are a few dozen). */
const tails = new Map<string, Map<string, string>>();
function stateTail(client: string, server: string): string {
  let byServer = tails.get(client);
  if (!byServer) tails.set(client, (byServer = new Map()));
  let tail = byServer.get(server);
  if (tail === undefined) byServer.set(server, (tail = '  (client ' + client + ', server ' + server + ')'));
  return tail;
}

const who = (side: number): string => (side === 0 ? 'client' : 'server');

function quote(data: Buffer, off: number, len: number): string {
  // The first line, or the first 24 bytes: enough to recognise 'get' or 'GET / HTTP/1.1'.
  // Looked at in the bytes first (this runs for every segment with data): one string, made last.
  let n = Math.min(len, 24);
  for (let i = 0; i < n; i++) {
    const b = data[off + i]!;
    if (b === 13 || b === 10) {
      n = i;
      break;
    }
    if (b < 0x20 || b > 0x7e) return 'of binary data';
  }
  return "'" + data.toString('latin1', off, off + n) + (len > n ? "...'" : "'");
}

const ms = (seconds: number): string => {
  const m = seconds * 1000;
  return m >= 10 ? `${Math.round(m)} ms` : `${m.toFixed(m >= 1 ? 1 : 3)} ms`;
};

/** Listening ports per server address, for "full backlog": a listener answered before, now it does not. */
export class Explainer {
  private readonly analyzer: Analyzer;
  private readonly opts = newOptions();
  /** server endpoints that answered a SYN before (address:port), bounded. */
  private readonly listening = new Set<string>();

  constructor(analyzer: Analyzer) {
    this.analyzer = analyzer;
  }

  /** The note for a segment just returned by analyzer.add(). */
  explain(s: SegmentAnalysis): Explanation {
    const stream = this.analyzer.lastStream!;
    const v = this.analyzer.lastFrame;
    const ctx = (stream.context ??= {
      lastData: ['', ''],
      fin: [-1, -1],
      firstCloser: -1,
      close: '',
      handshakeDone: false,
      synAckSeen: 0,
    }) as Context;
    const note = this.note(s, v, stream, ctx);
    return { labels: s.labels, note, client: s.client, server: s.server };
  }

  private note(s: SegmentAnalysis, v: FrameView, stream: Stream, ctx: Context): string {
    const side = s.fromClient ? 0 : 1;
    const me = who(side);
    const peer = who(1 - side);
    const f = s.tcpFlags;
    const fl = s.flagBits;
    if (s.length > 0) ctx.lastData[side] = quote(v.bytes, v.payloadOffset, Math.min(s.length, v.payloadCaptured));

    // What Wireshark flagged comes first: it is why the segment is interesting.
    const range = fl ? `${s.seq}:${s.nextSeq}` : '';
    const server = f & SYN ? `${stream.server.address}:${stream.server.port}` : '';
    if (fl & Flag.REUSED_PORTS) return `${me} opens again on the same ports (TCP port numbers reused): a new stream, ${s.stream}`;
    if (f & SYN && fl & (Flag.RETRANSMISSION | Flag.FAST_RETRANSMISSION | Flag.SPURIOUS_RETRANSMISSION)) {
      const after = s.rto ? ` after ${ms(s.rto.seconds)}` : '';
      if (f & ACK) return `${me} retransmits its SYN-ACK${after}: the ACK of it never came (full backlog: the accept queue had no room, so the ACK was dropped)`;
      const full = this.listening.has(server) ? ': the listener answered before, so its queue is full (full backlog: the SYN is dropped)' : ': no SYN-ACK came';
      return `retransmission of the SYN${after}${full}`;
    }
    if (fl & Flag.FAST_RETRANSMISSION) return `fast retransmission of ${range}: ${peer} sent duplicate ACKs for it`;
    if (fl & Flag.SPURIOUS_RETRANSMISSION) return `spurious retransmission of ${range}: ${peer} had already acknowledged it`;
    if (fl & Flag.RETRANSMISSION) return `retransmission of ${s.length ? range : f & FIN ? 'the FIN' : range}${s.rto ? ` after ${ms(s.rto.seconds)}` : ''}: no ACK came`;
    if (fl & Flag.OUT_OF_ORDER) return `out-of-order: ${range} arrives after data that follows it`;
    if (fl & Flag.ZERO_WINDOW_PROBE) return `zero window probe: one byte at ${s.seq} to see whether ${peer}'s window opened`;
    if (fl & Flag.ZERO_WINDOW_PROBE_ACK) return `${me} answers the probe: its window is still zero`;
    if (fl & Flag.KEEP_ALIVE) return `keep-alive: ${me} resends an old byte to check that ${peer} is still there`;
    if (fl & Flag.KEEP_ALIVE_ACK) return `${me} answers the keep-alive: still there`;
    if (fl === 0) return this.unflagged(s, v, stream, ctx, side, me, peer, server);
    if (fl & Flag.DUPLICATE_ACK && s.duplicateAck) {
      const sack = this.sackEdge(v, stream, side);
      return `duplicate ACK #${s.duplicateAck.number}: ${me} is missing ${s.ack}:${sack ?? `(data after ${s.ack})`}`;
    }
    const parts: string[] = [];
    if (fl & Flag.LOST_PACKET) parts.push(`previous segment not captured: ${me}'s bytes before ${s.seq} are not in the capture`);
    if (fl & Flag.ACK_LOST_PACKET) parts.push(`ACKed unseen segment: ${me} acknowledges ${peer}'s data up to ${s.ack}, more than the capture shows`);
    if (fl & Flag.ZERO_WINDOW) parts.push(`zero window: ${me}'s receive buffer is full, ${peer} must wait`);
    if (fl & Flag.WINDOW_FULL) parts.push(`window full: this fills the window ${peer} offered`);
    if (fl & Flag.WINDOW_UPDATE) parts.push(`window update: ${me} has room again (window ${s.scaledWindow})`);
    const flagged = parts.join('; ');
    const base = this.unflagged(s, v, stream, ctx, side, me, peer, server);
    return flagged ? (base ? `${flagged}; ${base}` : flagged) : base;
  }

  /** What the segment does in the conversation: open, data, ACK, close, reset. */
  private unflagged(s: SegmentAnalysis, v: FrameView, stream: Stream, ctx: Context, side: number, me: string, peer: string, server: string): string {
    const f = s.tcpFlags;
    if (f & RST) return this.reset(s, stream, ctx, me);
    if (f & SYN) return this.open(s, v, stream, ctx, me, server);
    if (f & FIN) return this.fin(s, ctx, side, me);
    return this.plain(s, stream, ctx, side, me, peer);
  }

  private options(v: FrameView): string {
    const o = v.optionsLength > 0 ? readTcpOptions(v.bytes, v.optionsOffset, v.optionsLength, this.opts) : undefined;
    if (!o) return 'no options';
    const out: string[] = [];
    if (o.mss) out.push(`mss ${o.mss}`);
    if (o.sackOk) out.push('sackOK');
    if (o.timestamps) out.push('timestamps');
    if (o.wscale >= 0) out.push(`wscale ${o.wscale}`);
    return out.length ? out.join(', ') : 'no options';
  }

  private open(s: SegmentAnalysis, v: FrameView, stream: Stream, ctx: Context, me: string, server: string): string {
    const isn = v.seq;
    if (s.tcpFlags & ACK) {
      ctx.synAckSeen++;
      if (this.listening.size > 10_000) this.listening.clear();
      this.listening.add(server);
      return `${me} accepts: SYN-ACK, ISN ${isn}, acks the SYN, offers ${this.options(v)}`;
    }
    if (!s.fromClient) return `${me} opens too: SYN, ISN ${isn} (a simultaneous open)`;
    return `client opens: SYN, ISN ${isn}, offers ${this.options(v)} (the three-way handshake begins)`;
  }

  private reset(s: SegmentAnalysis, stream: Stream, ctx: Context, me: string): string {
    if (!s.fromClient && stream.segments <= 3 && !ctx.synAckSeen) {
      return `nothing listens on ${stream.server.address}:${stream.server.port}: the kernel answers RST (RST from a closed port)`;
    }
    const mine = ctx.fin[s.fromClient ? 0 : 1]! >= 0;
    const theirs = ctx.fin[s.fromClient ? 1 : 0]! >= 0;
    const peer = who(s.fromClient ? 1 : 0);
    if (mine && !theirs) return `${me} ends it with RST: the ${peer} never closed its side (it sat in CLOSE-WAIT)`;
    if (theirs && !mine) return `${me} resets instead of closing: it sat in CLOSE-WAIT after the ${peer}'s FIN`;
    return `${me} resets the connection (RST): both ends forget it at once`;
  }

  private fin(s: SegmentAnalysis, ctx: Context, side: number, me: string): string {
    const other = 1 - side;
    // The ACK that covers the FIN (tcp.nxtseq does not count a bare FIN).
    ctx.fin[side] = (s.seq + s.length + 1) >>> 0;
    const withData = s.length > 0 ? ` with its data (${ctx.lastData[side]})` : '';
    if (ctx.firstCloser < 0) {
      ctx.firstCloser = side as 0 | 1;
      const rides = s.length > 0 ? `its FIN rides on its data (${ctx.lastData[side]})` : ctx.lastData[other] ? `its FIN rides on the ACK of ${ctx.lastData[other]}` : 'FIN';
      return `${me} closes first: ${rides}`;
    }
    if (ctx.fin[other] >= 0 && s.tcpFlags & ACK && s.ack === ctx.fin[other]) {
      if (!ctx.close) {
        ctx.close = '3-packet close';
        return `${me} acks the FIN and closes in the same segment${withData} (the three-packet close: FIN, FIN-ACK, ACK)`;
      }
      return `${me} closes too${withData}: its FIN (the ${ctx.close}; ${me} in LAST-ACK)`;
    }
    ctx.close = 'simultaneous close';
    return `${me} closes at the same time: the two FINs cross (simultaneous close, both sides CLOSING)`;
  }

  private plain(s: SegmentAnalysis, stream: Stream, ctx: Context, side: number, me: string, peer: string): string {
    const other = 1 - side;
    if (!ctx.handshakeDone && s.tcpFlags & ACK && !s.length && (s.client === 'ESTABLISHED' || s.server === 'ESTABLISHED') && stream.segments <= 4) {
      ctx.handshakeDone = true;
      const irtt = s.initialRtt !== undefined ? ` (iRTT ${ms(s.initialRtt)})` : '';
      return `${me} acks the SYN-ACK: the three-way handshake is complete${irtt}`;
    }
    if (s.length > 0) {
      const acked = s.acks ? `, acking ${peer}'s data` : '';
      return `${me} sends ${s.length} bytes ${ctx.lastData[side]} (data, ${range(s)})${acked}`;
    }
    const finOfPeer = ctx.fin[other];
    if (finOfPeer >= 0 && s.ack === finOfPeer) {
      if (ctx.fin[side] >= 0) {
        const last = ctx.close === 'simultaneous close' ? 'simultaneous close: each side acks the other FIN' : 'the last ACK';
        const waiter = ctx.firstCloser >= 0 ? who(ctx.firstCloser) : me;
        return `${me} acks ${peer}'s FIN: ${last}; the ${waiter} waits in TIME-WAIT, the other is CLOSED`;
      }
      if (!ctx.close) ctx.close = '4-packet close';
      return `${me} acks ${peer}'s FIN alone (a 4-packet close: ${me}'s own FIN comes later; ${me} is in CLOSE-WAIT until it closes)`;
    }
    if (s.acks) return `${me} acks ${peer}'s data up to ${s.ack} (after ${ms(s.acks.rtt)})`;
    return `${me} acks up to ${s.ack}`;
  }

  /** The left edge of the first SACK block, as relative seq of the peer's data. */
  private sackEdge(v: FrameView, stream: Stream, side: number): number | undefined {
    const o = v.optionsLength > 0 ? readTcpOptions(v.bytes, v.optionsOffset, v.optionsLength, this.opts) : undefined;
    if (!o || o.sack.length < 2) return undefined;
    const peerFlow = side === 0 ? stream.s2c : stream.c2s;
    return (o.sack[0]! - peerFlow.baseSeq) >>> 0;
  }
}

const range = (s: SegmentAnalysis): string => `${s.seq}:${s.nextSeq}`;
