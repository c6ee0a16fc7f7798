/**
 * tcpdump -nn for a whole capture: one printer keeps the per-flow state that makes sequence
 * numbers relative, and writes each frame as `HH:MM:SS.ffffff <line>` in local time (TZ is
 * honoured; nanosecond captures print nine digits), with tcpdump's -S, -v, -e, -x and -xx.
 *
 * The per-frame path works on the captured bytes directly (no dissection, no regexes): the
 * benchmark prints hundreds of thousands of frames a second.
 */
import { PrintContext, viewOf } from './tcpdump/context.js';
import { TCPFlowTable } from './tcpdump/tcp-flows.js';
import { invalidHeader, printFrame } from './tcpdump/frame.js';
import { asciiText, hexAsciiLines, hexLines } from './tcpdump/hex.js';
import type { Packet } from '../packet/packet.js';
import { packetFrame } from './packet-frame.js';

export interface PrinterOptions {
  /** -S: absolute sequence numbers. */
  absolute?: boolean;
  /** -v: IP header line and checksum verdicts. */
  verbose?: boolean | number;
  /** -e: the link-layer header. */
  link?: boolean;
  /**
   * Hex lines after each packet: -x (from the network layer) or -xx (the whole frame); -X and
   * -XX add the ASCII column (tcpdump's hex_and_ascii_print).
   */
  hex?: 'x' | 'xx' | 'X' | 'XX';
  /** -A (from the network layer) or -AA (the whole frame): the bytes as text after each packet. -x/-X win, as in tcpdump. */
  ascii?: 'A' | 'AA';
  /** -q: tcpdump's quick output (`tcp 0` for a segment, short link-layer types). */
  quiet?: boolean;
  /** Leave the timestamp out (what summary() prints); the same as timestamps: 'none'. */
  noTimestamp?: boolean;
  /** How each line's time is printed: tcpdump's default and its -t, -tt, -ttt, -tttt, -ttttt. */
  timestamps?: TimestampStyle;
}

/**
 * tcpdump's time stamp styles: 'time' HH:MM:SS.ffffff (local time, the default), 'none' (-t),
 * 'epoch' seconds.ffffff (-tt), 'delta' since the previous packet (-ttt), 'date'
 * YYYY-MM-DD HH:MM:SS.ffffff (-tttt), 'since-first' since the first packet (-ttttt).
 */
export type TimestampStyle = 'time' | 'none' | 'epoch' | 'delta' | 'date' | 'since-first';

/** The style tcpdump gives N -t flags (0 to 5); undefined beyond, which tcpdump refuses. */
export function timestampStyleFor(tFlags: number): TimestampStyle | undefined {
  return (['time', 'none', 'epoch', 'delta', 'date', 'since-first'] as const)[tFlags];
}

/** A frame as a capture file holds it. */
export interface CapturedFrame {
  /** The captured bytes (possibly fewer than the frame had on the wire). */
  data: Buffer;
  /** pcap LINKTYPE: 1 Ethernet, 101 raw IP, 113 Linux SLL, ... */
  linkType: number;
  /** Seconds since the epoch. */
  sec: number;
  /** Microseconds (or nanoseconds when `nano`) past `sec`. */
  frac: number;
  nano?: boolean;
  /** Length on the wire; defaults to data.length. */
  wireLength?: number;
}

/** What src/pcap's PcapRecord carries (kept structural so show/ does not depend on pcap/). */
export interface CaptureRecordLike {
  data: Buffer;
  origLen: number;
  seconds: number;
  nanos: number;
  linkType: number;
}

export interface Printer {
  /** The text tcpdump prints for this frame, without the final newline (may span lines with -v or -x). */
  format(frame: CapturedFrame): string;
  /**
   * A record from the pcap reader. tcpdump prints microseconds even for nanosecond files
   * (libpcap truncates) unless run with --nano: pass `nanoDigits` for that.
   */
  formatRecord(rec: CaptureRecordLike, nanoDigits?: boolean): string;
  /**
   * The lines of a batch of records, each ending with a newline, as bytes ready for a file or
   * a pipe: the fast way to print a big capture (no string per line). The buffer is the
   * printer's own and is overwritten by the next call: write it out (or copy it) first.
   */
  formatBatch(records: readonly CaptureRecordLike[], nanoDigits?: boolean): Buffer;
  /**
   * Appends the line (and its newline) of the frame buf[start, start + caplen) where it lies,
   * e.g. in a reader's chunk during scanFramesSync's visit: no record and no slice per frame.
   * Returns how many bytes of lines wait for takeBytes().
   */
  appendFrame(buf: Buffer, start: number, caplen: number, origLen: number, seconds: number, nanos: number, linkType: number, nanoDigits: boolean): number;
  /** The lines appendFrame() gathered, as a view valid until the next call into the printer. */
  takeBytes(): Buffer;
  /** The same for a Packet (built to bytes; its `time`, in microseconds, is the timestamp). */
  formatPacket(p: Packet): string;
  /** Forgets every flow (as if tcpdump were started again). */
  reset(): void;
}

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Timestamps in local time: the local-time offset is looked up once per quarter hour of UTC
 * (time zones change on quarter-hour boundaries), and the `HH:MM:SS.` text once per second,
 * which a busy capture shares among thousands of packets.
 */
/**
 * The last second glibc's gmtime() converts (the year must fit an int: 2147485547-12-31);
 * tcpdump prints '[Error converting time]' past it. That second, 67768036191676799, is past 2^53
 * and has no double of its own: the nearest double stands for it (seconds up there are coarse).
 */
const LAST_CONVERTIBLE_SECOND = 67768036191676800;

class LocalClock {
  private block = NaN;
  /** The local-time offset (seconds east of UTC) of the last second hms() converted. */
  offset = 0;
  private second = NaN;
  private readonly prefix = new Uint8Array(8);
  /** `prefix` as a DataView, which PrintContext.wbytes copies from. */
  private readonly prefixView = viewOf(this.prefix);

  /** HH:MM:SS for seconds since the epoch, in the local time zone. */
  hms(sec: number): string {
    const block = Math.floor(sec / 900);
    if (block !== this.block) {
      this.block = block;
      // Past JavaScript's dates (year 275760) the zone is taken as UTC.
      this.offset = -new Date(sec * 1000).getTimezoneOffset() * 60 || 0;
    }
    let day = (sec + this.offset) % 86400;
    if (day < 0) day += 86400;
    const h = Math.floor(day / 3600);
    const m = Math.floor((day % 3600) / 60);
    return PAD2[h]! + ':' + PAD2[m]! + ':' + PAD2[day % 60]!;
  }

  /** Appends `HH:MM:SS.ffffff ` (nine fraction digits when `nano`). */
  write(c: PrintContext, sec: number, frac: number, nano: boolean): void {
    // A time before the epoch (libpcap's unsigned sum wraps) or past gmtime's years: as tcpdump.
    if (!convertible(sec)) return c.w('[Error converting time] ');
    const prefix = this.prefix;
    if (sec !== this.second) {
      this.second = sec;
      const text = this.hms(sec);
      for (let i = 0; i < 8; i++) prefix[i] = text.charCodeAt(i);
    }
    c.wbytes(this.prefixView, 0, 8);
    writeFraction(c, frac, nano);
    c.wc(32);
  }

  /** -tt: `seconds.ffffff `. */
  writeEpoch(c: PrintContext, sec: number, frac: number, nano: boolean): void {
    if (!convertible(sec)) return c.w('[Error converting time] ');
    c.wn(sec);
    writeFraction(c, frac, nano);
    c.wc(32);
  }

  /** -tttt: `YYYY-MM-DD HH:MM:SS.ffffff ` in local time (strftime's %Y-%m-%d %H:%M:%S). */
  writeDate(c: PrintContext, sec: number, frac: number, nano: boolean): void {
    if (!convertible(sec)) return c.w('[Error converting time] ');
    const hms = this.hms(sec);
    // hms() has just looked up the offset for this second's quarter hour.
    const day = new Date((sec + this.offset) * 1000);
    const year = day.getUTCFullYear();
    c.w((year < 1000 ? String(year).padStart(4, '0') : String(year)) + '-' + PAD2[day.getUTCMonth() + 1]! + '-' + PAD2[day.getUTCDate()]! + ' ' + hms);
    writeFraction(c, frac, nano);
    c.wc(32);
  }
}

/**
 * The microseconds of a record's nanoseconds, truncated as libpcap does: small-integer division
 * for a sound fraction (a double would be boxed on its way to the digit writers), Math.trunc
 * for an out-of-range one (see PcapRecord.nanos).
 */
function micros(nanos: number): number {
  return nanos >= 0 && nanos < 1e9 ? (nanos / 1000) | 0 : Math.trunc(nanos / 1000);
}

/** Whether tcpdump converts this second to a date (see LAST_CONVERTIBLE_SECOND). */
function convertible(sec: number): boolean {
  return sec >= 0 && sec <= LAST_CONVERTIBLE_SECOND;
}

/**
 * `.ffffff` (nine digits when `nano`). A fraction of a second or more, or negative (a pcap
 * record's fraction field out of range, kept as libpcap reads it), prints as tcpdump's %06u
 * prints it: as an unsigned 32-bit number, all of its digits.
 */
function writeFraction(c: PrintContext, frac: number, nano: boolean): void {
  c.wc(0x2e);
  const width = nano ? 9 : 6;
  if (frac >= 0 && frac < POW10[width]! && frac === Math.floor(frac)) c.wpad(frac, width);
  else c.w(String(frac >>> 0).padStart(width, '0'));
}

/**
 * -ttt and -ttttt: the time since a reference packet (the previous one, or the first one) as
 * ` HH:MM:SS.ffffff ` in UTC, with '-' instead of the space when time went backwards. As in
 * tcpdump, a reference of exactly 0.000000 counts as none yet (the next packet becomes it), and
 * whole days fall out of the HH:MM:SS.
 */
class DeltaClock {
  private refSec = 0;
  private refFrac = 0;

  constructor(private readonly sinceFirst: boolean) {}

  write(c: PrintContext, sec: number, frac: number, nano: boolean): void {
    if (this.refSec === 0 && this.refFrac === 0) {
      this.refSec = sec;
      this.refFrac = frac;
    }
    const unit = nano ? 1e9 : 1e6;
    const negative = sec < this.refSec || (sec === this.refSec && frac < this.refFrac);
    let dsec = negative ? this.refSec - sec : sec - this.refSec;
    let dfrac = negative ? this.refFrac - frac : frac - this.refFrac;
    if (dfrac < 0) {
      dfrac += unit;
      dsec--;
    }
    c.wc(negative ? 0x2d : 0x20);
    // gmtime() of the difference; a difference tcpdump's ts_date_hmsfrac_print cannot take errs as there.
    if (dsec >= 0x80000000) c.w('[Error converting time]');
    else {
      const day = dsec % 86400;
      c.w(PAD2[Math.floor(day / 3600)]! + ':' + PAD2[Math.floor((day % 3600) / 60)]! + ':' + PAD2[day % 60]!);
      writeFraction(c, dfrac, nano);
    }
    c.wc(32);
    if (!this.sinceFirst) {
      this.refSec = sec;
      this.refFrac = frac;
    }
  }

  reset(): void {
    this.refSec = 0;
    this.refFrac = 0;
  }
}

export function createPrinter(options: PrinterOptions = {}): Printer {
  const verbose = options.verbose === true ? 1 : options.verbose === false || options.verbose === undefined ? 0 : options.verbose;
  const flows = new TCPFlowTable();
  const ctx = new PrintContext({ verbose, absolute: options.absolute ?? false, link: options.link ?? false, quiet: options.quiet ?? false }, flows);
  const clock = new LocalClock();
  const style: TimestampStyle = options.noTimestamp ? 'none' : (options.timestamps ?? 'time');
  const delta = style === 'delta' || style === 'since-first' ? new DeltaClock(style === 'since-first') : undefined;
  const hex = options.hex;
  const ascii = options.ascii;

  /** Appends the text (no newline) of the frame data[start, start + caplen) to ctx.out. */
  function write(data: Buffer, start: number, caplen: number, linkType: number, sec: number, frac: number, nano: boolean, wireLength: number): void {
    const invalid = invalidHeader(caplen, wireLength);
    // tcpdump prints an impossible record header alone: no timestamp, no hex.
    if (invalid !== undefined) return ctx.w(invalid);
    if (style === 'time') clock.write(ctx, sec, frac, nano);
    else if (style !== 'none') {
      if (delta) delta.write(ctx, sec, frac, nano);
      else if (style === 'epoch') clock.writeEpoch(ctx, sec, frac, nano);
      else clock.writeDate(ctx, sec, frac, nano);
    }
    const hdrlen = printFrame(ctx, data, start, caplen, wireLength, linkType);
    if (hex === undefined && ascii === undefined) return;
    // print.c's order: -X, then -x, then -A; the doubled letter starts at the link header, the
    // single one after it, and prints nothing when the frame is only a link header.
    const whole = hex === 'xx' || hex === 'XX' || (hex === undefined && ascii === 'AA');
    const skip = whole ? 0 : hdrlen;
    if (caplen <= skip) return;
    if (hex === 'X' || hex === 'XX') ctx.w(hexAsciiLines(data, start + skip, caplen - skip, '\n\t'));
    else if (hex !== undefined) ctx.w(hexLines(data, start + skip, caplen - skip, '\n\t'));
    else ctx.w(asciiText(data, start + skip, caplen - skip));
  }

  /** The text gathered in ctx.out, as a view valid until the next call into the printer. */
  function takeBytes(): Buffer {
    const bytes = ctx.out.subarray(0, ctx.pos);
    ctx.pos = 0;
    return bytes;
  }

  function line(data: Buffer, linkType: number, sec: number, frac: number, nano: boolean, wireLength: number): string {
    ctx.pos = 0;
    write(data, 0, data.length, linkType, sec, frac, nano, wireLength);
    const text = ctx.textFrom(0);
    ctx.pos = 0;
    return text;
  }

  return {
    format(frame: CapturedFrame): string {
      return line(frame.data, frame.linkType, frame.sec, frame.frac, frame.nano === true, frame.wireLength ?? frame.data.length);
    },
    formatRecord(rec: CaptureRecordLike, nanoDigits = false): string {
      return line(rec.data, rec.linkType, rec.seconds, nanoDigits ? rec.nanos : micros(rec.nanos), nanoDigits, rec.origLen);
    },
    formatBatch(records: readonly CaptureRecordLike[], nanoDigits = false): Buffer {
      ctx.pos = 0;
      for (let i = 0; i < records.length; i++) {
        const rec = records[i]!;
        write(rec.data, 0, rec.data.length, rec.linkType, rec.seconds, nanoDigits ? rec.nanos : micros(rec.nanos), nanoDigits, rec.origLen);
        ctx.wc(10);
      }
      return takeBytes();
    },
    appendFrame(buf: Buffer, start: number, caplen: number, origLen: number, seconds: number, nanos: number, linkType: number, nanoDigits: boolean): number {
      write(buf, start, caplen, linkType, seconds, nanoDigits ? nanos : micros(nanos), nanoDigits, origLen);
      ctx.wc(10);
      return ctx.pos;
    },
    takeBytes,
    formatPacket(p: Packet): string {
      const { data, linkType } = packetFrame(p);
      const micros = p.time ?? 0;
      const sec = Math.floor(micros / 1e6);
      return line(data, linkType, sec, Math.round(micros - sec * 1e6), false, data.length);
    },
    reset(): void {
      flows.clear();
      delta?.reset();
    },
  };
}
