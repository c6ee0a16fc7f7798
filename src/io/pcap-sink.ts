/**
 * A minimal streaming pcap writer for sniff({pcap}): the classic format (magic a1b2c3d4,
 * microsecond stamps), written synchronously so that a file is complete when sniff ends.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileError } from '../wire/file-error.js';

/** pcap LINKTYPE numbers for dissect()'s link names. */
const LINKTYPES: Record<string, number> = { ether: 1, ip: 101, ipv4: 228, ipv6: 229, sll: 113, sll2: 276, null: 0, loop: 108 };

export class PcapSink {
  private fd: number | undefined;
  private readonly path: string;

  constructor(path: string, link: string | number, snaplen = 65535) {
    const linktype = typeof link === 'number' ? link : (LINKTYPES[link] ?? 1);
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw fileError(path, err, 'write', 'capture file');
    }
    this.path = path;
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(snaplen, 16);
    header.writeUInt32LE(linktype, 20);
    this.put(header);
  }

  /** Appends one record; `timeMicros` is µs since the epoch. */
  write(bytes: Buffer, length: number, timeMicros: number, originalLength = length): void {
    if (this.fd === undefined) return;
    const record = Buffer.allocUnsafe(16 + length);
    const whole = Math.floor(timeMicros);
    record.writeUInt32LE(Math.floor(whole / 1e6), 0);
    record.writeUInt32LE(whole % 1e6, 4);
    record.writeUInt32LE(length, 8);
    record.writeUInt32LE(originalLength, 12);
    bytes.copy(record, 16, 0, length);
    this.put(record);
  }

  private put(bytes: Buffer): void {
    try {
      writeSync(this.fd!, bytes);
    } catch (err) {
      throw fileError(this.path, err, 'write', 'capture file');
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
