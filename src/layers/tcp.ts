/**
 * TCP (RFC 9293). Scapy's names and defaults: sport 20, dport 80, flags 'S', window 8192.
 * dataofs and chksum are computed when unset; the checksum covers the pseudo-header of the
 * IPv4 or IPv6 layer below. Options live in tcp-options.ts.
 */
import { finishChecksum, sumWords, upperLayerChecksum, verifyUpperChecksum } from '../wire/checksum.js';
import { seqDistance } from '../wire/seq.js';
import { usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { computedInt, defaultsOf, fieldStarts, intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues, type LayerClass } from './layer.js';
import { bind, boundValue, portBound, registerLayer } from './registry.js';
import type { ScanResult } from './lazy.js';
import { IPerrorLayer, IPv4Layer } from './ipv4.js';
import { IPerror6Layer, IPv6Layer } from './ipv6.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';
import { checkTCPOptions, readTCPOptions, tcpOptionsLength, writeTCPOptions, type TCPOption } from './tcp-options.js';

export interface TCPFields {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  dataofs: number;
  reserved: number;
  /** Letters F S R P A U E C N (Scapy's), e.g. 'SA', or the 9-bit number. */
  flags: number | string;
  window: number;
  chksum: number;
  urgptr: number;
  options: TCPOption[];
}

/** Flag letters from the least significant bit: FIN SYN RST PSH ACK URG ECE CWR NS. */
export const TCP_FLAG_LETTERS = 'FSRPAUECN';

export const TCPFlag = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80, N: 0x100 } as const;

const tcpFields: readonly FieldSpec[] = [
  intField('sport', 16, 20, { names: 'services/tcp' }),
  intField('dport', 16, 80, { names: 'services/tcp' }),
  intField('seq', 32, 0),
  intField('ack', 32, 0),
  computedInt('dataofs', 4),
  intField('reserved', 3, 0),
  { name: 'flags', kind: 'flags', bits: 9, default: TCPFlag.S, flagLetters: TCP_FLAG_LETTERS },
  intField('window', 16, 8192),
  computedInt('chksum', 16, { hex: true }),
  intField('urgptr', 16, 0),
  { name: 'options', kind: 'options', default: [] },
];

const parsedFlags = new Map<string, number>();

/** 'SA' -> 0x12. Unknown letters are a usage error that lists the valid ones. */
export function parseTCPFlags(value: number | string): number {
  if (typeof value === 'number') return value;
  const known = parsedFlags.get(value);
  if (known !== undefined) return known;
  let bits = 0;
  for (const letter of value) {
    const i = TCP_FLAG_LETTERS.indexOf(letter.toUpperCase());
    if (i < 0) throw usageError(`unknown TCP flag '${letter}' in '${value}': flags are F S R P A U E C N (e.g. flags='SA')`);
    bits |= 1 << i;
  }
  if (parsedFlags.size < 1024) parsedFlags.set(value, bits);
  return bits;
}

/** 0x12 -> 'SA', in Scapy's letter order. */
export function formatTCPFlags(bits: number): string {
  let s = '';
  for (let i = 0; i < TCP_FLAG_LETTERS.length; i++) if (bits & (1 << i)) s += TCP_FLAG_LETTERS[i];
  return s;
}

/** Where each field starts in the header (for cut-off headers), and the defaults: from the table. */
const TCP_FIELD_OFFSETS = fieldStarts(tcpFields);
const D = defaultsOf<TCPFields>(tcpFields);

/**
 * An unset sport under `upper` (the layer above, if any): Scapy's default, unless that layer is
 * bound to a port (TCP()/DNS() takes sport 53, the field Scapy's last binding of DNS to TCP fills).
 */
export function sportFor(upper: Layer | undefined): number {
  if (upper === undefined || upper.isPayload) return D.sport;
  return boundValue(TCPLayer, upper.layerClass, 'sport') ?? D.sport;
}

/** TCP's protocol number, in the pseudo-header its checksum covers. */
const TCP_PROTOCOL = 6;

/**
 * Writes a TCP header at out[off], options and their padding included: each field as given,
 * else its default. `sport` is the source port (given, else bound to the layer above) and
 * `optionBytes` the options' padded size (tcpOptionBytes). An unset checksum is written as zero
 * for fixChecksum to fill once the payload is final, or, given `pseudoAddressSum` (the segment is
 * this header alone, under a network header whose addresses sum to it), filled here. The one
 * writer of the header's layout: encode() and the IPv4/TCP build plan (packet/build-plan.ts).
 */
export function writeTCPHeader(out: Buffer, off: number, f: Partial<TCPFields>, optionBytes: number, sport: number, pseudoAddressSum?: number): void {
  sport &= 0xffff;
  const dport = (f.dport ?? D.dport) & 0xffff;
  const seq = (f.seq ?? D.seq) >>> 0;
  const ack = (f.ack ?? D.ack) >>> 0;
  const flags = (f.flags as number | undefined) ?? (D.flags as number);
  const offsetFlags = ((((f.dataofs ?? 5 + optionBytes / 4) & 15) << 12) | (((f.reserved ?? D.reserved) & 7) << 9) | (flags & 0x1ff));
  const window = (f.window ?? D.window) & 0xffff;
  const urgptr = (f.urgptr ?? D.urgptr) & 0xffff;
  out[off] = sport >>> 8;
  out[off + 1] = sport & 0xff;
  out[off + 2] = dport >>> 8;
  out[off + 3] = dport & 0xff;
  out[off + 4] = seq >>> 24;
  out[off + 5] = (seq >>> 16) & 0xff;
  out[off + 6] = (seq >>> 8) & 0xff;
  out[off + 7] = seq & 0xff;
  out[off + 8] = ack >>> 24;
  out[off + 9] = (ack >>> 16) & 0xff;
  out[off + 10] = (ack >>> 8) & 0xff;
  out[off + 11] = ack & 0xff;
  out[off + 12] = offsetFlags >>> 8;
  out[off + 13] = offsetFlags & 0xff;
  out[off + 14] = window >>> 8;
  out[off + 15] = window & 0xff;
  out[off + 18] = urgptr >>> 8;
  out[off + 19] = urgptr & 0xff;
  if (optionBytes > 0) writeTCPOptions(f.options!, out, off + 20, off + 20 + optionBytes);
  let chksum = f.chksum ?? 0;
  if (f.chksum === undefined && pseudoAddressSum !== undefined) {
    // The fixed words from the values just written (no reading back), the options from the bytes.
    let sum = pseudoAddressSum + TCP_PROTOCOL + 20 + optionBytes;
    sum += sport + dport + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + offsetFlags + window + urgptr;
    if (optionBytes > 0) sum = sumWords(out, off + 20, off + 20 + optionBytes, sum);
    chksum = finishChecksum(sum);
  }
  out[off + 16] = (chksum >>> 8) & 0xff;
  out[off + 17] = chksum & 0xff;
}

/** The padded size of a header's options, as built: what headerLength() adds to 20. */
export function tcpOptionBytes(options: readonly TCPOption[] | undefined): number {
  return options === undefined || options.length === 0 ? 0 : (tcpOptionsLength(options) + 3) & ~3;
}

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface TCPLayer extends FieldValues<TCPFields> {}

export class TCPLayer extends Layer<TCPFields> {
  static readonly layerName: string = 'TCP';
  static readonly fieldSpecs = tcpFields;

  protected override normalize(fields: Partial<TCPFields>): Partial<TCPFields> {
    super.normalize(fields);
    if (fields.flags !== undefined) fields.flags = parseTCPFlags(fields.flags);
    if (fields.options !== undefined) fields.options = checkTCPOptions(fields.options);
    return fields;
  }

  /** The flags as a number (set, dissected, or the default SYN). */
  get flagBits(): number {
    return (this.fields.flags as number | undefined) ?? (D.flags as number);
  }

  /** Padded option bytes, measured by headerLength() and reused by encode() in the same build. */
  private measuredOptionBytes = 0;

  headerLength(): number {
    this.measuredOptionBytes = tcpOptionBytes(this.fields.options);
    return 20 + this.measuredOptionBytes;
  }

  encode(out: Buffer, off: number, _payloadLength?: number, ctx?: BuildContext, index = 0): void {
    const f = this.fields;
    writeTCPHeader(out, off, f, this.measuredOptionBytes, f.sport ?? sportFor(ctx?.layers[index + 1]));
  }

  override fixChecksum(out: Buffer, off: number, end: number, ctx: BuildContext, index: number): void {
    if (this.fields.chksum !== undefined) return;
    const sum = upperLayerChecksum(out, off, end, ctx, index, TCP_PROTOCOL);
    if (sum !== undefined) {
      out[off + 16] = sum >>> 8;
      out[off + 17] = sum & 0xff;
    }
  }

  /** dissect()'s fast path (layers/lazy.ts): a whole header whose data offset fits the bytes. */
  static scan(this: LayerClass, buf: Buffer, off: number, end: number, out: ScanResult): boolean {
    if (end - off < 20) return false;
    const headerLength = (buf[off + 12]! >> 4) * 4;
    if (headerLength < 20 || off + headerLength > end) return false;
    out.payloadStart = off + headerLength;
    out.payloadEnd = end;
    // As decode(): a port's protocol (DNS on 53) only when data follows.
    out.next = off + headerLength < end ? portBound(this, (buf[off + 2]! << 8) | buf[off + 3]!, (buf[off]! << 8) | buf[off + 1]!) : undefined;
    return true;
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    if (avail < 20) {
      // An ICMP error quotes 8 bytes: ports and sequence number are there, and are what matters.
      // Read from a zero-filled copy, then forget the fields past the cut (split ones keep their bytes).
      const whole = this.decode(zeroFilledHeader(buf, off, end, 20), 0, 20, { below: ctx.below, quoted: true }).layer as TCPLayer;
      whole.checksumValid = undefined;
      forgetFieldsPast(whole.fields, TCP_FIELD_OFFSETS, avail);
      whole.truncatedTo = avail;
      // Defects seen in the zero filling are not the packet's.
      whole.problems = undefined;
      if (!ctx.quoted) whole.addProblem('[|tcp]');
      return { layer: whole, payloadStart: end, payloadEnd: end };
    }
    f.sport = buf.readUInt16BE(off);
    f.dport = buf.readUInt16BE(off + 2);
    f.seq = buf.readUInt32BE(off + 4);
    f.ack = buf.readUInt32BE(off + 8);
    const b12 = buf[off + 12]!;
    const dataofs = b12 >> 4;
    f.dataofs = dataofs;
    f.reserved = (b12 >> 1) & 7;
    f.flags = ((b12 & 1) << 8) | buf[off + 13]!;
    f.window = buf.readUInt16BE(off + 14);
    f.chksum = buf.readUInt16BE(off + 16);
    f.urgptr = buf.readUInt16BE(off + 18);
    let headerEnd = off + 20;
    if (dataofs < 5) {
      layer.addProblem(`bad hdr length ${dataofs * 4} - too short, < 20`);
      f.options = [];
    } else if (off + dataofs * 4 > end) {
      layer.addProblem(`bad hdr length ${dataofs * 4} - too long, > ${avail}`);
      // Keep what there is of the options region verbatim, so the bytes rebuild.
      f.options = avail > 20 ? [['bytes', Buffer.from(buf.subarray(off + 20, end))]] : [];
      // Options are padded to 32 bits when built; the wire had fewer bytes than that.
      if (avail % 4 !== 0) layer.truncatedTo = avail;
      headerEnd = end;
    } else {
      headerEnd = off + dataofs * 4;
      if (dataofs > 5) {
        const problems: string[] = [];
        f.options = readTCPOptions(buf, off + 20, headerEnd, problems);
        for (const p of problems) layer.addProblem(p);
      } else f.options = [];
    }
    if (!ctx.quoted) layer.checksumValid = verifyUpperChecksum(buf, off, end, ctx, TCP_PROTOCOL);
    // A port's protocol (DNS on 53) only when data follows: most segments ask nothing.
    const next = headerEnd < end ? portBound(layer.layerClass, f.dport!, f.sport!) : undefined;
    return { layer, payloadStart: headerEnd, payloadEnd: end, next };
  }

  /** The part of the direction-free match key this header gives (Scapy's hashret): sport ^ dport. */
  hashret(): string {
    return 'p' + ((this.sport ^ this.dport) & 0xffff);
  }

  /**
   * Whether this segment (a reply) answers `other` (a segment we sent). Scapy's rules, with
   * its flaw fixed: the sent ack number is compared with our seq only when the sent segment
   * carries the ACK flag. Without ACK the ack field means nothing, and RFC 9293 has a closed
   * port answer with seq 0 (a FIN, Null or Xmas probe carrying a stray ack still matches).
   * Sequence distances are taken modulo 2^32. `otherAbove` (the layers above the sent
   * segment) gives its payload length; the matcher walks the layers (sr/match.ts).
   */
  answers(other: unknown, _selfAbove: readonly Layer[] = [], otherAbove: readonly Layer[] = []): boolean {
    if (!(other instanceof TCPLayer)) return false;
    const mine = this.flagBits;
    const theirs = other.flagBits;
    // A RST is never answered.
    if (theirs & TCPFlag.R) return false;
    if (mine & TCPFlag.S) {
      // A SYN answers only as a SYN-ACK, and only a SYN.
      if (!(mine & TCPFlag.A) || !(theirs & TCPFlag.S)) return false;
    }
    if (this.sport !== other.dport || this.dport !== other.sport) return false;
    if (theirs & TCPFlag.A && seqDistance(other.ack, this.seq) > 2) return false;
    // A RST without ACK acknowledges nothing (its seq was checked above when it could be).
    if (mine & TCPFlag.R && !(mine & TCPFlag.A)) return true;
    const sentLength = payloadLength(otherAbove);
    // The ack covers what we sent, plus one for SYN and for FIN.
    return seqDistance(this.ack, other.seq) <= 2 + sentLength;
  }
}


/** Bytes of payload (Raw loads, not Padding) in the layers above a segment. */
function payloadLength(above: readonly Layer[]): number {
  let length = 0;
  for (const layer of above) {
    if (layer.isTrailer) continue;
    const load = (layer.fields as { load?: Buffer | string }).load;
    if (load !== undefined) length += load.length;
  }
  return length;
}


/** The TCP header an ICMP error quotes (Scapy's TCPerror). */
export class TCPerrorLayer extends TCPLayer {
  static override readonly layerName: string = 'TCPerror';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'TCP in ICMP';

  /**
   * A quoted header answers the segment it quotes: same ports in the same direction, and the
   * same seq and ack where the quote is long enough to hold them.
   */
  override answers(other: unknown): boolean {
    if (!(other instanceof TCPLayer)) return false;
    const f = this.fields;
    if (f.sport !== other.sport || f.dport !== other.dport) return false;
    if (f.seq !== undefined && f.seq !== other.seq) return false;
    if (f.ack !== undefined && f.ack !== other.ack) return false;
    return true;
  }
}

registerLayer(TCPLayer);
registerLayer(TCPerrorLayer);

// TCP is protocol 6 over IPv4 and IPv6, and over the IP headers ICMP errors quote.
bind(IPv4Layer, TCPLayer, 'proto', 6);
bind(IPerrorLayer, TCPerrorLayer, 'proto', 6);
bind(IPv6Layer, TCPLayer, 'nh', 6);
bind(IPerror6Layer, TCPerrorLayer, 'nh', 6);
