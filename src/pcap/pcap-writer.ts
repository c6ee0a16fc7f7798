/**
 * Writing classic pcap files (libpcap format 2.4, little-endian, micro- or nanosecond magic),
 * the format every tool reads. Records go into a 1 MiB buffer that is written out with one
 * blocking write when full: memory stays constant however fast packets arrive, and there is no
 * backpressure to get wrong. Call flush() to push buffered records to disk (a long capture),
 * close() at the end.
 *
 *   const w = writePcap('out.pcap', { linkType: 'ip' });   // or 1 / 'ether', nanosecond: true
 *   w.write(IP({ dst: '127.0.0.1' }).add(TCP()));           // time: the packet's, else now
 *   w.write(bytes, 1700000000123456);                       // µs number, bigint ns, or Date
 *   for await (const rec of readPcap('in.pcap')) w.write(rec); // keeps time and original length
 *   w.close();
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Packet } from '../packet/packet.js';
import { usageError } from '../wire/errors.js';
import { openError } from './errors.js';
import { linkTypeDescription, linkTypeNumber } from './link-type-names.js';
import { PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap-reader.js';
import { PcapRecord } from './record.js';

export interface PcapWriterOptions {
  /** LINKTYPE_ number or name ('ether' = 1, 'ip' = 101, 'sll', 'sll2', 'null', 'loop', 'ipv4', 'ipv6'). Default ether. */
  linkType?: number | string;
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  nanosecond?: boolean;
  /** Longest packet kept; longer ones are cut (the original length is still recorded). Default 262144. */
  snaplen?: number;
  /** Create the file, failing when it exists (O_EXCL, mode 0600): never follows a planted link. */
  exclusive?: boolean;
}

/** µs since the epoch (a number, like Packet.time), ns since the epoch (a bigint), or a Date. */
export type PcapTimestamp = number | bigint | Date;

/** What write() accepts: a packet (built), raw bytes, or a record read from another file. */
export type Writable = Packet | PcapRecord | Buffer | Uint8Array;

const BUFFER_SIZE = 1024 * 1024;
const RECORD_HEADER = 16;

export class PcapWriter {
  readonly path: string;
  readonly linkType: number;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  /** Records written so far. */
  count = 0;

  private fd: number | undefined;
  private buf = Buffer.allocUnsafe(BUFFER_SIZE);
  private pos = 0;
  // Outputs of stamp(), kept on the instance so that no object is allocated per packet.
  private seconds = 0;
  private nanos = 0;

  constructor(path: string, options: PcapWriterOptions = {}) {
    this.path = path;
    this.linkType = linkTypeNumber(options.linkType ?? 1);
    this.nanosecond = options.nanosecond ?? false;
    const snaplen = options.snaplen ?? 262144;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) throw usageError(`snaplen ${snaplen} is not a positive integer`);
    this.snaplen = snaplen;
    try {
      this.fd = options.exclusive ? openSync(path, 'wx', 0o600) : openSync(path, 'w');
    } catch (err) {
      throw openError(path, err, true);
    }
    const h = this.buf;
    h.writeUInt32LE(this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    h.writeUInt32LE(0, 12); // sigfigs: always 0 in practice
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(this.linkType, 20);
    this.pos = 24;
  }

  /** Appends one record. `timestamp` overrides the packet's own time (default: now). */
  write(item: Writable, timestamp?: PcapTimestamp): void {
    if (this.fd === undefined) throw usageError(`cannot write to ${this.path}: the writer is closed`);
    let data: Uint8Array;
    let origLen: number;
    if (item instanceof PcapRecord) {
      if (item.linkType !== this.linkType) {
        throw usageError(`a ${linkTypeDescription(item.linkType)} record cannot go into ${this.path}, which holds ${linkTypeDescription(this.linkType)}; open the writer with linkType ${item.linkType}`);
      }
      data = item.data;
      origLen = Math.max(item.origLen, item.data.length);
      if (timestamp === undefined) {
        this.seconds = item.seconds;
        this.nanos = item.nanos;
      }
    } else if (item instanceof Uint8Array) {
      data = item;
      origLen = item.length;
      if (timestamp === undefined) this.stampNow();
    } else {
      data = item.bytes();
      origLen = data.length;
      if (timestamp === undefined) {
        if (item.timeNs !== undefined) this.stamp(item.timeNs);
        else if (item.time !== undefined) this.stamp(item.time);
        else this.stampNow();
      }
    }
    if (timestamp !== undefined) this.stamp(timestamp);
    const caplen = Math.min(data.length, this.snaplen);
    if (this.pos + RECORD_HEADER + caplen > this.buf.length) this.flush();
    const h = this.buf;
    let p = this.pos;
    h.writeUInt32LE(this.seconds, p);
    h.writeUInt32LE(this.nanosecond ? this.nanos : Math.floor(this.nanos / 1000), p + 4);
    h.writeUInt32LE(caplen, p + 8);
    h.writeUInt32LE(origLen, p + 12);
    p += RECORD_HEADER;
    if (p + caplen <= h.length) {
      h.set(caplen === data.length ? data : data.subarray(0, caplen), p);
      this.pos = p + caplen;
    } else {
      // Bigger than the buffer: header now, the bytes straight from the caller's buffer.
      this.pos = p;
      this.flush();
      writeAll(this.fd, data.subarray(0, caplen));
    }
    this.count++;
  }

  /** Writes the buffered records to the file. */
  flush(): void {
    if (this.fd === undefined || this.pos === 0) return;
    try {
      writeAll(this.fd, this.buf.subarray(0, this.pos));
    } catch (err) {
      throw openError(this.path, err, true); // ENOSPC, EIO...: one line naming the file
    }
    this.pos = 0;
  }

  /** Flushes and closes the file. Closing twice is harmless. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private stampNow(): void {
    // performance gives sub-millisecond resolution; Date.now() alone would print .123000.
    this.stamp(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  }

  private stamp(t: PcapTimestamp): void {
    let seconds: number;
    let nanos: number;
    if (typeof t === 'bigint') {
      seconds = Number(t / 1_000_000_000n);
      nanos = Number(t % 1_000_000_000n);
    } else if (typeof t === 'number') {
      seconds = Math.floor(t / 1_000_000);
      nanos = Math.round((t - seconds * 1_000_000) * 1000);
    } else if (t instanceof Date) {
      const ms = t.getTime();
      seconds = Math.floor(ms / 1000);
      nanos = (ms - seconds * 1000) * 1_000_000;
    } else {
      throw usageError(`timestamp ${String(t)} is not a number of µs, a bigint of ns or a Date`);
    }
    if (!(seconds >= 0 && seconds <= 0xffffffff) || !(nanos >= 0 && nanos < 1e9)) {
      throw usageError(`timestamp ${String(t)} does not fit a pcap file (1970 to 2106)`);
    }
    this.seconds = seconds;
    this.nanos = nanos;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Opens (creates or truncates) a pcap file for writing. */
export function writePcap(path: string, options: PcapWriterOptions = {}): PcapWriter {
  return new PcapWriter(path, options);
}
