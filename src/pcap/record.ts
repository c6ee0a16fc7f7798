/**
 * One record of a capture file, whatever the format: the packet bytes plus the metadata
 * pcap and pcapng keep beside them. Timestamps are kept as whole seconds plus nanoseconds
 * (both plain numbers, exact for any file) so that printing and sorting need no BigInt; the
 * BigInt form is computed on demand.
 */
import type { FrameTest } from './filter/index.js';

export class PcapRecord {
  /**
   * The captured bytes. A slice of a read buffer that the reader never reuses or overwrites,
   * so it stays valid as long as you hold it (it keeps its chunk, at most a few hundred KiB,
   * alive: copy it with Buffer.from() if you keep a few packets out of a huge file).
   */
  data: Buffer;
  /** Bytes captured (data.length). */
  caplen: number;
  /** Bytes the packet had on the wire; more than caplen when the snapshot length cut it. */
  origLen: number;
  /** Whole seconds since the epoch (UTC). */
  seconds: number;
  /**
   * Nanoseconds past `seconds` (exact for micro- and nanosecond files): 0..999999999 in a sound
   * file. A pcap record whose fraction field is out of range keeps it as libpcap reads it (a
   * signed 32-bit count of the file's unit), so it may be 10^9 or more, or negative; the totals
   * (timestamp, time) still add up, and tcpdump's display of such a time can be matched.
   */
  nanos: number;
  /** pcap LINKTYPE_ number of the interface (1 Ethernet, 101 raw IP, 113 SLL, ...). */
  linkType: number;
  /** pcapng interface number (0 for pcap files). */
  interfaceIndex: number;
  /** Byte offset of the record (pcap) or block (pcapng) in the file. */
  offset: number;
  /** The packet's comment (pcapng opt_comment), when the file holds one. */
  comment: string | undefined;

  constructor(
    data: Buffer,
    origLen: number,
    seconds: number,
    nanos: number,
    linkType: number,
    interfaceIndex: number,
    offset: number,
  ) {
    this.data = data;
    this.caplen = data.length;
    this.origLen = origLen;
    this.seconds = seconds;
    this.nanos = nanos;
    this.linkType = linkType;
    this.interfaceIndex = interfaceIndex;
    this.offset = offset;
    this.comment = undefined;
  }

  /** Nanoseconds since the epoch. */
  get timestamp(): bigint {
    return BigInt(this.seconds) * 1_000_000_000n + BigInt(this.nanos);
  }

  /** Microseconds since the epoch, as Packet.time holds it (exact: below 2^53 until year 2255). */
  get time(): number {
    return this.seconds * 1_000_000 + Math.floor(this.nanos / 1000);
  }
}

/** What the file says about one capture interface (pcap files have exactly one). */
export interface CaptureInterface {
  /** 0 for pcap files; the pcapng interface number otherwise (counted per section). */
  index: number;
  /** pcap LINKTYPE_ number. */
  linkType: number;
  /** Snapshot length; 0 means "no limit" in pcapng. */
  snaplen: number;
  /** Digits of sub-second precision the file stores: 6 (microseconds), 9 (nanoseconds), ... */
  precisionDigits: number;
  /** pcapng if_name option, when present. */
  name?: string;
}

/** What the file as a whole is. */
export interface CaptureFormat {
  format: 'pcap' | 'pcapng';
  /** Byte order of the file (of the current section for pcapng). */
  bigEndian: boolean;
  /** Format version, e.g. '2.4' for pcap, '1.0' for pcapng. */
  version: string;
}

/**
 * Seconds and fraction as `tcpdump -tt` prints them: '1700000000.123456' (digits 6) or 9 digits;
 * an out-of-range fraction as tcpdump prints it too ('100.1000000', an unsigned 32-bit number).
 */
export function formatEpoch(rec: { seconds: number; nanos: number }, digits: 6 | 9 = 6): string {
  const frac = digits === 9 ? rec.nanos : Math.trunc(rec.nanos / 1000);
  return `${rec.seconds}.${String(frac >>> 0).padStart(digits, '0')}`;
}

/**
 * A format's parser: turns whole records in a buffer into PcapRecords. The chunked reader in
 * read.ts owns the buffers and the file; parsers only see bytes and never copy them.
 */
export interface RecordParser {
  /**
   * Appends to `out` every complete record in buf[off, end) and returns the offset of the first
   * byte it did not consume. `base` is the file offset of buf[0], for offsets in errors.
   */
  parse(buf: Buffer, off: number, end: number, base: number, out: PcapRecord[]): number;
  /** After parse(): how many bytes, counted from the returned offset, the next unit needs. */
  needed: number;
  /** After parse(): what that next unit is ('packet record', 'file header', 'block'), for errors. */
  neededWhat: string;
  /** Set by parse() when it met bytes that cannot be a record; `out` holds every record before. */
  error: Error | undefined;
  /**
   * When set, only frames this accepts become records (a capture filter, tested on the bytes in
   * place before any record is made). Given the link type, returns the test for its frames.
   */
  accept?: ((linkType: number) => FrameTest) | undefined;
  /**
   * parse() without records: calls `visit` for each complete record where it lies in buf
   * (no object, no slice per frame). Formats without it are scanned through parse().
   */
  scan?(buf: Buffer, off: number, end: number, base: number, visit: FrameVisitor): number;
}

/**
 * One frame where it lies in a read chunk: buf[start, start + caplen), with what its record
 * says (`at` is the record's offset in the file). Valid only during the call.
 */
export type FrameVisitor = (buf: Buffer, start: number, caplen: number, origLen: number, seconds: number, nanos: number, linkType: number, at: number) => void;

/** Called when the file describes an interface: once for pcap, once per IDB for pcapng. */
export type InterfaceListener = (iface: CaptureInterface, format: CaptureFormat) => void;
