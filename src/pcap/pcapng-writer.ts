/**
 * Writing pcapng (little-endian, one section): a Section Header Block, one Interface
 * Description Block per link type the packets need (added when a packet of a new link type
 * arrives, so Ethernet frames and raw IPv6 packets share a file), and an Enhanced Packet Block
 * per packet, with its comment (opt_comment) when one is given. Timestamps are in microseconds,
 * or nanoseconds (if_tsresol 9) with `nanosecond: true`.
 *
 *   const w = writePcapng('mixed.pcapng');
 *   w.write(Ether().add(IP({ dst: '127.0.0.1' })).add(TCP()));   // interface 0: Ethernet
 *   w.write(IPv6({ dst: '::1' }).add(TCP()), { comment: 'v6' }); // interface 1: raw IP
 *   w.close();
 */
import { CaptureWriter, fitsLinkType, type CaptureWriterOptions, type Writable } from './capture-writer.js';
import { BYTE_ORDER_MAGIC, EPB, IDB, OPT_COMMENT, OPT_ENDOFOPT, OPT_IF_TSRESOL, OPT_SHB_USERAPPL, PCAPNG_SHB_TYPE } from './pcapng-format.js';

const EPB_FIXED = 32; // type, length, interface, ts high, ts low, caplen, origlen, trailing length
const USER_APPLICATION = 'synack';

/** Bytes of an option with a value of `n` bytes: code, length, value padded to 4. */
function optionSize(n: number): number {
  return 4 + n + pad(n);
}

function pad(n: number): number {
  return (4 - (n % 4)) % 4;
}

export class PcapngWriter extends CaptureWriter {
  /** LINKTYPE_ number of each interface described so far, by interface number. */
  readonly interfaces: number[] = [];
  protected readonly keepsComments = true;

  constructor(path: string, options: CaptureWriterOptions = {}) {
    super(path, options);
  }

  /** The first interface's LINKTYPE_ number; undefined until the first write decides it (when not given). */
  get linkType(): number | undefined {
    return this.interfaces[0] ?? this.requestedLinkType;
  }

  protected start(linkType: number): void {
    const app = Buffer.from(USER_APPLICATION, 'utf8');
    const length = 28 + optionSize(app.length) + 4;
    this.reserve(length);
    const h = this.buf;
    let p = this.pos;
    h.writeUInt32LE(PCAPNG_SHB_TYPE, p);
    h.writeUInt32LE(length, p + 4);
    h.writeUInt32LE(BYTE_ORDER_MAGIC, p + 8);
    h.writeUInt16LE(1, p + 12);
    h.writeUInt16LE(0, p + 14);
    // Section length unknown (-1): the file is written as a stream.
    h.writeInt32LE(-1, p + 16);
    h.writeInt32LE(-1, p + 20);
    p += 24;
    p = this.option(p, OPT_SHB_USERAPPL, app);
    h.writeUInt32LE(0, p); // opt_endofopt (code 0, length 0)
    h.writeUInt32LE(length, p + 4);
    this.pos = p + 8;
    this.describe(linkType);
  }

  /** Adds an Interface Description Block for `linkType`; returns its interface number. */
  private describe(linkType: number): number {
    const length = 20 + (this.nanosecond ? optionSize(1) + 4 : 0);
    this.reserve(length);
    const h = this.buf;
    let p = this.pos;
    h.writeUInt32LE(IDB, p);
    h.writeUInt32LE(length, p + 4);
    h.writeUInt16LE(linkType, p + 8);
    h.writeUInt16LE(0, p + 10);
    h.writeUInt32LE(this.snaplen, p + 12);
    p += 16;
    if (this.nanosecond) {
      p = this.option(p, OPT_IF_TSRESOL, Buffer.of(9));
      h.writeUInt32LE(OPT_ENDOFOPT, p);
      p += 4;
    }
    h.writeUInt32LE(length, p);
    this.pos = p + 4;
    this.interfaces.push(linkType);
    return this.interfaces.length - 1;
  }

  /** Writes one option at p in the buffer; returns the offset after it. */
  private option(p: number, code: number, value: Uint8Array): number {
    const h = this.buf;
    h.writeUInt16LE(code, p);
    h.writeUInt16LE(value.length, p + 2);
    h.set(value, p + 4);
    h.fill(0, p + 4 + value.length, p + 4 + value.length + pad(value.length));
    return p + optionSize(value.length);
  }

  /** The interface a record of this link type goes to: the first that fits, else a new one. */
  private interfaceFor(linkType: number | undefined, data: Uint8Array): number {
    if (linkType === undefined) return 0; // raw bytes: the file's first link type
    // The exact link type first (an IPv4 packet goes to a raw-IP interface before an IPv4 one).
    const exact = this.interfaces.indexOf(linkType);
    if (exact >= 0) return exact;
    const fits = this.interfaces.findIndex((t) => fitsLinkType(t, linkType, data));
    return fits >= 0 ? fits : this.describe(linkType);
  }

  protected append(data: Uint8Array, origLen: number, linkType: number | undefined, _item: Writable, comment: string | undefined): void {
    const iface = this.interfaceFor(linkType, data);
    const text = comment === undefined ? undefined : Buffer.from(comment, 'utf8');
    if (text && text.length > 0xffff) throw new RangeError(`a packet comment holds at most 65535 bytes, got ${text.length}`);
    const caplen = data.length;
    const options = text ? optionSize(text.length) + 4 : 0;
    const length = EPB_FIXED + caplen + pad(caplen) + options;
    const units = this.nanosecond
      ? BigInt(this.seconds) * 1_000_000_000n + BigInt(this.nanos)
      : BigInt(this.seconds * 1_000_000 + Math.floor(this.nanos / 1000));
    const inBuffer = this.reserve(length);
    const h = this.buf;
    let p = this.pos;
    h.writeUInt32LE(EPB, p);
    h.writeUInt32LE(length, p + 4);
    h.writeUInt32LE(iface, p + 8);
    h.writeUInt32LE(Number(units >> 32n), p + 12);
    h.writeUInt32LE(Number(units & 0xffffffffn), p + 16);
    h.writeUInt32LE(caplen, p + 20);
    h.writeUInt32LE(origLen, p + 24);
    p += 28;
    if (inBuffer) {
      h.set(data, p);
      p += caplen;
    } else {
      // Bigger than the buffer: the fixed part now, the bytes straight from the caller's buffer.
      this.pos = p;
      this.writeDirect(data);
      p = this.pos;
    }
    h.fill(0, p, p + pad(caplen));
    p += pad(caplen);
    if (text) {
      p = this.option(p, OPT_COMMENT, text);
      h.writeUInt32LE(OPT_ENDOFOPT, p);
      p += 4;
    }
    h.writeUInt32LE(length, p);
    this.pos = p + 4;
  }
}
