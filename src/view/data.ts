/**
 * What a view page is given: the shape of the JSON that src/view/model.ts writes into the page
 * and src/view/page/ reads. Columns rather than one object per packet, so that a capture of
 * 100,000 packets parses quickly (arrays of numbers) and stays a few bytes per field.
 */
import type { ConversationStats } from '../analysis/conv.js';

/** Index into ViewData.strings (0 is the empty string). */
export type StringRef = number;

export interface ViewData {
  /** What the page shows in its title: the file, or the conversation. */
  title: string;
  /**
   * The name files that show() and the filter compiler read (/etc/services, /etc/protocols),
   * which a page cannot read: their text, by path.
   */
  files: Record<string, string>;
  /** Packets in the view. */
  count: number;
  /** Every packet's captured bytes, one after another, base64. */
  bytes: string;
  /** Where packet i's bytes start in `bytes` (decoded); offsets[count] is the end. */
  offsets: number[];
  linkTypes: number[];
  wireLengths: number[];
  seconds: number[];
  nanos: number[];
  /** The line `synack read` prints (tcpdump -nn), per packet. */
  lines: string[];
  /** Shared strings: states, flag labels, notes. */
  strings: string[];
  /** The analysis of each TCP segment (stream -1: not TCP, the other columns are then 0). */
  tcp: TcpColumns;
  streams: StreamInfo[];
  conversations: Record<'tcp' | 'udp' | 'ipv4' | 'ipv6', ConversationStats[]>;
  /** The reassembled payload of each stream, by stream index; missing when the view's budget for it ran out. */
  follow: Record<number, FollowData>;
}

export interface TcpColumns {
  stream: number[];
  /** 1: the client sent it. */
  fromClient: number[];
  /** The analysis labels, joined by '\n' ('TCP Retransmission'). */
  labels: StringRef[];
  /** The --explain note. */
  note: StringRef[];
  /** Both endpoints' states after the segment. */
  client: StringRef[];
  server: StringRef[];
  /** Relative sequence and acknowledgement numbers, payload length, TCP flag bits. */
  seq: number[];
  ack: number[];
  length: number[];
  tcpFlags: number[];
  /** Milliseconds since the stream's first segment. */
  time: number[];
}

export interface StreamInfo {
  index: number;
  /** 'address.port', as tcpdump writes endpoints. */
  client: string;
  server: string;
  /** Packet indices (from 0) of the stream's segments, in order. */
  packets: number[];
}

export interface FollowData {
  client: string;
  server: string;
  chunks: Array<{ fromServer: boolean; frame: number; text: string; missing: boolean }>;
}
