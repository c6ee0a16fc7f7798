/**
 * GRE (RFC 2784, RFC 2890 key and sequence number) and PPTP's enhanced GRE (RFC 2637, Scapy's
 * GRE_PPTP, below) with Scapy's names: the flag bits
 * chksum_present, routing_present, key_present, seqnum_present, strict_route_source,
 * recursion_control, flags, version, then proto (the EtherType of the payload, bound from the
 * layer above), and the optional words each flag turns on: chksum and offset (with the checksum
 * or routing bit), key, sequence_number. A checksum left unset is computed over the GRE header
 * and payload, as Scapy's post_build does; an unset offset is 0.
 */
import { finishChecksum, sumWords } from '../wire/checksum.js';
import type { FieldSpec } from './field.js';
import { intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, bindLike, boundLayer, boundValue, registerLayer } from './registry.js';
import { IPv4Layer } from './ipv4.js';
import { IPv6Layer } from './ipv6.js';
import { EtherLayer, ETHER_TYPE_NAMES } from './ether.js';
import { ARPLayer } from './arp.js';
import { zeroFilledHeader } from './partial.js';

export interface GREFields {
  chksum_present: number;
  routing_present: number;
  key_present: number;
  seqnum_present: number;
  strict_route_source: number;
  recursion_control: number;
  flags: number;
  version: number;
  proto: number;
  chksum: number;
  offset: number;
  key: number;
  sequence_number: number;
}

const IPPROTO_GRE = 47;

const withChecksum = (v: Record<string, unknown>): boolean => v.chksum_present === 1 || v.routing_present === 1;

const greFields: readonly FieldSpec[] = [
  intField('chksum_present', 1, 0),
  intField('routing_present', 1, 0),
  intField('key_present', 1, 0),
  intField('seqnum_present', 1, 0),
  intField('strict_route_source', 1, 0),
  intField('recursion_control', 3, 0),
  intField('flags', 5, 0),
  intField('version', 3, 0),
  { name: 'proto', kind: 'int', bits: 16, default: 0, computed: true, hex: true, names: ETHER_TYPE_NAMES, unnamed: 'hex' },
  intField('chksum', 16, 0, { hex: true, computed: true, when: withChecksum }),
  intField('offset', 16, 0, { hex: true, computed: true, when: withChecksum }),
  intField('key', 32, 0, { hex: true, when: (v) => v.key_present === 1 }),
  intField('sequence_number', 32, 0, { hex: true, when: (v) => v.seqnum_present === 1 }),
];

/** Typed field accessors (layer.key...), defined from the field table by registerLayer(). */
/** The first byte of every GRE header, plain (RFC 2784/2890) or PPTP's (RFC 2637). */
interface GREFlagFields {
  chksum_present?: number;
  routing_present?: number;
  key_present?: number;
  seqnum_present?: number;
  strict_route_source?: number;
  recursion_control?: number;
}

function flagByte(f: GREFlagFields, keyDefault: number): number {
  return (
    ((f.chksum_present ?? 0) << 7) | ((f.routing_present ?? 0) << 6) | ((f.key_present ?? keyDefault) << 5) |
    ((f.seqnum_present ?? 0) << 4) | ((f.strict_route_source ?? 0) << 3) | ((f.recursion_control ?? 0) & 7)
  );
}

function readFlagByte(f: GREFlagFields, byte: number): void {
  f.chksum_present = byte >> 7;
  f.routing_present = (byte >> 6) & 1;
  f.key_present = (byte >> 5) & 1;
  f.seqnum_present = (byte >> 4) & 1;
  f.strict_route_source = (byte >> 3) & 1;
  f.recursion_control = byte & 7;
}

export interface GRELayer extends FieldValues<GREFields> {}

export class GRELayer extends Layer<GREFields> {
  static readonly layerName: string = 'GRE';
  static readonly fieldSpecs = greFields;

  private bit(name: 'chksum_present' | 'routing_present' | 'key_present' | 'seqnum_present'): boolean {
    return this.fields[name] === 1;
  }

  headerLength(): number {
    let n = 4;
    if (this.bit('chksum_present') || this.bit('routing_present')) n += 4;
    if (this.bit('key_present')) n += 4;
    if (this.bit('seqnum_present')) n += 4;
    return n;
  }

  /** The proto as built on top of `upper`: given, else the binding, else 0 (Scapy's default). */
  protoValue(ctx: BuildContext, index: number): number {
    if (this.fields.proto !== undefined) return this.fields.proto;
    const upper = ctx.layers[index + 1];
    if (!upper || upper.isTrailer) return 0;
    return boundValue(this.layerClass, upper.layerClass, 'proto') ?? 0;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    out[off] = flagByte(f, 0);
    out[off + 1] = (((f.flags ?? 0) & 31) << 3) | ((f.version ?? 0) & 7);
    out.writeUInt16BE(this.protoValue(ctx, index) & 0xffff, off + 2);
    let p = off + 4;
    if (this.bit('chksum_present') || this.bit('routing_present')) {
      out.writeUInt16BE((f.chksum ?? 0) & 0xffff, p);
      out.writeUInt16BE((f.offset ?? 0) & 0xffff, p + 2);
      p += 4;
    }
    if (this.bit('key_present')) {
      out.writeUInt32BE((f.key ?? 0) >>> 0, p);
      p += 4;
    }
    if (this.bit('seqnum_present')) out.writeUInt32BE((f.sequence_number ?? 0) >>> 0, p);
  }

  override fixChecksum(out: Buffer, off: number, end: number): void {
    // Scapy fills the checksum only when the checksum bit is set (routing alone leaves it 0).
    if (this.fields.chksum !== undefined || !this.bit('chksum_present')) return;
    out.writeUInt16BE(finishChecksum(sumWords(out, off, end)), off + 4);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    // Scapy's dispatch: a header whose proto is PPP (0x880b) is PPTP's, whatever its version.
    if (this === GRELayer && end - off >= 4 && buf.readUInt16BE(off + 2) === GRE_PPTP_PROTO) return GRE_PPTPLayer.decode(buf, off, end, ctx);
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    // The header's length follows from its first byte; a header cut short is read from a
    // zero-filled copy, so the bytes there were rebuild exactly (truncatedTo keeps only them).
    const b0 = buf[off] ?? 0;
    const size = 4 + ((b0 & 0xc0 ? 4 : 0) + (b0 & 0x20 ? 4 : 0) + (b0 & 0x10 ? 4 : 0));
    const cut = avail < size;
    const b = cut ? zeroFilledHeader(buf, off, end, size) : buf;
    const o = cut ? 0 : off;
    readFlagByte(f, b[o]!);
    f.flags = b[o + 1]! >> 3;
    f.version = b[o + 1]! & 7;
    f.proto = b.readUInt16BE(o + 2);
    let p = o + 4;
    if (f.chksum_present || f.routing_present) {
      f.chksum = b.readUInt16BE(p);
      f.offset = b.readUInt16BE(p + 2);
      p += 4;
    }
    if (f.key_present) {
      f.key = b.readUInt32BE(p);
      p += 4;
    }
    if (f.seqnum_present) f.sequence_number = b.readUInt32BE(p);
    if (cut) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|gre]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    if (f.chksum_present && !ctx.quoted) layer.checksumValid = finishChecksum(sumWords(buf, off, end)) === 0;
    return { layer, payloadStart: off + size, payloadEnd: end, next: boundLayer(layer.layerClass, 'proto', f.proto) };
  }

  /** GRE adds nothing to the match key: the packet it carries decides. */
  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof GRELayer;
  }
}

export interface GRE_PPTPFields {
  chksum_present: number;
  routing_present: number;
  key_present: number;
  seqnum_present: number;
  strict_route_source: number;
  recursion_control: number;
  acknum_present: number;
  flags: number;
  version: number;
  proto: number;
  payload_len: number;
  call_id: number;
  sequence_number: number;
  ack_number: number;
}

/** The EtherType of PPP, which PPTP's GRE carries. */
export const GRE_PPTP_PROTO = 0x880b;

const pptpFields: readonly FieldSpec[] = [
  intField('chksum_present', 1, 0),
  intField('routing_present', 1, 0),
  intField('key_present', 1, 1),
  intField('seqnum_present', 1, 0),
  intField('strict_route_source', 1, 0),
  intField('recursion_control', 3, 0),
  intField('acknum_present', 1, 0),
  intField('flags', 4, 0),
  intField('version', 3, 1),
  { name: 'proto', kind: 'int', bits: 16, default: GRE_PPTP_PROTO, computed: true, hex: true, names: ETHER_TYPE_NAMES, unnamed: 'hex' },
  { name: 'payload_len', kind: 'int', bits: 16, default: 0, computed: true },
  intField('call_id', 16, 0),
  intField('sequence_number', 32, 0, { hex: true, when: (v) => v.seqnum_present === 1 }),
  intField('ack_number', 32, 0, { hex: true, when: (v) => v.acknum_present === 1 }),
];

/** Typed field accessors (layer.call_id...), defined from the field table by registerLayer(). */
export interface GRE_PPTPLayer extends FieldValues<GRE_PPTPFields> {}

/**
 * PPTP's enhanced GRE (RFC 2637): the key word is the payload length and the call id, an
 * acknowledgement number follows the sequence number when its bit is set. payload_len left
 * unset is the payload's length, as Scapy's post_build writes it; proto defaults to PPP.
 */
export class GRE_PPTPLayer extends Layer<GRE_PPTPFields> {
  static readonly layerName: string = 'GRE_PPTP';
  static readonly displayName: string = 'GRE PPTP';
  static readonly fieldSpecs = pptpFields;

  headerLength(): number {
    return 8 + (this.fields.seqnum_present === 1 ? 4 : 0) + (this.fields.acknum_present === 1 ? 4 : 0);
  }

  encode(out: Buffer, off: number, payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    // PPTP's GRE always carries its key (the call id): the key bit defaults to 1.
    out[off] = flagByte(f, 1);
    out[off + 1] = ((f.acknum_present ?? 0) << 7) | (((f.flags ?? 0) & 15) << 3) | ((f.version ?? 1) & 7);
    const upper = ctx.layers[index + 1];
    const bound = upper && !upper.isTrailer ? boundValue(this.layerClass, upper.layerClass, 'proto') : undefined;
    out.writeUInt16BE((f.proto ?? bound ?? GRE_PPTP_PROTO) & 0xffff, off + 2);
    out.writeUInt16BE((f.payload_len ?? payloadLength) & 0xffff, off + 4);
    out.writeUInt16BE((f.call_id ?? 0) & 0xffff, off + 6);
    let p = off + 8;
    if (f.seqnum_present === 1) {
      out.writeUInt32BE((f.sequence_number ?? 0) >>> 0, p);
      p += 4;
    }
    if (f.acknum_present === 1) out.writeUInt32BE((f.ack_number ?? 0) >>> 0, p);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const b1 = buf[off + 1] ?? 0;
    const size = 8 + ((buf[off] ?? 0) & 0x10 ? 4 : 0) + (b1 & 0x80 ? 4 : 0);
    const cut = avail < size;
    const b = cut ? zeroFilledHeader(buf, off, end, size) : buf;
    const o = cut ? 0 : off;
    readFlagByte(f, b[o]!);
    f.acknum_present = b[o + 1]! >> 7;
    f.flags = (b[o + 1]! >> 3) & 15;
    f.version = b[o + 1]! & 7;
    f.proto = b.readUInt16BE(o + 2);
    f.payload_len = b.readUInt16BE(o + 4);
    f.call_id = b.readUInt16BE(o + 6);
    let p = o + 8;
    if (f.seqnum_present) {
      f.sequence_number = b.readUInt32BE(p);
      p += 4;
    }
    if (f.acknum_present) f.ack_number = b.readUInt32BE(p);
    if (cut) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|gre]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: off + size, payloadEnd: end, next: boundLayer(layer.layerClass, 'proto', f.proto) };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof GRE_PPTPLayer;
  }
}

registerLayer(GRELayer);
registerLayer(GRE_PPTPLayer);

// GRE is protocol 47 over IPv4 and IPv6; it carries IPv4, IPv6, Ethernet (transparent
// bridging, 0x6558) and ARP by EtherType, as Scapy binds them.
bind(IPv4Layer, GRELayer, 'proto', IPPROTO_GRE);
bind(IPv6Layer, GRELayer, 'nh', IPPROTO_GRE);
bind(IPv4Layer, GRE_PPTPLayer, 'proto', IPPROTO_GRE);
bind(IPv6Layer, GRE_PPTPLayer, 'nh', IPPROTO_GRE);
bind(GRELayer, IPv4Layer, 'proto', 0x0800);
bind(GRELayer, IPv6Layer, 'proto', 0x86dd);
bind(GRELayer, EtherLayer, 'proto', 0x6558);
bind(GRELayer, ARPLayer, 'proto', 0x0806);
// PPTP's header carries what GRE carries (Scapy's GRE_PPTP is a GRE); PPP binds in ppp.ts.
bindLike(GRE_PPTPLayer, GRELayer);
