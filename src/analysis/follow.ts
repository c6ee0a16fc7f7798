/**
 * Follow TCP Stream: the payload of one stream, both directions, reassembled as Wireshark's
 * follow tap does it (packet-tcp.c, follow_tcp_tap_listener): bytes already seen are dropped
 * (retransmissions, overlaps), segments ahead of a gap wait until it is filled, and when the
 * other side acknowledges past a gap that the capture never filled, the gap becomes a
 * "[N bytes missing in capture file]" chunk. Output in the forms of
 * `tshark -q -z follow,tcp,ascii,N` and `follow,tcp,raw,N`.
 *
 * Chunks are kept in memory (that is what a follow shows); the fragments waiting for a gap are
 * bounded by what the capture holds of the stream.
 */
import type { SegmentAnalysis } from './analyzer.js';
import type { FrameView } from './frame.js';

const SYN = 0x02;
const ACK = 0x10;

const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const gt = (a: number, b: number): boolean => ((a - b) | 0) > 0;

export interface FollowChunk {
  /** true: from the server (node 1); false: from the client (node 0). */
  fromServer: boolean;
  /** Frame that carried it (or that revealed the gap, for a missing-bytes chunk). */
  frame: number;
  data: Buffer;
  /** A "[N bytes missing in capture file]" chunk. */
  missing?: boolean;
  /** HTTP messages that start in this chunk: where, and their first line. */
  http?: Array<{ offset: number; kind: 'request' | 'response'; line: string }>;
}

interface Fragment {
  fromServer: boolean;
  frame: number;
  seq: number;
  data: Buffer;
}

export interface FollowNodes {
  client: string;
  server: string;
}

/** Reassembles one stream from the segments the analyzer numbers. */
export class StreamFollower {
  readonly stream: number;
  /** Every chunk so far, in order (kept only when no onChunk listener takes them). */
  readonly chunks: FollowChunk[] = [];
  nodes: FollowNodes | undefined;
  private readonly seq = [0, 0];
  private readonly written = [0, 0];
  private readonly fragments: [Fragment[], Fragment[]] = [[], []];
  private readonly onChunk: ((c: FollowChunk) => void) | undefined;

  constructor(stream: number, onChunk?: (c: FollowChunk) => void) {
    this.stream = stream;
    this.onChunk = onChunk;
  }

  /** Offers one analysed segment and its decoded frame (ignored unless it is of this stream). */
  add(s: SegmentAnalysis, v: FrameView): void {
    if (s.stream !== this.stream) return;
    if (!this.nodes) {
      const fmt = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
      this.nodes = { client: fmt(v.srcText(), v.sport), server: fmt(v.dstText(), v.dport) };
      this.clientKey = v.srcKey;
      this.clientPort = v.sport;
    }
    const fromServer = !(v.srcKey === this.clientKey && v.sport === this.clientPort);
    const me = fromServer ? 1 : 0;
    let sequence = s.seq;
    if (s.tcpFlags & SYN) sequence = (sequence + 1) >>> 0;
    let length = s.length;
    let dataOffset = 0;
    let dataLength = v.payloadCaptured;

    if (this.fragments[1 - me]!.length) {
      const ack = s.tcpFlags & ACK ? s.ack : 0;
      while (this.checkFragments(1 - me, ack, s.frame, true));
    }
    if (this.written[me] === 0 && this.seq[me] === 0) this.seq[me] = sequence;
    if (lt(sequence, this.seq[me]!)) {
      const next = (sequence + length) >>> 0;
      if (gt(next, this.seq[me]!)) {
        dataOffset = (this.seq[me]! - sequence) >>> 0;
        dataLength = dataLength <= dataOffset ? 0 : dataLength - dataOffset;
        sequence = this.seq[me]!;
        length = (next - this.seq[me]!) >>> 0;
      }
    }
    if (dataLength === 0 || lt(sequence, this.seq[me]!)) return;
    const start = v.payloadOffset + dataOffset;
    const data = Buffer.from(v.bytes.subarray(start, start + dataLength));
    if (sequence === this.seq[me]) {
      this.seq[me] = (this.seq[me]! + length) >>> 0;
      this.written[me] = this.written[me]! + data.length;
      this.emit({ fromServer, frame: s.frame, data });
      while (this.checkFragments(me, 0, s.frame, false));
    } else {
      this.fragments[me]!.push({ fromServer, frame: s.frame, seq: sequence, data });
    }
  }

  private clientKey = '';
  private clientPort = 0;

  private emit(c: FollowChunk): void {
    if (!c.missing) {
      const http = httpStarts(c.data);
      if (http.length) c.http = http;
    }
    if (this.onChunk) this.onChunk(c);
    else this.chunks.push(c);
  }

  /** Wireshark's check_follow_fragments: applies one waiting fragment, or fills a gap the peer acked. */
  private checkFragments(side: number, acknowledged: number, frame: number, useAck: boolean): boolean {
    const list = this.fragments[side]!;
    if (list.length === 0) return false;
    let lowest = list[0]!.seq;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (gt(lowest, f.seq)) lowest = f.seq;
      if (lt(f.seq, this.seq[side]!)) {
        const next = (f.seq + f.data.length) >>> 0;
        if (gt(next, this.seq[side]!)) {
          const pos = (this.seq[side]! - f.seq) >>> 0;
          if (f.data.length > pos) this.emit({ fromServer: f.fromServer, frame: f.frame, data: f.data.subarray(pos) });
          this.seq[side] = (this.seq[side]! + f.data.length - pos) >>> 0;
        }
        list.splice(i, 1);
        return true;
      }
      if (f.seq === this.seq[side]) {
        if (f.data.length > 0) this.emit({ fromServer: f.fromServer, frame: f.frame, data: f.data });
        this.seq[side] = (this.seq[side]! + f.data.length) >>> 0;
        list.splice(i, 1);
        return true;
      }
    }
    if (useAck && gt(acknowledged, lowest)) {
      const text = `[${(lowest - this.seq[side]!) | 0} bytes missing in capture file]`;
      this.emit({ fromServer: side === 1, frame, data: Buffer.from(text + '\0', 'latin1'), missing: true });
      this.seq[side] = lowest;
      return true;
    }
    return false;
  }
}

const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP\/\d\.\d\r?$/;
const STATUS_LINE = /^HTTP\/\d\.\d \d{3}( .*)?\r?$/;

/** HTTP/1.x request and status lines that begin a line of this chunk. */
export function httpStarts(data: Buffer): Array<{ offset: number; kind: 'request' | 'response'; line: string }> {
  const out: Array<{ offset: number; kind: 'request' | 'response'; line: string }> = [];
  // Cheap test first: most chunks of a bulk transfer are not HTTP heads.
  const head = data.subarray(0, 5).toString('latin1');
  if (!/^(GET |POST|PUT |DELE|HEAD|OPTI|PATC|CONN|TRAC|HTTP)/.test(head) && data.indexOf('\nHTTP/') < 0 && data.indexOf(' HTTP/1.') < 0) return out;
  let offset = 0;
  while (offset < data.length && out.length < 64) {
    let end = data.indexOf(0x0a, offset);
    if (end < 0) end = data.length;
    if (end - offset <= 8192) {
      const line = data.toString('latin1', offset, end);
      if (REQUEST_LINE.test(line)) out.push({ offset, kind: 'request', line: line.replace(/\r$/, '') });
      else if (STATUS_LINE.test(line)) out.push({ offset, kind: 'response', line: line.replace(/\r$/, '') });
    }
    offset = end + 1;
  }
  return out;
}

const SEPARATOR = '===================================================================';

/** Printable ASCII as tshark's ascii form prints it: other bytes become '.', newlines stay. */
function asciiText(data: Buffer): string {
  let s = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    s += (c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 ? String.fromCharCode(c) : '.';
  }
  return s;
}

/** tshark's `-z follow,tcp,<form>,N` output. `markHttp` adds a line before each chunk where HTTP messages start. */
export function formatFollow(form: 'ascii' | 'raw', stream: number, nodes: FollowNodes | undefined, chunks: readonly FollowChunk[], markHttp = false): string {
  const parts: string[] = ['', SEPARATOR, `Follow: tcp,${form}`, `Filter: tcp.stream eq ${stream}`, `Node 0: ${nodes?.client ?? ':0'}`, `Node 1: ${nodes?.server ?? ':0'}`];
  let out = parts.join('\n') + '\n';
  for (const c of chunks) {
    const tab = c.fromServer ? '\t' : '';
    if (markHttp && c.http) for (const h of c.http) out += `${tab}[HTTP ${h.kind} at +${h.offset}: ${h.line}]\n`;
    if (form === 'ascii') out += `${tab}${c.data.length}\n${asciiText(c.data)}\n`;
    else out += `${tab}${c.data.toString('hex')}\n`;
  }
  return out + SEPARATOR + '\n';
}
