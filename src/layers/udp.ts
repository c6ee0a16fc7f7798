/**
 * UDP (RFC 768). Scapy's names and defaults: sport 53, dport 53; len (8 + payload) and chksum
 * are computed when unset. The checksum covers the pseudo-header of the IPv4 or IPv6 layer
 * below (IPv4's honours a given IP len, as Scapy's does); a computed 0 is sent as 0xffff,
 * since 0 on the wire means "no checksum". Without a network layer below it stays 0.
 */
import type { FieldSpec } from './field.js';
import { computedInt, defaultsOf, fieldStarts, intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues, type LayerClass } from './layer.js';
import type { ScanResult } from './lazy.js';
import { bind, boundValue, portBound, registerLayer } from './registry.js';
import { IPerrorLayer, IPv4Layer } from './ipv4.js';
import { IPerror6Layer, IPv6Layer } from './ipv6.js';
import { upperLayerChecksum, verifyUpperChecksum } from '../wire/checksum.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

export interface UDPFields {
  sport: number;
  dport: number;
  len: number;
  chksum: number;
}

const IPPROTO_UDP = 17;
const UDP_HEADER = 8;

const udpFields: readonly FieldSpec[] = [
  intField('sport', 16, 53, { names: 'services/udp' }),
  intField('dport', 16, 53, { names: 'services/udp' }),
  computedInt('len', 16),
  computedInt('chksum', 16, { hex: true }),
];

/** Where each field starts (for cut-off headers), and the defaults: from the table. */
const UDP_FIELD_STARTS = fieldStarts(udpFields);
const D = defaultsOf<UDPFields>(udpFields);

/**
 * Whether a network layer below says the capture cut its payload short: no checksum verdict
 * then, as tcpdump gives none (ICMP uses it too).
 */
export function cutShortBelow(ctx: DecodeContext): boolean {
  for (const layer of ctx.below) if (layer.problems?.some((p) => p.startsWith('truncated-ip'))) return true;
  return false;
}

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface UDPLayer extends FieldValues<UDPFields> {}

export class UDPLayer extends Layer<UDPFields> {
  static readonly layerName: string = 'UDP';
  static readonly fieldSpecs = udpFields;

  headerLength(): number {
    return UDP_HEADER;
  }

  encode(out: Buffer, off: number, payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    // A protocol bound to a port (BOOTP, NTP) sets the ports it binds when they are unset, as Scapy's bindings do.
    const upper = f.sport === undefined || f.dport === undefined ? ctx.layers[index + 1] : undefined;
    const sport = (f.sport ?? (upper && boundValue(this.layerClass, upper.layerClass, 'sport')) ?? D.sport) & 0xffff;
    const dport = (f.dport ?? (upper && boundValue(this.layerClass, upper.layerClass, 'dport')) ?? D.dport) & 0xffff;
    const len = (f.len ?? UDP_HEADER + payloadLength) & 0xffff;
    const chksum = (f.chksum ?? 0) & 0xffff;
    out[off] = sport >>> 8;
    out[off + 1] = sport & 0xff;
    out[off + 2] = dport >>> 8;
    out[off + 3] = dport & 0xff;
    out[off + 4] = len >>> 8;
    out[off + 5] = len & 0xff;
    out[off + 6] = chksum >>> 8;
    out[off + 7] = chksum & 0xff;
  }

  override fixChecksum(out: Buffer, off: number, end: number, ctx: BuildContext, index: number): void {
    if (this.fields.chksum !== undefined) return;
    const sum = upperLayerChecksum(out, off, end, ctx, index, IPPROTO_UDP);
    if (sum !== undefined) out.writeUInt16BE(sum === 0 ? 0xffff : sum, off + 6);
  }

  /**
   * dissect()'s fast path (layers/lazy.ts): a whole header whose length fits the bytes. The
   * checksum verdict is decode()'s, worked out when first asked for (with IPv4's pseudo-header).
   */
  static scan(this: LayerClass, buf: Buffer, off: number, end: number, out: ScanResult): boolean {
    if (end - off < UDP_HEADER) return false;
    const len = (buf[off + 4]! << 8) | buf[off + 5]!;
    if (len < UDP_HEADER || off + len > end) return false;
    out.payloadStart = off + UDP_HEADER;
    out.payloadEnd = off + len;
    out.next = portBound(this, (buf[off + 2]! << 8) | buf[off + 3]!, (buf[off]! << 8) | buf[off + 1]!);
    return true;
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    if (avail < UDP_HEADER) {
      // An ICMP error may quote fewer than 8 bytes: the ports are what matters, keep them.
      const b = zeroFilledHeader(buf, off, end, UDP_HEADER);
      f.sport = b.readUInt16BE(0);
      f.dport = b.readUInt16BE(2);
      f.len = b.readUInt16BE(4);
      f.chksum = b.readUInt16BE(6);
      forgetFieldsPast(f, UDP_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|udp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    f.sport = buf.readUInt16BE(off);
    f.dport = buf.readUInt16BE(off + 2);
    const len = buf.readUInt16BE(off + 4);
    f.len = len;
    f.chksum = buf.readUInt16BE(off + 6);
    let payloadEnd = end;
    if (len < UDP_HEADER) {
      if (!ctx.quoted) layer.addProblem(`truncated-udplength ${len}`);
    } else if (len > avail) {
      // A quote is short by nature; elsewhere the datagram claims more than the IP payload holds.
      if (!ctx.quoted) layer.addProblem(`bad length ${len - UDP_HEADER} > ${avail - UDP_HEADER}`);
    } else payloadEnd = off + len;
    // Checksum 0 means none was computed (IPv4); the verdict covers what tcpdump's does: len bytes.
    if (!ctx.quoted && f.chksum !== 0 && len >= UDP_HEADER && !cutShortBelow(ctx)) {
      layer.checksumValid = verifyUpperChecksum(buf, off, payloadEnd, ctx, IPPROTO_UDP);
    }
    return { layer, payloadStart: off + UDP_HEADER, payloadEnd, next: portBound(layer.layerClass, f.dport, f.sport) };
  }

  /** Direction-free key: the two ports, smaller first, so a reply keys like its request. */
  hashret(): string {
    const a = this.sport;
    const b = this.dport;
    return a < b ? `${a},${b}` : `${b},${a}`;
  }

  /**
   * Whether this received datagram answers `other` (sent). Stricter than Scapy, which checks
   * only dport: both ports must be the sent ones swapped.
   */
  answers(other: Layer): boolean {
    if (!(other instanceof UDPLayer)) return false;
    return this.sport === other.dport && this.dport === other.sport;
  }
}

/** The UDP header an ICMP error quotes (Scapy's UDPerror). */
export class UDPerrorLayer extends UDPLayer {
  static override readonly layerName: string = 'UDPerror';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'UDP in ICMP';

  /** A quote repeats the sent header as it was: same ports, same direction. */
  override answers(other: Layer): boolean {
    if (!(other instanceof UDPLayer)) return false;
    return this.sport === other.sport && this.dport === other.dport;
  }
}

registerLayer(UDPLayer);
registerLayer(UDPerrorLayer);

// UDP is protocol 17 over IPv4 and IPv6, and over the IP headers ICMP errors quote.
bind(IPv4Layer, UDPLayer, 'proto', IPPROTO_UDP);
bind(IPerrorLayer, UDPerrorLayer, 'proto', IPPROTO_UDP);
bind(IPv6Layer, UDPLayer, 'nh', IPPROTO_UDP);
bind(IPerror6Layer, UDPerrorLayer, 'nh', IPPROTO_UDP);
