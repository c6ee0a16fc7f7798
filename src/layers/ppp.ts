/**
 * PPP (RFC 1661) as PPTP's GRE carries it, with Scapy 2.5's names: PPP is one field, proto,
 * written in one byte when it is below 0x100 and in two otherwise (Scapy's _PPPProtoField), and
 * read as one byte when the first is odd (protocol field compression), as two when it is even.
 * A frame that starts with 0xff has the HDLC address and control bytes first (Scapy's HDLC,
 * which PPP's dispatch picks), then PPP. PPP carries IPv4 (0x21) and IPv6 (0x57); the control
 * protocols (LCP, IPCP, CHAP, PAP ...) stay Raw here.
 */
import { intField, type FieldSpec } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, boundLayer, boundValue, registerLayer } from './registry.js';
import { GRE_PPTP_PROTO, GRE_PPTPLayer } from './gre.js';
import { IPv4Layer } from './ipv4.js';
import { IPv6Layer } from './ipv6.js';

export interface PPPFields {
  proto: number;
}

export interface HDLCFields {
  address: number;
  control: number;
}

const PPP_IP = 0x0021;
const HDLC_ADDRESS = 0xff;

/** Typed field accessors (layer.proto), defined from the field table by registerLayer(). */
export interface PPPLayer extends FieldValues<PPPFields> {}

export class PPPLayer extends Layer<PPPFields> {
  static readonly layerName: string = 'PPP';
  static readonly displayName: string = 'PPP Link Layer';
  static readonly fieldSpecs: readonly FieldSpec[] = [{ name: 'proto', kind: 'int', bits: 16, default: PPP_IP, computed: true }];

  /** A protocol below 0x100 read from two bytes rebuilds in two (Scapy would write one). */
  private wide = false;

  private protoValue(ctx: BuildContext, index: number): number {
    if (this.fields.proto !== undefined) return this.fields.proto;
    const upper = ctx.layers[index + 1];
    const bound = upper && !upper.isTrailer ? boundValue(this.layerClass, upper.layerClass, 'proto') : undefined;
    return bound ?? PPP_IP;
  }

  headerLength(ctx: BuildContext, index: number): number {
    return this.protoValue(ctx, index) < 0x100 && !this.wide ? 1 : 2;
  }

  override clone(): this {
    const copy = super.clone();
    (copy as PPPLayer).wide = this.wide;
    return copy;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const proto = this.protoValue(ctx, index) & 0xffff;
    if (proto < 0x100 && !this.wide) out[off] = proto;
    else out.writeUInt16BE(proto, off);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    if (buf[off] === HDLC_ADDRESS) return HDLCLayer.decode(buf, off, end, ctx);
    const layer = new PPPLayer();
    const avail = end - off;
    const narrow = ((buf[off] ?? 0) & 1) === 1;
    if (avail < (narrow ? 1 : 2)) {
      layer.truncatedTo = Math.max(avail, 0);
      if (avail === 1) layer.fields.proto = buf[off]! << 8;
      if (!ctx.quoted) layer.addProblem('[|ppp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    const proto = narrow ? buf[off]! : buf.readUInt16BE(off);
    layer.fields.proto = proto;
    layer.wide = !narrow && proto < 0x100;
    const start = off + (narrow ? 1 : 2);
    return { layer, payloadStart: start, payloadEnd: end, next: boundLayer(PPPLayer, 'proto', proto) };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof PPPLayer;
  }
}

/** Typed field accessors (layer.address...), defined from the field table by registerLayer(). */
export interface HDLCLayer extends FieldValues<HDLCFields> {}

/** The HDLC-like framing's address (0xff) and control (0x03) bytes before PPP (RFC 1662). */
export class HDLCLayer extends Layer<HDLCFields> {
  static readonly layerName: string = 'HDLC';
  static readonly fieldSpecs: readonly FieldSpec[] = [intField('address', 8, HDLC_ADDRESS, { hex: true }), intField('control', 8, 0x03, { hex: true })];

  headerLength(): number {
    return 2;
  }

  encode(out: Buffer, off: number): void {
    out[off] = (this.fields.address ?? HDLC_ADDRESS) & 0xff;
    out[off + 1] = (this.fields.control ?? 0x03) & 0xff;
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new HDLCLayer();
    const avail = end - off;
    layer.fields.address = buf[off]!;
    if (avail < 2) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|ppp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    layer.fields.control = buf[off + 1]!;
    return { layer, payloadStart: off + 2, payloadEnd: end, next: end > off + 2 ? PPPLayer : undefined };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof HDLCLayer;
  }
}

registerLayer(PPPLayer);
registerLayer(HDLCLayer);

// Scapy's bindings: PPTP's GRE carries PPP (or HDLC framing, which PPP's dispatch finds), PPP carries IP.
bind(GRE_PPTPLayer, PPPLayer, 'proto', GRE_PPTP_PROTO);
bind(GRE_PPTPLayer, HDLCLayer, 'proto', GRE_PPTP_PROTO);
bind(PPPLayer, IPv4Layer, 'proto', PPP_IP);
bind(PPPLayer, IPv6Layer, 'proto', 0x0057);
