/**
 * pcapng: a sequence of blocks, each `type, total length, body, total length` (the length
 * repeated so the file can be walked backwards). A Section Header Block (SHB) starts a section
 * and fixes its byte order; Interface Description Blocks (IDB) describe interfaces numbered
 * from 0 within the section, each with its own link type and timestamp resolution; packets come
 * in Enhanced (EPB), Simple (SPB) and obsolete Packet Blocks (PB). Anything else (name
 * resolution, statistics, custom blocks) is skipped by its length.
 */
import { corruptCapture } from './errors.js';
import { fileLinkType } from './link-type-names.js';
import type { FrameTest } from './filter/index.js';
import { PcapRecord, type CaptureFormat, type InterfaceListener, type RecordParser } from './record.js';

import { BYTE_ORDER_MAGIC, EPB, IDB, OPT_COMMENT, OPT_IF_NAME, OPT_IF_TSOFFSET, OPT_IF_TSRESOL, PB, PCAPNG_SHB_TYPE, SPB } from './pcapng-format.js';

export { PCAPNG_SHB_TYPE } from './pcapng-format.js';
/** A length beyond this is damage; libpcap's own ceiling is of the same order. */
const MAX_BLOCK_LENGTH = 64 * 1024 * 1024;

/** How one interface's 64-bit timestamps become seconds + nanoseconds. */
interface InterfaceState {
  linkType: number;
  snaplen: number;
  /** Units per second when that is 10^n with n <= 9 (exact with plain numbers), else 0. */
  divisor: number;
  nanosPerUnit: number;
  /** Units per second for the rare resolutions that need BigInt (2^-n, or finer than 1 ns). */
  bigDivisor: bigint;
  offsetSeconds: number;
}

export class PcapngParser implements RecordParser {
  needed = 12;
  neededWhat = 'block';
  error: Error | undefined;
  accept: ((linkType: number) => FrameTest) | undefined;

  private readonly file: string;
  private readonly onInterface: InterfaceListener | undefined;
  private littleEndian = true;
  private inSection = false;
  private interfaces: InterfaceState[] = [];
  private format: CaptureFormat = { format: 'pcapng', bigEndian: false, version: '1.0' };
  // Outputs of toTime(), kept on the instance so that no object is allocated per packet.
  private tsSeconds = 0;
  private tsNanos = 0;

  constructor(file: string, onInterface?: InterfaceListener) {
    this.file = file;
    this.onInterface = onInterface;
  }

  parse(buf: Buffer, off: number, end: number, base: number, out: PcapRecord[]): number {
    for (;;) {
      if (end - off < 12) {
        this.needed = 12;
        this.neededWhat = 'block';
        return off;
      }
      let le = this.littleEndian;
      let type = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
      if (type === PCAPNG_SHB_TYPE) {
        // The type reads the same in both orders; the magic after the length decides the section's order.
        const magic = buf.readUInt32BE(off + 8);
        if (magic === BYTE_ORDER_MAGIC) le = false;
        else if (magic === 0x4d3c2b1a) le = true;
        else return this.fail(base + off, `section header has byte-order magic 0x${magic.toString(16).padStart(8, '0')}, not 1a2b3c4d`);
        type = PCAPNG_SHB_TYPE;
      } else if (!this.inSection) {
        return this.fail(base + off, 'the file does not start with a section header block');
      }
      const length = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
      if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK_LENGTH) {
        return this.fail(base + off, `block of type 0x${type.toString(16)} has impossible length ${length}`);
      }
      if (end - off < length) {
        this.needed = length;
        this.neededWhat = 'block';
        return off;
      }
      const trailer = le ? buf.readUInt32LE(off + length - 4) : buf.readUInt32BE(off + length - 4);
      if (trailer !== length) {
        return this.fail(base + off, `block of type 0x${type.toString(16)} says length ${length} at its start but ${trailer} at its end`);
      }
      switch (type) {
        case EPB:
        case PB: {
          if (length < 32) return this.fail(base + off, `packet block is ${length} bytes, shorter than its 32-byte minimum`);
          const index = type === EPB ? this.u32(buf, off + 8) : this.u16(buf, off + 8);
          const iface = this.interfaces[index];
          if (!iface) return this.fail(base + off, `packet block refers to interface ${index}, but the section describes ${this.interfaces.length}`);
          const caplen = this.u32(buf, off + 20);
          const origLen = this.u32(buf, off + 24);
          if (caplen > length - 32) return this.fail(base + off, `packet block claims ${caplen} captured bytes but holds at most ${length - 32}`);
          this.toTime(iface, this.u32(buf, off + 12), this.u32(buf, off + 16));
          if (this.accept === undefined || this.accept(iface.linkType)(buf, off + 28, caplen, origLen)) {
            const record = new PcapRecord(buf.subarray(off + 28, off + 28 + caplen), origLen, this.tsSeconds, this.tsNanos, iface.linkType, index, base + off);
            const optionsAt = off + 28 + caplen + ((4 - (caplen % 4)) % 4);
            if (type === EPB && optionsAt + 4 <= off + length - 4) record.comment = this.comment(buf, optionsAt, off + length - 4);
            out.push(record);
          }
          break;
        }
        case SPB: {
          if (length < 16) return this.fail(base + off, `simple packet block is ${length} bytes, shorter than its 16-byte minimum`);
          const iface = this.interfaces[0];
          if (!iface) return this.fail(base + off, 'simple packet block before any interface description block');
          const origLen = this.u32(buf, off + 8);
          // An SPB records no captured length: it is the original length cut by the snapshot length.
          let caplen = Math.min(origLen, length - 16);
          if (iface.snaplen > 0 && caplen > iface.snaplen) caplen = iface.snaplen;
          // No timestamp either: tcpdump shows 0, so do we.
          if (this.accept === undefined || this.accept(iface.linkType)(buf, off + 12, caplen, origLen)) out.push(new PcapRecord(buf.subarray(off + 12, off + 12 + caplen), origLen, 0, 0, iface.linkType, 0, base + off));
          break;
        }
        case IDB:
          if (length < 20) return this.fail(base + off, `interface description block is ${length} bytes, shorter than its 20-byte minimum`);
          {
            const problem = this.readInterface(buf, off, length);
            if (problem) return this.fail(base + off, problem);
          }
          break;
        case PCAPNG_SHB_TYPE: {
          if (length < 28) return this.fail(base + off, `section header block is ${length} bytes, shorter than its 28-byte minimum`);
          this.littleEndian = le;
          const major = this.u16(buf, off + 12);
          const minor = this.u16(buf, off + 14);
          if (major !== 1) return this.fail(base + off, `pcapng version ${major}.${minor} is not supported (only 1.x)`);
          this.inSection = true;
          this.interfaces = [];
          this.format = { format: 'pcapng', bigEndian: !le, version: `${major}.${minor}` };
          break;
        }
        default:
          // NRB, ISB, DSB, custom and future blocks: not packets.
          break;
      }
      off += length;
    }
  }

  private fail(offset: number, problem: string): number {
    this.error = corruptCapture(this.file, offset, problem);
    this.needed = 0;
    return offset;
  }

  private u16(buf: Buffer, off: number): number {
    return this.littleEndian ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
  }

  private u32(buf: Buffer, off: number): number {
    return this.littleEndian ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  }

  /** The first opt_comment among a packet block's options in buf[o, end), if any. */
  private comment(buf: Buffer, o: number, end: number): string | undefined {
    while (o + 4 <= end) {
      const code = this.u16(buf, o);
      const len = this.u16(buf, o + 2);
      if (code === 0 || o + 4 + len > end) return undefined;
      if (code === OPT_COMMENT) return buf.toString('utf8', o + 4, o + 4 + len);
      o += 4 + len + ((4 - (len % 4)) % 4);
    }
    return undefined;
  }

  /** Reads an IDB; returns what makes it unusable (libpcap refuses the file then), if anything. */
  private readInterface(buf: Buffer, off: number, length: number): string | undefined {
    const linkType = fileLinkType(this.u16(buf, off + 8));
    const snaplen = this.u32(buf, off + 12);
    let resolution = 6;
    let binary = false;
    let offsetSeconds = 0;
    let name: string | undefined;
    // Options: code, length, value padded to 4 bytes; opt_endofopt (0) or the block's end stops.
    const optionsEnd = off + length - 4;
    let o = off + 16;
    while (o + 4 <= optionsEnd) {
      const code = this.u16(buf, o);
      const len = this.u16(buf, o + 2);
      if (code === 0 || o + 4 + len > optionsEnd) break;
      const value = o + 4;
      if (code === OPT_IF_TSRESOL && len >= 1) {
        binary = (buf[value]! & 0x80) !== 0;
        resolution = buf[value]! & 0x7f;
        // libpcap's limits: a unit count per second must fit 64 bits (10^19, 2^63); its words.
        if (binary ? resolution > 63 : resolution > 19) {
          return `Interface Description Block if_tsresol option resolution ${binary ? 2 : 10}^-${resolution} is too high`;
        }
      } else if (code === OPT_IF_TSOFFSET && len >= 8) {
        const hi = this.littleEndian ? buf.readInt32LE(value + 4) : buf.readInt32BE(value);
        const lo = this.littleEndian ? buf.readUInt32LE(value) : buf.readUInt32BE(value + 4);
        offsetSeconds = hi * 4294967296 + lo;
      } else if (code === OPT_IF_NAME) {
        name = buf.toString('utf8', value, value + len);
      }
      o = value + len + ((4 - (len % 4)) % 4);
    }
    const decimal = !binary && resolution <= 9;
    const divisor = decimal ? 10 ** resolution : 0;
    this.interfaces.push({
      linkType,
      snaplen,
      divisor,
      nanosPerUnit: decimal ? 10 ** (9 - resolution) : 0,
      bigDivisor: binary ? 1n << BigInt(resolution) : 10n ** BigInt(resolution),
      offsetSeconds,
    });
    const precisionDigits = binary ? Math.ceil(resolution * Math.log10(2)) : resolution;
    const iface = { index: this.interfaces.length - 1, linkType, snaplen, precisionDigits, ...(name !== undefined ? { name } : {}) };
    this.onInterface?.(iface, this.format);
    return undefined;
  }

  /** Splits a 64-bit count of units into seconds and nanoseconds, into tsSeconds/tsNanos. */
  private toTime(iface: InterfaceState, hi: number, lo: number): void {
    const d = iface.divisor;
    if (d !== 0) {
      let seconds: number;
      let rem: number;
      if (hi < 0x200000) {
        // Below 2^53 the double is exact (microsecond stamps until the year 2255).
        const units = hi * 4294967296 + lo;
        seconds = Math.floor(units / d);
        rem = units - seconds * d;
      } else {
        // Long division by 16-bit digits keeps every intermediate below 2^53 (d <= 1e9 < 2^30).
        let cur = hi >>> 16;
        seconds = Math.floor(cur / d);
        rem = cur - seconds * d;
        cur = rem * 65536 + (hi & 0xffff);
        let q = Math.floor(cur / d);
        rem = cur - q * d;
        seconds = seconds * 65536 + q;
        cur = rem * 65536 + (lo >>> 16);
        q = Math.floor(cur / d);
        rem = cur - q * d;
        seconds = seconds * 65536 + q;
        cur = rem * 65536 + (lo & 0xffff);
        q = Math.floor(cur / d);
        rem = cur - q * d;
        seconds = seconds * 65536 + q;
      }
      this.tsSeconds = seconds + iface.offsetSeconds;
      this.tsNanos = rem * iface.nanosPerUnit;
      return;
    }
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const D = iface.bigDivisor;
    this.tsSeconds = Number(units / D) + iface.offsetSeconds;
    this.tsNanos = Number(((units % D) * 1_000_000_000n) / D);
  }
}
