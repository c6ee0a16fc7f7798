/**
 * tcpdump -nn for a whole capture: one printer keeps the per-flow state that makes sequence
 * numbers relative, and writes each frame as `HH:MM:SS.ffffff <line>` in local time (TZ is
 * honoured; nanosecond captures print nine digits), with tcpdump's -S, -v, -e, -x and -xx.
 *
 * The per-frame path works on the captured bytes directly (no dissection, no regexes): the
 * benchmark prints hundreds of thousands of frames a second.
 */
import { PrintContext } from './tcpdump/context.js';
import { TCPFlowTable } from './tcpdump/tcp-flows.js';
import { printFrame } from './tcpdump/frame.js';
import { hexLines } from './tcpdump/hex.js';
import type { Packet } from '../packet/packet.js';
import { packetFrame } from './packet-frame.js';

export interface PrinterOptions {
  /** -S: absolute sequence numbers. */
  absolute?: boolean;
  /** -v: IP header line and checksum verdicts. */
  verbose?: boolean | number;
  /** -e: the link-layer header. */
  link?: boolean;
  /** -x (from the network layer) or -xx (the whole frame): hex lines after each packet. */
  hex?: 'x' | 'xx';
  /** Leave the timestamp out (what summary() prints). */
  noTimestamp?: boolean;
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
  /** The same for a Packet (built to bytes; its `time`, in microseconds, is the timestamp). */
  formatPacket(p: Packet): string;
  /** Forgets every flow (as if tcpdump were started again). */
  reset(): void;
}

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);

/** Local-time offset (seconds) per quarter hour of UTC: time zones change on quarter-hour boundaries. */
class LocalClock {
  private block = NaN;
  private offset = 0;

  /** HH:MM:SS for seconds since the epoch, in the local time zone. */
  hms(sec: number): string {
    const block = Math.floor(sec / 900);
    if (block !== this.block) {
      this.block = block;
      this.offset = -new Date(sec * 1000).getTimezoneOffset() * 60;
    }
    let day = (sec + this.offset) % 86400;
    if (day < 0) day += 86400;
    const h = Math.floor(day / 3600);
    const m = Math.floor((day % 3600) / 60);
    return PAD2[h]! + ':' + PAD2[m]! + ':' + PAD2[day % 60]!;
  }
}

function fraction(frac: number, nano: boolean): string {
  const s = String(frac);
  const width = nano ? 9 : 6;
  return s.length >= width ? s : '000000000'.slice(0, width - s.length) + s;
}

export function createPrinter(options: PrinterOptions = {}): Printer {
  const verbose = options.verbose === true ? 1 : options.verbose === false || options.verbose === undefined ? 0 : options.verbose;
  const flows = new TCPFlowTable();
  const ctx = new PrintContext({ verbose, absolute: options.absolute ?? false, link: options.link ?? false }, flows);
  const clock = new LocalClock();
  const hex = options.hex;
  const stamp = !options.noTimestamp;

  function format(frame: CapturedFrame): string {
    const data = frame.data;
    const caplen = data.length;
    const hdrlen = printFrame(ctx, data, caplen, frame.wireLength ?? caplen, frame.linkType);
    // tcpdump prints an impossible record header alone: no timestamp, no hex.
    if (hdrlen < 0) return ctx.s;
    let line = stamp ? clock.hms(frame.sec) + '.' + fraction(frame.frac, frame.nano === true) + ' ' + ctx.s : ctx.s;
    if (hex === 'xx') line += hexLines(data, 0, caplen, '\n\t');
    else if (hex === 'x' && caplen > hdrlen) line += hexLines(data, hdrlen, caplen - hdrlen, '\n\t');
    return line;
  }

  return {
    format,
    formatRecord(rec: CaptureRecordLike, nanoDigits = false): string {
      return format({ data: rec.data, linkType: rec.linkType, sec: rec.seconds, frac: nanoDigits ? rec.nanos : Math.floor(rec.nanos / 1000), nano: nanoDigits, wireLength: rec.origLen });
    },
    formatPacket(p: Packet): string {
      const { data, linkType } = packetFrame(p);
      const micros = p.time ?? 0;
      const sec = Math.floor(micros / 1e6);
      return format({ data, linkType, sec, frac: Math.round(micros - sec * 1e6) });
    },
    reset(): void {
      flows.clear();
    },
  };
}
