/**
 * The view's data from frames (a capture file's records, sniff() results or a conversation's
 * trace): each packet's bytes and its line as `synack read` prints it, and for TCP the
 * analyzer's words (stream, flags, both endpoints' states, the --explain note), the streams,
 * the conversations table and each stream's reassembled payload. Everything the page shows
 * that needs the whole capture in order is computed here, once; what needs one packet (its
 * layer tree, its bytes) the page computes when it is selected.
 */
import { readFileSync } from 'node:fs';
import { Analyzer, ConversationCounter, Explainer, StreamFollower, type FrameInput, type FollowChunk } from '../analysis/index.js';
import { createPrinter } from '../show/printer.js';
import { usageError } from '../wire/errors.js';
import type { FollowData, StreamInfo, TcpColumns, ViewData } from './data.js';

/** A frame for the view: what the analyzer takes, with the length it had on the wire when known. */
export interface ViewFrame extends FrameInput {
  origLen?: number;
}

/** Bounds: the page holds every packet, so the view takes at most this many, and this many bytes. */
export const MAX_VIEW_PACKETS = 1_000_000;
export const MAX_VIEW_BYTES = 256 * 1024 * 1024;
/** Reassembled payload kept for the follow pane, all streams together, and how many streams. */
const FOLLOW_BUDGET = 16 * 1024 * 1024;
const MAX_FOLLOWED = 5000;

/** The name files the page's show() and filter compiler would read (they cannot read files there). */
const NAME_FILES = ['/etc/services', '/etc/protocols'];

function nameFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const path of NAME_FILES) {
    try {
      // Comments and blank lines left out: the page needs the names only.
      files[path] = readFileSync(path, 'latin1').split('\n').map((l) => l.replace(/#.*/, '').trimEnd()).filter((l) => l !== '').join('\n');
    } catch {
      // No such file here: show() prints numbers, as it would in Node.
    }
  }
  return files;
}

const endpoint = (address: string, port: number): string => `${address}.${port}`;

/** The view's data for frames in capture order. */
export function buildViewData(frames: Iterable<ViewFrame>, title: string): ViewData {
  const printer = createPrinter();
  const analyzer = new Analyzer();
  const explainer = new Explainer(analyzer);
  const counter = new ConversationCounter();
  const strings: string[] = [''];
  const stringIndex = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let i = stringIndex.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      stringIndex.set(s, i);
    }
    return i;
  };
  const tcp: TcpColumns = { stream: [], fromClient: [], labels: [], note: [], client: [], server: [], seq: [], ack: [], length: [], tcpFlags: [], time: [] };
  const lines: string[] = [];
  const chunks: Buffer[] = [];
  const offsets: number[] = [0];
  const linkTypes: number[] = [];
  const wireLengths: number[] = [];
  const seconds: number[] = [];
  const nanos: number[] = [];
  const streams: StreamInfo[] = [];
  const followers = new Map<number, { follower: StreamFollower; chunks: FollowChunk[] }>();
  let followed = 0;
  let total = 0;
  let n = 0;
  for (const f of frames) {
    if (n >= MAX_VIEW_PACKETS || total + f.data.length > MAX_VIEW_BYTES) {
      throw usageError(`too much for one view: more than ${n} packets (${total} bytes); keep fewer with a filter or -c N`);
    }
    const origLen = f.origLen ?? f.data.length;
    lines.push(printer.formatRecord({ data: f.data, origLen, seconds: f.seconds, nanos: f.nanos, linkType: f.linkType }));
    chunks.push(f.data);
    total += f.data.length;
    offsets.push(total);
    linkTypes.push(f.linkType);
    wireLengths.push(origLen);
    seconds.push(f.seconds);
    nanos.push(f.nanos);
    const s = analyzer.add(f);
    const v = analyzer.lastFrame;
    counter.add(v, origLen, f.seconds, f.nanos, s?.stream);
    if (s) {
      const e = explainer.explain(s);
      tcp.stream.push(s.stream);
      tcp.fromClient.push(s.fromClient ? 1 : 0);
      tcp.labels.push(ref(e.labels.join('\n')));
      tcp.note.push(ref(e.note));
      tcp.client.push(ref(e.client));
      tcp.server.push(ref(e.server));
      tcp.seq.push(s.seq);
      tcp.ack.push(s.ack);
      tcp.length.push(s.length);
      tcp.tcpFlags.push(s.tcpFlags);
      tcp.time.push(Math.round(s.time * 1e6) / 1e3);
      let info = streams[s.stream];
      if (!info) {
        const stream = analyzer.lastStream!;
        info = streams[s.stream] = { index: s.stream, client: endpoint(stream.client.address, stream.client.port), server: endpoint(stream.server.address, stream.server.port), packets: [] };
        if (followers.size < MAX_FOLLOWED) {
          const kept: FollowChunk[] = [];
          followers.set(s.stream, {
            chunks: kept,
            follower: new StreamFollower(s.stream, (c) => {
              if (followed + c.data.length > FOLLOW_BUDGET) return;
              followed += c.data.length;
              kept.push(c);
            }),
          });
        }
      }
      info.packets.push(n);
      followers.get(s.stream)?.follower.add(s, v);
    } else {
      for (const column of Object.values(tcp) as number[][]) column.push(column === tcp.stream ? -1 : 0);
    }
    n++;
  }
  const follow: Record<number, FollowData> = {};
  for (const [index, { follower, chunks: kept }] of followers) {
    if (followed > FOLLOW_BUDGET && kept.length === 0) continue;
    follow[index] = {
      client: follower.nodes?.client ?? '',
      server: follower.nodes?.server ?? '',
      chunks: kept.map((c) => ({ fromServer: c.fromServer, frame: c.frame, text: c.missing ? c.data.toString('latin1').replace(/\0$/, '') : c.data.toString('latin1'), missing: c.missing === true })),
    };
  }
  return {
    title,
    files: nameFiles(),
    count: n,
    bytes: Buffer.concat(chunks, total).toString('base64'),
    offsets,
    linkTypes,
    wireLengths,
    seconds,
    nanos,
    lines,
    strings,
    tcp,
    streams: streams.filter((s) => s !== undefined),
    conversations: { tcp: counter.list('tcp'), udp: counter.list('udp'), ipv4: counter.list('ipv4'), ipv6: counter.list('ipv6') },
    follow,
  };
}
