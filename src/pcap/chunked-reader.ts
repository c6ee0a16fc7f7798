/**
 * The file side of reading: fills buffers from a file and hands them to the format's parser.
 * Shared by the async and the synchronous readers, which differ only in how they call read().
 *
 * Buffers are never reused once a record points into them: records are zero-copy slices, and a
 * buffer that holds one is retired, with the unparsed tail (part of one record) copied to the
 * start of a fresh buffer. Memory is therefore one chunk plus whatever records the caller keeps.
 */
import { notACaptureFile, truncatedCapture } from './errors.js';
import { PcapParser, isPcapMagic } from './pcap-reader.js';
import { PCAPNG_SHB_TYPE, PcapngParser } from './pcapng-reader.js';
import type { CompiledFilter } from './filter/index.js';
import type { FrameVisitor, InterfaceListener, PcapRecord, RecordParser } from './record.js';

export const DEFAULT_CHUNK_SIZE = 256 * 1024;

export class ChunkedReader {
  /** Where the next read() should put its bytes. */
  buf: Buffer;
  readAt = 0;
  /** Set once the file is exhausted (or damaged): stop reading. */
  done = false;
  /** Thrown by the caller after it has passed on the records of the last step. */
  error: Error | undefined;

  private readonly file: string;
  private readonly chunkSize: number;
  private readonly onInterface: InterfaceListener | undefined;
  private parser: RecordParser | undefined;
  /** buf[start, readAt) is read but not parsed; `base` is the file offset of buf[0]. */
  private start = 0;
  private base = 0;
  /** True when a record handed out points into buf, so buf must not be written again. */
  private pinned = false;

  private readonly filter: CompiledFilter | undefined;

  /**
   * Records are used up before the next read (a printer): their bytes may be read over, so the
   * one buffer is filled again and again instead of a fresh one per chunk (no page faults, no
   * garbage: memory stays at one chunk).
   */
  private readonly transient: boolean;

  constructor(file: string, chunkSize = DEFAULT_CHUNK_SIZE, onInterface?: InterfaceListener, filter?: CompiledFilter, transient = false) {
    this.file = file;
    this.transient = transient;
    this.filter = filter;
    this.chunkSize = Math.max(4096, chunkSize);
    this.onInterface = onInterface;
    this.buf = Buffer.allocUnsafeSlow(this.chunkSize);
  }

  /** How many bytes the next read should ask for (at buf[readAt]). Makes room first. */
  readLength(): number {
    const leftover = this.readAt - this.start;
    const needed = Math.max(this.parser?.needed ?? 4, leftover + 1);
    const room = this.buf.length - this.readAt;
    if (!this.pinned && room >= Math.min(needed, this.chunkSize / 4) && this.buf.length - this.start >= needed) return room;
    // A fresh buffer, big enough for the record waiting to be completed.
    const size = Math.max(this.chunkSize, needed + this.chunkSize / 2);
    const fresh = this.pinned || size > this.buf.length ? Buffer.allocUnsafeSlow(size) : this.buf;
    this.buf.copy(fresh, 0, this.start, this.readAt);
    this.buf = fresh;
    this.base += this.start;
    this.readAt = leftover;
    this.start = 0;
    this.pinned = false;
    return this.buf.length - this.readAt;
  }

  /** Takes `bytesRead` new bytes at buf[readAt] (0 = end of file); returns the records completed. */
  advance(bytesRead: number): PcapRecord[] {
    const records: PcapRecord[] = [];
    this.step(bytesRead, (parser) => parser.parse(this.buf, this.start, this.readAt, this.base, records));
    // Transient records are used up before the next read: they may point into the chunk as it is.
    if (this.transient) return records;
    if (this.filter) {
      // A filter keeps few records of a chunk: copying them lets the chunk be read into again,
      // where pinning it would cost a fresh chunk (and its page faults) per match.
      for (const rec of records) rec.data = Buffer.from(rec.data);
    } else if (records.length > 0) this.pinned = true;
    return records;
  }

  /**
   * advance() without records: `visit` sees each completed frame where it lies in the chunk,
   * during the call only (the chunk is read into again). Formats without a scan are parsed
   * into records and visited one by one.
   */
  advanceScan(bytesRead: number, visit: FrameVisitor): void {
    this.step(bytesRead, (parser) => {
      if (parser.scan) return parser.scan(this.buf, this.start, this.readAt, this.base, visit);
      const records: PcapRecord[] = [];
      const next = parser.parse(this.buf, this.start, this.readAt, this.base, records);
      for (const r of records) visit(r.data, 0, r.data.length, r.origLen, r.seconds, r.nanos, r.linkType, r.offset);
      return next;
    });
  }

  /** Takes the new bytes, lets `consume` parse what is complete, and notes the end or damage. */
  private step(bytesRead: number, consume: (parser: RecordParser) => number): void {
    this.readAt += bytesRead;
    const atEnd = bytesRead === 0;
    if (!this.parser) {
      if (this.readAt - this.start < 4 && !atEnd) return;
      this.parser = this.chooseParser();
      if (!this.parser) return;
      if (this.filter) this.parser.accept = this.filter.forLinkType;
    }
    this.start = consume(this.parser);
    if (this.parser.error) {
      this.error = this.parser.error;
      this.done = true;
    } else if (atEnd) {
      this.done = true;
      const left = this.readAt - this.start;
      if (left > 0) this.error = truncatedCapture(this.file, this.base + this.start, this.parser.neededWhat, this.parser.needed, left);
    }
  }

  private chooseParser(): RecordParser | undefined {
    const head = this.buf.subarray(this.start, this.readAt);
    if (head.length >= 4) {
      const word = head.readUInt32BE(0);
      if (isPcapMagic(word)) return new PcapParser(this.file, this.onInterface);
      if (word === PCAPNG_SHB_TYPE) return new PcapngParser(this.file, this.onInterface);
    }
    this.error = notACaptureFile(this.file, Buffer.from(head.subarray(0, 8)));
    this.done = true;
    return undefined;
  }
}
