/**
 * TCP analysis of observed packets, the library: per-segment analysis (analyze, Analyzer),
 * conversation statistics (conversations), Follow TCP Stream (follow), plain-language notes
 * (Explainer). Input is any iterable of frames: records from readPcap(), or what sniff() and
 * a Conversation's trace give (see framesOf()).
 */
import { readPcapBatchesSync, readPcapBatches, scanFramesSync } from '../pcap/read.js';
import type { Packet } from '../packet/packet.js';
import { Analyzer, type FrameInput, type SegmentAnalysis } from './analyzer.js';
import { Explainer, type Explanation } from './explain.js';
import { ConversationCounter, RelativeClock, TcpConversations, type ConvKind, type ConversationStats } from './conv.js';
import { decodeFrame, FrameView, Transport } from './frame.js';
import { StreamIndexer } from './streams.js';
import { StreamFollower, type FollowChunk, type FollowNodes } from './follow.js';

export { Analyzer, analyze, analyzeSync, Stream, type FrameInput, type SegmentAnalysis, type Endpoint, type AnalyzerOptions } from './analyzer.js';
export { Flag, FLAGS, flagNames, flagLabels, type FlagName } from './flags.js';
export { ConversationCounter, formatConversations, formatSize, type ConvKind, type ConversationStats } from './conv.js';
export { StreamFollower, formatFollow, httpStarts, type FollowChunk, type FollowNodes } from './follow.js';
export { Explainer, formatExplanation, type Explanation } from './explain.js';

/** Link types by the name of a packet's first layer. */
const LINK_OF_LAYER: Record<string, number> = { IP: 101, IPv6: 101, Ether: 1, CookedLinux: 113, CookedLinuxV2: 276, Loopback: 0 };

/**
 * Frames from packets (sniff() results, a Conversation's trace entries): the packet's bytes
 * with the link type its first layer implies, stamped with the packet's time (µs).
 */
export function* framesOf(packets: Iterable<Packet | { packet: Packet }>): Generator<FrameInput> {
  for (const item of packets) yield frameOf('packet' in item ? item.packet : item);
}

/** One packet as a frame (see framesOf). */
export function frameOf(p: Packet): FrameInput {
  const linkType = LINK_OF_LAYER[p.layers[0]?.name ?? ''] ?? 101;
  const micros = p.time ?? 0;
  return { data: p.bytes(), linkType, seconds: Math.floor(micros / 1e6), nanos: Math.round((micros % 1e6) * 1000) };
}

/** What explainTrace() says about one packet: the analysis, and the note with both states. */
export interface TraceExplanation extends Explanation {
  /** undefined for a packet that is not TCP. */
  analysis: SegmentAnalysis | undefined;
}

/**
 * The --explain notes for packets in order: a conversation's `trace`, what sniff() returned,
 * or any packets. One entry per packet (note '' for a packet that is not TCP).
 *
 *   for (const e of explainTrace(c.trace)) console.log(e.note, e.client, e.server);
 */
export function explainTrace(packets: Iterable<Packet | { packet: Packet }>): TraceExplanation[] {
  const analyzer = new Analyzer();
  const explainer = new Explainer(analyzer);
  const out: TraceExplanation[] = [];
  for (const frame of framesOf(packets)) {
    const s = analyzer.add(frame);
    out.push(s ? { ...explainer.explain(s), analysis: s } : { labels: [], note: '', client: 'CLOSED', server: 'CLOSED', analysis: undefined });
  }
  return out;
}

/**
 * Conversations of a capture file, by kind, in tshark's order. TCP conversations are told apart
 * by tcp.stream numbers alone (StreamIndexer): the rest of the analysis changes no count.
 */
export function conversations(path: string, kinds: readonly ConvKind[] = ['tcp', 'udp', 'ipv4', 'ipv6']): Record<ConvKind, ConversationStats[]> {
  const streams = new StreamIndexer();
  const tcp = new TcpConversations();
  // UDP and IP conversations, only when asked for: TCP frames count there by address only.
  const others = kinds.some((k) => k !== 'tcp') ? new ConversationCounter() : undefined;
  const clock = new RelativeClock();
  const v = new FrameView();
  // Frames where they lie in each read chunk, decoded into one reused view: no record, no
  // slice, no object per frame.
  scanFramesSync(path, (buf, start, caplen, origLen, seconds, nanos, linkType) => {
    const t = clock.at(seconds, nanos);
    if (decodeFrame(buf, start, caplen, linkType, v) && v.transport === Transport.TCP && !v.short) {
      tcp.add(streams.add(v), streams.fromClient, v, origLen, t);
    }
    others?.add(v, origLen, seconds, nanos, undefined);
  });
  const out = {} as Record<ConvKind, ConversationStats[]>;
  for (const k of kinds) out[k] = k === 'tcp' ? tcp.list() : others!.list(k);
  return out;
}

/** One stream of a file, reassembled (every chunk in order, both directions). */
export function followFile(path: string, stream = 0): { nodes: FollowNodes | undefined; chunks: FollowChunk[] } {
  const analyzer = new Analyzer();
  const follower = new StreamFollower(stream);
  for (const batch of readPcapBatchesSync(path)) {
    for (const rec of batch) {
      const s = analyzer.add(rec);
      if (s && s.stream === stream) follower.add(s, analyzer.lastFrame);
    }
  }
  return { nodes: follower.nodes, chunks: follower.chunks };
}

export interface FollowStreams {
  /** What the client sent, in order, as it is reassembled. */
  client: AsyncIterable<Buffer>;
  /** What the server sent. */
  server: AsyncIterable<Buffer>;
  /** Both directions interleaved as the capture shows them. */
  chunks: AsyncIterable<FollowChunk>;
}

/**
 * One stream of a capture file (or any frames) as async iterables per direction. Each
 * iterable reads the input on demand; chunks of the direction not being read wait in memory
 * until it is (iterate both, or use `chunks`).
 */
export function follow(source: string | Iterable<FrameInput> | AsyncIterable<FrameInput>, opts: { stream?: number } = {}): FollowStreams {
  const stream = opts.stream ?? 0;
  // A direction's queue fills only once its iterable was asked for.
  const queues: [FollowChunk[] | undefined, FollowChunk[] | undefined, FollowChunk[] | undefined] = [undefined, undefined, undefined];
  const follower = new StreamFollower(stream, (c) => {
    queues[c.fromServer ? 1 : 0]?.push(c);
    queues[2]?.push(c);
  });
  const analyzer = new Analyzer();
  const frames: AsyncIterator<FrameInput> =
    typeof source === 'string'
      ? (async function* () {
          for await (const batch of readPcapBatches(source)) yield* batch;
        })()
      : (async function* () {
          yield* source as AsyncIterable<FrameInput>;
        })();
  let done = false;
  let pumping: Promise<void> | undefined;
  const pump = async (): Promise<void> => {
    const r = await frames.next();
    if (r.done) {
      done = true;
      return;
    }
    const s = analyzer.add(r.value);
    if (s && s.stream === stream) follower.add(s, analyzer.lastFrame);
  };
  async function* drain(q: FollowChunk[]): AsyncGenerator<FollowChunk> {
    for (;;) {
      while (q.length) yield q.shift()!;
      if (done) return;
      pumping ??= pump().finally(() => (pumping = undefined));
      await pumping;
    }
  }
  async function* data(q: FollowChunk[]): AsyncGenerator<Buffer> {
    for await (const c of drain(q)) if (!c.missing) yield c.data;
  }
  const open = (i: 0 | 1 | 2): FollowChunk[] => (queues[i] ??= []);
  return {
    get client() {
      return data(open(0));
    },
    get server() {
      return data(open(1));
    },
    get chunks() {
      return drain(open(2));
    },
  };
}
