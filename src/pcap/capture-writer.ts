/**
 * What the pcap and pcapng writers share: the file, a 1 MiB buffer written out with one
 * blocking write when full (memory stays constant however fast packets arrive, and there is no
 * backpressure to get wrong), timestamps, and turning what the user gives (a packet, raw bytes,
 * a record read from another file) into bytes, a time and a link type. The formats differ only
 * in how a record is laid out (append) and what heads the file (start).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Packet } from '../packet/packet.js';
import { packetFrame } from '../show/packet-frame.js';
import { usageError } from '../wire/errors.js';
import { openError } from './errors.js';
import { linkTypeNumber } from './link-type-names.js';
import { PcapRecord } from './record.js';

export interface CaptureWriterOptions {
  /**
   * LINKTYPE_ number or name ('ether' = 1, 'ip' = 101, 'sll', 'sll2', 'null', 'loop', 'ipv4',
   * 'ipv6'). Default: the link type of the first thing written (a packet's outer layer: Ether
   * 1, IP or IPv6 101, CookedLinux 113, CookedLinuxV2 276, Loopback 0; a record's own), or
   * Ethernet when that is raw bytes or nothing is written.
   */
  linkType?: number | string;
  /** Nanosecond timestamps; default microseconds. */
  nanosecond?: boolean;
  /** Create the file, failing when it exists (O_EXCL, mode 0600): never follows a planted link. */
  exclusive?: boolean;
  /** Longest packet kept; longer ones are cut (the original length is still recorded). Default 262144. */
  snaplen?: number;
}

/** µs since the epoch (a number, like Packet.time), ns since the epoch (a bigint), or a Date. */
export type PcapTimestamp = number | bigint | Date;

/** The second argument of write(): a timestamp, or a timestamp and a comment (pcapng only). */
export interface PcapWriteOptions {
  /** Overrides the packet's own time (default: the packet's, else now). */
  time?: PcapTimestamp;
  /** A packet comment (pcapng opt_comment, shown by Wireshark as frame.comment). */
  comment?: string;
}

/** What write() accepts: a packet (built), raw bytes, or a record read from another file. */
export type Writable = Packet | PcapRecord | Buffer | Uint8Array;

const BUFFER_SIZE = 1024 * 1024;

export abstract class CaptureWriter {
  readonly path: string;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  /** Records written so far. */
  count = 0;

  protected fd: number | undefined;
  protected buf = Buffer.allocUnsafe(BUFFER_SIZE);
  protected pos = 0;
  /** The link type the user asked for, if any. */
  protected readonly requestedLinkType: number | undefined;
  // Outputs of stamp(), kept on the instance so that no object is allocated per packet.
  protected seconds = 0;
  protected nanos = 0;
  private started = false;

  constructor(path: string, options: CaptureWriterOptions) {
    this.path = path;
    this.requestedLinkType = options.linkType === undefined ? undefined : linkTypeNumber(options.linkType);
    this.nanosecond = options.nanosecond ?? false;
    const snaplen = options.snaplen ?? 262144;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) throw usageError(`snaplen ${snaplen} is not a positive integer`);
    this.snaplen = snaplen;
    try {
      this.fd = options.exclusive ? openSync(path, 'wx', 0o600) : openSync(path, 'w');
    } catch (err) {
      throw openError(path, err, true);
    }
  }

  /**
   * Appends one record. The second argument is a timestamp overriding the packet's own time
   * (default: the packet's, else now), or { time, comment }.
   */
  write(item: Writable, when?: PcapTimestamp | PcapWriteOptions): void {
    if (this.fd === undefined) throw usageError(`cannot write to ${this.path}: the writer is closed`);
    const options = when === undefined || typeof when !== 'object' || when instanceof Date ? undefined : when;
    const timestamp = options ? options.time : (when as PcapTimestamp | undefined);
    let data: Uint8Array;
    let origLen: number;
    let linkType: number | undefined;
    if (item instanceof PcapRecord) {
      data = item.data;
      origLen = Math.max(item.origLen, item.data.length);
      linkType = item.linkType;
      if (timestamp === undefined) {
        // A fraction field that was out of range in the file it came from is written carried.
        const carry = Math.floor(item.nanos / 1e9);
        this.seconds = item.seconds + carry;
        this.nanos = item.nanos - carry * 1e9;
      }
    } else if (item instanceof Uint8Array) {
      data = item;
      origLen = item.length;
      if (timestamp === undefined) this.stampNow();
    } else {
      const frame = packetFrame(item);
      if (frame.linkType < 0) {
        throw usageError(`a packet that starts with ${item.layers[0]!.name} has no capture link type: put Ether() (or a cooked header) under it`);
      }
      data = frame.data;
      origLen = data.length;
      linkType = frame.linkType;
      if (timestamp === undefined) {
        if (item.timeNs !== undefined) this.stamp(item.timeNs);
        else if (item.time !== undefined) this.stamp(item.time);
        else this.stampNow();
      }
    }
    if (timestamp !== undefined) this.stamp(timestamp);
    if (!this.started) {
      this.started = true;
      this.start(this.requestedLinkType ?? linkType ?? 1);
    }
    const caplen = Math.min(data.length, this.snaplen);
    // A comment the item carries (read from a pcapng file) goes where comments have a place.
    const carried = !this.keepsComments || item instanceof Uint8Array ? undefined : item.comment;
    const comment = options?.comment ?? carried;
    this.append(caplen === data.length ? data : data.subarray(0, caplen), origLen, linkType, item, comment);
    this.count++;
  }

  /** Writes the buffered records to the file. */
  flush(): void {
    if (this.fd === undefined || this.pos === 0) return;
    writeAll(this.fd, this.buf.subarray(0, this.pos), this.path);
    this.pos = 0;
  }

  /** Flushes and closes the file. Closing twice is harmless. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      if (!this.started) {
        // Nothing written: still a valid, empty capture file.
        this.started = true;
        this.start(this.requestedLinkType ?? 1);
      }
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Whether the format stores packet comments (a comment given to a format without one is an error). */
  protected abstract readonly keepsComments: boolean;

  /** Writes the file header (and for pcapng the first interface) for the first link type. */
  protected abstract start(linkType: number): void;

  /**
   * Lays out one record of `data` (already cut to the snapshot length), stamped with
   * this.seconds/this.nanos. `linkType` is undefined for raw bytes, whose link type is unknown.
   */
  protected abstract append(data: Uint8Array, origLen: number, linkType: number | undefined, item: Writable, comment: string | undefined): void;

  /** Room for `n` more bytes in the buffer, flushing first when needed; false when n is bigger than the buffer. */
  protected reserve(n: number): boolean {
    if (this.pos + n > this.buf.length) this.flush();
    return n <= this.buf.length;
  }

  /** Writes bytes too big for the buffer straight to the file, after what is buffered. */
  protected writeDirect(bytes: Uint8Array): void {
    this.flush();
    writeAll(this.fd!, bytes, this.path);
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
      throw usageError(`timestamp ${String(t)} does not fit a capture file (1970 to 2106)`);
    }
    this.seconds = seconds;
    this.nanos = nanos;
  }
}

/**
 * Whether a record of `linkType` can be stored as `fileLinkType`: the same type, or raw IP in
 * its three spellings (101 holds both versions; 228 only IPv4, 229 only IPv6, by the version nibble).
 */
export function fitsLinkType(fileLinkType: number, linkType: number, data: Uint8Array): boolean {
  if (fileLinkType === linkType) return true;
  const version = data.length > 0 ? data[0]! >> 4 : 0;
  if (fileLinkType === 101) return linkType === 228 || linkType === 229;
  if (linkType !== 101) return false;
  return (fileLinkType === 228 && version === 4) || (fileLinkType === 229 && version === 6);
}

function writeAll(fd: number, bytes: Uint8Array, path: string): void {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    throw openError(path, err, true); // ENOSPC, EIO...: one line naming the file
  }
}
