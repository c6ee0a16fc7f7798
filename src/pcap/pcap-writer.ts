/**
 * Writing capture files. Classic pcap (libpcap format 2.4, little-endian, micro- or nanosecond
 * magic) holds one link type; pcapng (pcapng-writer.ts) holds one interface per link type, and
 * packet comments. writePcap picks pcapng for a path ending in .pcapng or with format: 'pcapng'.
 * Call flush() to push buffered records to disk (a long capture), close() at the end.
 *
 *   const w = writePcap('out.pcap');                        // link type from the first packet
 *   w.write(IP({ dst: '127.0.0.1' }).add(TCP()));           // time: the packet's, else now
 *   w.write(bytes, 1700000000123456);                       // µs number, bigint ns, or Date
 *   for await (const rec of readPcap('in.pcap')) w.write(rec); // keeps time and original length
 *   w.close();
 */
import { usageError } from '../wire/errors.js';
import { CaptureWriter, fitsLinkType, type CaptureWriterOptions, type Writable } from './capture-writer.js';
import { linkTypeDescription } from './link-type-names.js';
import { PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap-reader.js';
import { PcapngWriter } from './pcapng-writer.js';

export type { PcapTimestamp, PcapWriteOptions, Writable } from './capture-writer.js';

export interface PcapWriterOptions extends CaptureWriterOptions {
  /** 'pcap' (one link type) or 'pcapng' (any mix, comments); default pcapng for a path ending in .pcapng, else pcap. */
  format?: 'pcap' | 'pcapng';
}

const RECORD_HEADER = 16;

export class PcapWriter extends CaptureWriter {
  private fileLinkType: number | undefined;
  protected readonly keepsComments = false;

  constructor(path: string, options: CaptureWriterOptions = {}) {
    super(path, options);
  }

  /** The file's LINKTYPE_ number; undefined until the first write decides it (when not given). */
  get linkType(): number | undefined {
    return this.fileLinkType ?? this.requestedLinkType;
  }

  protected start(linkType: number): void {
    this.fileLinkType = linkType;
    const h = this.buf;
    h.writeUInt32LE(this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    h.writeUInt32LE(0, 12); // sigfigs: always 0 in practice
    h.writeUInt32LE(this.snaplen, 16);
    h.writeUInt32LE(linkType, 20);
    this.pos = 24;
  }

  protected append(data: Uint8Array, origLen: number, linkType: number | undefined, item: Writable, comment: string | undefined): void {
    if (comment !== undefined) {
      throw usageError(`${this.path} is a pcap file, which has no place for comments: write pcapng (writePcapng(path), or a path ending in .pcapng)`);
    }
    if (linkType !== undefined && !fitsLinkType(this.fileLinkType!, linkType, data)) {
      const what = 'layers' in item ? `a packet starting with ${item.layers[0]?.name ?? 'nothing'} (${linkTypeDescription(linkType)})` : `a ${linkTypeDescription(linkType)} record`;
      throw usageError(
        `${what} cannot go into ${this.path}, which holds ${linkTypeDescription(this.fileLinkType!)}: a pcap file has one link type; ` +
          `write pcapng (writePcapng(path), or a path ending in .pcapng), which gives each link type its own interface`,
      );
    }
    const caplen = data.length;
    this.reserve(RECORD_HEADER + caplen);
    const h = this.buf;
    let p = this.pos;
    h.writeUInt32LE(this.seconds, p);
    h.writeUInt32LE(this.nanosecond ? this.nanos : Math.floor(this.nanos / 1000), p + 4);
    h.writeUInt32LE(caplen, p + 8);
    h.writeUInt32LE(origLen, p + 12);
    p += RECORD_HEADER;
    if (p + caplen <= h.length) {
      h.set(data, p);
      this.pos = p + caplen;
    } else {
      // Bigger than the buffer: header now, the bytes straight from the caller's buffer.
      this.pos = p;
      this.writeDirect(data);
    }
  }
}

/** Opens (creates or truncates) a capture file for writing: pcap, or pcapng by option or by a .pcapng path. */
export function writePcap(path: string, options: PcapWriterOptions & { format: 'pcapng' }): PcapngWriter;
export function writePcap(path: string, options?: PcapWriterOptions): PcapWriter | PcapngWriter;
export function writePcap(path: string, options: PcapWriterOptions = {}): PcapWriter | PcapngWriter {
  const { format, ...rest } = options;
  if (format !== undefined && format !== 'pcap' && format !== 'pcapng') throw usageError(`unknown capture format '${String(format)}': use 'pcap' or 'pcapng'`);
  const ng = format === 'pcapng' || (format === undefined && /\.pcapng$/i.test(path));
  return ng ? new PcapngWriter(path, rest) : new PcapWriter(path, rest);
}

/** Opens (creates or truncates) a pcapng file for writing: one interface per link type, packet comments. */
export function writePcapng(path: string, options: CaptureWriterOptions = {}): PcapngWriter {
  return new PcapngWriter(path, options);
}
