/**
 * The parsed form of a conversation script: packetdrill's packet lines, seen from the server
 * under test ('<' we send to it, '>' it must send), plus a few directives. Every node keeps
 * its line (and, where useful, column) so that errors and check failures can point at it.
 */

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
}

/** `quiet DURATION`: the server must send nothing for that long. */
export interface QuietLine {
  type: 'quiet';
  line: number;
  text: string;
  time: TimeSpec;
  /** Seconds. */
  duration: number;
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

export type Directive = TargetDirective | ToleranceDirective | RetransmitsDirective;
export type ScriptEvent = PacketLine | QuietLine;
export type ScriptStatement = ScriptEvent | Directive;

export interface Script {
  /** Where it came from, for messages ('<inline>' when parsed from a string). */
  source: string;
  statements: ScriptStatement[];
}
