/**
 * Classic pcap (libpcap's savefile format): a 24-byte file header, then records of a 16-byte
 * header (seconds, micro- or nanoseconds, captured length, original length) and the bytes.
 * The magic number tells byte order and timestamp unit:
 *   a1b2c3d4 microseconds, a1b23c4d nanoseconds, a1b2cd34 Kuznetzov's patched format (microseconds,
 *   8 more bytes per record header). Read in the writer's byte order, a swapped magic means the
 *   other byte order.
 */
import { corruptCapture } from './errors.js';
import { fileLinkType } from './link-type-names.js';
import type { FrameTest } from './filter/index.js';
import { PcapRecord, type CaptureFormat, type CaptureInterface, type FrameVisitor, type InterfaceListener, type RecordParser } from './record.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

const FILE_HEADER_LENGTH = 24;
/** libpcap's largest snapshot length for ordinary link types; a record claiming more is damage. */
const MAX_PLAUSIBLE_CAPLEN = 262144;
/** Even when the header's snaplen allows more, a record beyond this is damage, not data. */
const HARD_CAPLEN_LIMIT = 64 * 1024 * 1024;

/** True when the first four bytes (read big-endian) are a pcap magic in either byte order. */
export function isPcapMagic(firstWordBE: number): boolean {
  return pcapMagicInfo(firstWordBE) !== undefined;
}

function pcapMagicInfo(word: number): { bigEndian: boolean; nano: boolean; recordHeader: number } | undefined {
  const swapped = ((word & 0xff) << 24 | (word & 0xff00) << 8 | (word >>> 8) & 0xff00 | word >>> 24) >>> 0;
  for (const [magic, bigEndian] of [[word, true], [swapped, false]] as const) {
    if (magic === PCAP_MAGIC_MICRO) return { bigEndian, nano: false, recordHeader: 16 };
    if (magic === PCAP_MAGIC_NANO) return { bigEndian, nano: true, recordHeader: 16 };
    if (magic === PCAP_MAGIC_KUZNETZOV) return { bigEndian, nano: false, recordHeader: 24 };
  }
  return undefined;
}

export class PcapParser implements RecordParser {
  needed = FILE_HEADER_LENGTH;
  neededWhat = 'file header';
  error: Error | undefined;
  accept: ((linkType: number) => FrameTest) | undefined;

  private readonly file: string;
  private readonly onInterface: InterfaceListener | undefined;
  private headerRead = false;
  private littleEndian = true;
  /** Multiplier from the file's fraction unit to nanoseconds (1000 or 1). */
  private fractionToNanos = 1000;
  private recordHeader = 16;
  private linkType = 1;
  private maxCaplen = MAX_PLAUSIBLE_CAPLEN;

  constructor(file: string, onInterface?: InterfaceListener) {
    this.file = file;
    this.onInterface = onInterface;
  }

  /** Where parse()'s one visitor puts records, and the filter test it applies (set per call). */
  private out: PcapRecord[] = [];
  private test: FrameTest | undefined;
  /**
   * One visitor for every parse() call, not a closure per chunk: V8 optimizes walk() with the
   * visitor it saw inlined, and a new closure per chunk deoptimized it ("wrong call target") and
   * had it compiled again (walk was compiled four times in a filtered read of 600k packets).
   */
  private readonly collect: FrameVisitor = (data, start, caplen, origLen, seconds, nanos, linkType, at) => {
    const test = this.test;
    if (test === undefined || test(data, start, caplen, origLen)) this.out.push(new PcapRecord(data.subarray(start, start + caplen), origLen, seconds, nanos, linkType, 0, at));
  };

  parse(buf: Buffer, off: number, end: number, base: number, out: PcapRecord[]): number {
    this.test = this.accept?.(this.linkType);
    this.out = out;
    const next = this.walk(buf, off, end, base, this.collect);
    this.out = [];
    return next;
  }

  scan(buf: Buffer, off: number, end: number, base: number, visit: FrameVisitor): number {
    return this.walk(buf, off, end, base, visit);
  }

  /** The record loop of parse() and scan(): each complete record in buf[off, end), where it lies. */
  private walk(buf: Buffer, off: number, end: number, base: number, visit: FrameVisitor): number {
    if (!this.headerRead) {
      if (end - off < FILE_HEADER_LENGTH) {
        this.needed = FILE_HEADER_LENGTH;
        this.neededWhat = 'file header';
        return off;
      }
      this.readFileHeader(buf, off);
      off += FILE_HEADER_LENGTH;
    }
    const le = this.littleEndian;
    const recordHeader = this.recordHeader;
    const toNanos = this.fractionToNanos;
    const linkType = this.linkType;
    const maxCaplen = this.maxCaplen;
    // What the next unit is when the loop ends at a record boundary, set before the loop: stored
    // after it, these had no type feedback yet when the loop was optimized on stack (OSR) in the
    // first chunk, and the first chunk's end deoptimized it.
    this.needed = recordHeader;
    this.neededWhat = 'packet record';
    while (end - off >= recordHeader) {
      // Plain byte reads: Buffer's readUInt32* validate their argument on every call, and
      // this loop runs once per packet of the file.
      let seconds: number, fraction: number, caplen: number, origLen: number;
      // Seconds are signed 32-bit, as libpcap reads them (bpf_int32): past 2038 a pcap time is
      // before 1970, which tcpdump prints as [Error converting time].
      if (le) {
        seconds = u32le(buf, off) | 0;
        fraction = u32le(buf, off + 4);
        caplen = u32le(buf, off + 8);
        origLen = u32le(buf, off + 12);
      } else {
        seconds = u32be(buf, off) | 0;
        fraction = u32be(buf, off + 4);
        caplen = u32be(buf, off + 8);
        origLen = u32be(buf, off + 12);
      }
      if (caplen > maxCaplen) {
        this.error = corruptCapture(this.file, base + off,
          `the packet record claims ${caplen} captured bytes, more than the largest plausible ${maxCaplen}`);
        return off;
      }
      const dataStart = off + recordHeader;
      const next = dataStart + caplen;
      if (next > end) {
        this.needed = recordHeader + caplen;
        this.neededWhat = 'packet record';
        return off;
      }
      // The fraction is kept as libpcap reads it, a signed 32-bit number, even past a second
      // (some writers overflow it): tcpdump prints such a time as 00:01:40.1000000, not carried.
      visit(buf, dataStart, caplen, origLen, seconds, (fraction | 0) * toNanos, linkType, base + off);
      off = next;
    }
    return off;
  }

  private readFileHeader(buf: Buffer, off: number): void {
    const info = pcapMagicInfo(buf.readUInt32BE(off))!;
    this.headerRead = true;
    this.littleEndian = !info.bigEndian;
    this.fractionToNanos = info.nano ? 1 : 1000;
    this.recordHeader = info.recordHeader;
    const u16 = (o: number) => (info.bigEndian ? buf.readUInt16BE(off + o) : buf.readUInt16LE(off + o));
    const u32 = (o: number) => (info.bigEndian ? buf.readUInt32BE(off + o) : buf.readUInt32LE(off + o));
    const snaplen = u32(16);
    // The upper bits of the link type field carry FCS information (LT_FCS_*), not the type.
    this.linkType = fileLinkType(u32(20) & 0x03ffffff);
    this.maxCaplen = Math.min(Math.max(snaplen, MAX_PLAUSIBLE_CAPLEN), HARD_CAPLEN_LIMIT);
    const iface: CaptureInterface = { index: 0, linkType: this.linkType, snaplen, precisionDigits: info.nano ? 9 : 6 };
    const format: CaptureFormat = { format: 'pcap', bigEndian: info.bigEndian, version: `${u16(4)}.${u16(6)}` };
    this.onInterface?.(iface, format);
  }
}

function u32le(buf: Buffer, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

function u32be(buf: Buffer, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}
