/**
 * The parsed form of a conversation script: packetdrill's packet lines, seen from the server
 * under test ('<' we send to it, '>' it must send), plus a few directives. Every node keeps
 * its line (and, where useful, column) so that errors and check failures can point at it.
 */

import type { LocalLine } from './local/lines.js';

/** When an event happens, in seconds. */
export type TimeSpec =
  /** Seconds since the script began. */
  | { kind: 'absolute'; at: number }
  /** Seconds after the previous event actually happened. */
  | { kind: 'relative'; at: number }
  /** Any time (a '>' line waits for its segment; a '<' line goes at once). */
  | { kind: 'any' }
  /** Anywhere between two times, each absolute or relative (`0.1~0.3`, `+0.1~+0.3`). */
  | { kind: 'range'; from: { relative: boolean; at: number }; to: { relative: boolean; at: number } };

/** One TCP option as a script writes it (packetdrill's spelling). */
export type ScriptOption =
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; value: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'TS'; val: number; ecr: number }
  | { kind: 'nop' }
  | { kind: 'eol' }
  /** TCP Fast Open (kind 34, RFC 7413): `FO` alone asks for a cookie, `FO 0011aabb` carries one. */
  | { kind: 'FO'; cookie: Buffer }
  /** The experimental Fast Open option (kind 254, magic 0xF989), packetdrill's `FOEXP`. */
  | { kind: 'FOEXP'; cookie: Buffer }
  /** TCP MD5 signature (kind 19, RFC 2385) with the digest bytes as written (not computed). */
  | { kind: 'md5'; digest: Buffer }
  /** Any other kind, with its value bytes (written `kind 30 0x0102`). */
  | { kind: 'raw'; code: number; data: Buffer };

export interface PacketLine {
  type: 'packet';
  line: number;
  /** The line as written (without its comment), for failure reports. */
  text: string;
  time: TimeSpec;
  /** '<' we send it to the server; '>' the server must send it. */
  direction: '<' | '>';
  /** TCP flag bits (TCPFlag), from packetdrill's letters ('S.', 'P.', 'F.', 'R', '.', '-'). */
  flags: number;
  /** Relative sequence number of the first byte, and the payload length. */
  seq: number;
  length: number;
  /** Relative acknowledgment number; undefined: not checked ('>'), or our rcv.nxt ('<'). */
  ack: number | undefined;
  /** The raw window field; undefined: not checked ('>'), or a default ('<'). */
  win: number | undefined;
  /** undefined: no options at all; 'any': `<...>`, options not checked. */
  options: ScriptOption[] | 'any' | undefined;
  /** The payload bytes when given ('"text"' or 0xhex); otherwise only the length counts. */
  payload: Buffer | undefined;
  urg: number | undefined;
  /** The IP header's ECN bits as packetdrill writes them (`[ect0]`, `[noecn]`); undefined: not checked ('>'), not-ECT ('<'). */
  ecn: EcnMark | undefined;
  /**
   * Which connection the line belongs to: the name before the direction (`+0 b < S 0:0(0)`).
   * A line without one belongs to the script's first named connection (the parser writes its
   * name here); undefined only in a script that names none (its one connection).
   */
  conn: string | undefined;
}

/**
 * packetdrill's ICMP line: `< icmp TYPE [CODE] [mtu N] [[start:end(len)]]`, an ICMP error we
 * send about a segment of the kernel's (script-side numbers; icmp.ts builds it).
 */
export interface IcmpLine {
  type: 'icmp';
  line: number;
  text: string;
  time: TimeSpec;
  direction: '<';
  /** packetdrill's names ('unreachable', 'frag_needed', 'type_3'...): resolved per address family when sent. */
  icmpType: string;
  icmpCode: string | undefined;
  mtu: number | undefined;
  /** The quoted segment: the kernel's relative seq and its payload length (0 and 0 without brackets). */
  quotedSeq: number;
  quotedLength: number;
  conn: string | undefined;
}

/** packetdrill's IP ECN marks; `ect01` (ECT(0) or ECT(1)) is for '>' lines only. */
export type EcnMark = 'noecn' | 'ect0' | 'ect1' | 'ce' | 'ect01';

/** `quiet DURATION`: the server must send nothing for that long. */
export interface QuietLine {
  type: 'quiet';
  line: number;
  text: string;
  time: TimeSpec;
  /** Seconds. */
  duration: number;
  /** `+0 b quiet 0.2`: only that connection must be quiet; undefined: every connection. */
  conn: string | undefined;
}

export interface TargetDirective {
  type: 'target';
  line: number;
  host: string;
  port: number;
}

export interface ToleranceDirective {
  type: 'tolerance';
  line: number;
  /** Seconds. */
  seconds: number;
}

export interface RetransmitsDirective {
  type: 'retransmits';
  line: number;
  /** Whether a repeat of the segment the server sent last is skipped instead of failing the check. */
  allow: boolean;
}

/** `psh ignore`: the PSH bit of '>' segments is not compared (a live sender pushes where its writes fall). */
export interface PshDirective {
  type: 'psh';
  line: number;
  ignore: boolean;
}

/** A packetdrill `--name=value` line (the run's settings, before the first event). */
export interface OptionDirective {
  type: 'option';
  line: number;
  name: string;
  value: string | undefined;
}

export type Directive = TargetDirective | ToleranceDirective | RetransmitsDirective | PshDirective | OptionDirective;
export type ScriptEvent = PacketLine | QuietLine | IcmpLine;
/** System calls, shell lines and python blocks: parsed and run in local mode only (local/lines.ts). */
export type ScriptStatement = ScriptEvent | Directive | LocalLine;

export interface Script {
  /** Where it came from, for messages ('<inline>' when parsed from a string). */
  source: string;
  statements: ScriptStatement[];
  /** Settings from `--name=value` lines that the runner honours. */
  settings: ScriptSettings;
  /** The connections the script names, in the order they first appear; empty: one, unnamed. */
  connections: string[];
}

export interface ScriptSettings {
  /** `--tolerance_usecs=N`, in seconds. */
  tolerance?: number;
  /** `--strict_segments`: one '>' line is one segment, never several joined. */
  strictSegments?: boolean;
}
