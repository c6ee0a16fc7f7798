/**
 * The BSD loopback ("null") link header: a 4-byte address family in the byte order of the host
 * that wrote it (LINKTYPE_NULL), or in network order (LINKTYPE_LOOP, OpenBSD). Scapy's class
 * Loopback, field type, default 2 (AF_INET); Scapy on Linux writes the family little-endian,
 * and so does this layer unless it was dissected from a big-endian header.
 * Families: 2 IPv4; IPv6 is built as 10 (Linux's AF_INET6, as Scapy on Linux writes it) and
 * read as 10, 24, 28 or 30 (the BSDs and Darwin disagree). See bindIPv6Above in ether.ts.
 */
import type { FieldSpec } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { boundLayer, boundValue, registerLayer } from './registry.js';
import { zeroFilledHeader } from './partial.js';

export interface LoopbackFields {
  type: number;
}

export const LOOPBACK_FAMILIES: Readonly<Record<number, string>> = {
  2: 'IPv4',
  7: 'OSI',
  10: 'IPv6',
  16: 'Appletalk',
  23: 'Netware IPX/SPX',
  24: 'IPv6',
  28: 'IPv6',
  30: 'IPv6',
};

export const AF_INET = 2;
const LOOPBACK_HEADER = 4;

const loopbackFields: readonly FieldSpec[] = [{ name: 'type', kind: 'int', bits: 32, default: AF_INET, computed: true, names: LOOPBACK_FAMILIES }];

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface LoopbackLayer extends FieldValues<LoopbackFields> {}

export class LoopbackLayer extends Layer<LoopbackFields> {
  static readonly layerName: string = 'Loopback';
  static readonly fieldSpecs = loopbackFields;

  /** Set by decode when the family was written in network order, so the header rebuilds as it came. */
  bigEndian = false;

  override clone(): this {
    const copy = super.clone();
    copy.bigEndian = this.bigEndian;
    return copy;
  }

  headerLength(): number {
    return LOOPBACK_HEADER;
  }

  /** The family as built on top of `upper`: given, else the binding, else AF_INET (Scapy's default). */
  typeValue(ctx: BuildContext, index: number): number {
    if (this.fields.type !== undefined) return this.fields.type;
    const upper = ctx.layers[index + 1];
    if (!upper || upper.isTrailer) return AF_INET;
    return boundValue(this.layerClass, upper.layerClass, 'type') ?? AF_INET;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const family = this.typeValue(ctx, index) >>> 0;
    if (this.bigEndian) out.writeUInt32BE(family, off);
    else out.writeUInt32LE(family, off);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const avail = end - off;
    if (avail < LOOPBACK_HEADER) {
      // Keep the bytes there are (as a little-endian family), so the cut header rebuilds to them.
      if (avail > 0) layer.fields.type = zeroFilledHeader(buf, off, end, LOOPBACK_HEADER).readUInt32LE(0);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|null]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    // Families are small: a value with high bits set was written in the other byte order (tcpdump's rule).
    let family = buf.readUInt32LE(off);
    if ((family & 0xffff0000) !== 0) {
      family = buf.readUInt32BE(off);
      layer.bigEndian = true;
    }
    layer.fields.type = family;
    return { layer, payloadStart: off + LOOPBACK_HEADER, payloadEnd: end, next: boundLayer(layer.layerClass, 'type', family) };
  }

  /** No addresses here: the layers above carry the key. */
  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof LoopbackLayer;
  }
}

registerLayer(LoopbackLayer);

