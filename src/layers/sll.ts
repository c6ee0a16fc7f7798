/**
 * Linux cooked captures: what libpcap gives for the 'any' device. Version 1 (LINKTYPE_LINUX_SLL,
 * 16 bytes) and version 2 (LINKTYPE_LINUX_SLL2, 20 bytes), with Scapy's class names
 * (CookedLinux, CookedLinuxV2) and fields. src is the link-layer address as 8 raw bytes
 * (Scapy's StrFixedLenField: a string is taken as latin1, short values are zero-padded).
 * proto is the binding of the layer above, else 0x0800 as in Scapy.
 */
import type { FieldSpec } from './field.js';
import { fieldStarts, intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { boundLayer, boundValue, registerLayer } from './registry.js';
import { toBytes } from './raw.js';
import { ETHER_TYPE_NAMES } from './ether.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

/** Packet types (sll_pkttype): who the packet was addressed to. */
export const SLL_PACKET_TYPES: Readonly<Record<number, string>> = {
  0: 'unicast',
  1: 'broadcast',
  2: 'multicast',
  3: 'unicast-to-another-host',
  4: 'sent-by-us',
};

export interface CookedCommon {
  pkttype: number;
  lladdrtype: number;
  lladdrlen: number;
  src: Buffer | string;
  proto: number;
}
export type CookedLinuxFields = CookedCommon;
export interface CookedLinuxV2Fields extends CookedCommon {
  reserved: number;
  ifindex: number;
}

const ADDRESS_BYTES = 8;
const SLL_HEADER = 16;
const SLL2_HEADER = 20;
const DEFAULT_PROTO = 0x0800;
/** ARPHRD_NETROM (0x200): Scapy's default lladdrtype. */
const DEFAULT_LLADDRTYPE = 512;

/** The link-layer address: always 8 bytes on the wire (lladdrlen says how many count). */
const srcField: FieldSpec = { name: 'src', kind: 'bytes', bits: 8 * ADDRESS_BYTES, default: Buffer.alloc(0) };
const protoField: FieldSpec = { name: 'proto', kind: 'int', bits: 16, default: DEFAULT_PROTO, computed: true, hex: true, names: ETHER_TYPE_NAMES, unnamed: 'hex' };

const sllFields: readonly FieldSpec[] = [
  intField('pkttype', 16, 0, { names: SLL_PACKET_TYPES }),
  intField('lladdrtype', 16, DEFAULT_LLADDRTYPE, { hex: true }),
  intField('lladdrlen', 16, 0),
  srcField,
  protoField,
];

const sll2Fields: readonly FieldSpec[] = [
  protoField,
  intField('reserved', 16, 0),
  intField('ifindex', 32, 0),
  intField('lladdrtype', 16, DEFAULT_LLADDRTYPE, { hex: true }),
  intField('pkttype', 8, 0, { names: SLL_PACKET_TYPES }),
  intField('lladdrlen', 8, 0),
  srcField,
];

/** Where each field starts, for cut-off headers: from the tables' widths. */
const SLL_FIELD_STARTS = fieldStarts(sllFields);
const SLL2_FIELD_STARTS = fieldStarts(sll2Fields);

/** The proto as built on top of the next layer: given, else the binding, else 0x0800. */
function protoValue(layer: Layer<CookedCommon>, ctx: BuildContext, index: number): number {
  if (layer.fields.proto !== undefined) return layer.fields.proto;
  const upper = ctx.layers[index + 1];
  if (!upper || upper.isTrailer) return DEFAULT_PROTO;
  return boundValue(layer.layerClass, upper.layerClass, 'proto') ?? DEFAULT_PROTO;
}

/** The 8 address bytes, zero-padded or cut as Scapy's fixed-length string field does. */
function writeAddress(src: Buffer | string | undefined, out: Buffer, off: number): void {
  out.fill(0, off, off + ADDRESS_BYTES);
  const bytes = toBytes(src);
  bytes.copy(out, off, 0, Math.min(bytes.length, ADDRESS_BYTES));
}

/** Reads the 8 address bytes (copied: the capture buffer is reused). */
function readAddress(buf: Buffer, off: number): Buffer {
  return Buffer.from(buf.subarray(off, off + ADDRESS_BYTES));
}

/** Both versions carry no addresses to match on: any cooked header answers one of its kind. */
abstract class CookedBase<F extends CookedCommon> extends Layer<F> {
  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other.layerClass === this.layerClass;
  }
}

/** Typed field accessors (layer.pkttype...), defined from the field table by registerLayer(). */
export interface CookedLinuxLayer extends FieldValues<CookedLinuxFields> {}

export class CookedLinuxLayer extends CookedBase<CookedLinuxFields> {
  static readonly layerName: string = 'CookedLinux';
  static readonly fieldSpecs = sllFields;

  headerLength(): number {
    return SLL_HEADER;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    out.writeUInt16BE((f.pkttype ?? 0) & 0xffff, off);
    out.writeUInt16BE((f.lladdrtype ?? DEFAULT_LLADDRTYPE) & 0xffff, off + 2);
    out.writeUInt16BE((f.lladdrlen ?? 0) & 0xffff, off + 4);
    writeAddress(f.src, out, off + 6);
    out.writeUInt16BE(protoValue(this, ctx, index) & 0xffff, off + 14);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail >= SLL_HEADER;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, SLL_HEADER);
    const o = whole ? off : 0;
    f.pkttype = b.readUInt16BE(o);
    f.lladdrtype = b.readUInt16BE(o + 2);
    f.lladdrlen = b.readUInt16BE(o + 4);
    f.src = readAddress(b, o + 6);
    f.proto = b.readUInt16BE(o + 14);
    if (!whole) {
      forgetFieldsPast(f, SLL_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|sll]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: off + SLL_HEADER, payloadEnd: end, next: boundLayer(layer.layerClass, 'proto', f.proto) };
  }
}

/** Typed field accessors (layer.ifindex...), defined from the field table by registerLayer(). */
export interface CookedLinuxV2Layer extends FieldValues<CookedLinuxV2Fields> {}

export class CookedLinuxV2Layer extends CookedBase<CookedLinuxV2Fields> {
  static readonly layerName: string = 'CookedLinuxV2';
  static readonly fieldSpecs = sll2Fields;

  headerLength(): number {
    return SLL2_HEADER;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    out.writeUInt16BE(protoValue(this, ctx, index) & 0xffff, off);
    out.writeUInt16BE((f.reserved ?? 0) & 0xffff, off + 2);
    out.writeUInt32BE((f.ifindex ?? 0) >>> 0, off + 4);
    out.writeUInt16BE((f.lladdrtype ?? DEFAULT_LLADDRTYPE) & 0xffff, off + 8);
    out[off + 10] = (f.pkttype ?? 0) & 0xff;
    out[off + 11] = (f.lladdrlen ?? 0) & 0xff;
    writeAddress(f.src, out, off + 12);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail >= SLL2_HEADER;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, SLL2_HEADER);
    const o = whole ? off : 0;
    f.proto = b.readUInt16BE(o);
    f.reserved = b.readUInt16BE(o + 2);
    f.ifindex = b.readUInt32BE(o + 4);
    f.lladdrtype = b.readUInt16BE(o + 8);
    f.pkttype = b[o + 10]!;
    f.lladdrlen = b[o + 11]!;
    f.src = readAddress(b, o + 12);
    if (!whole) {
      forgetFieldsPast(f, SLL2_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|sll2]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: off + SLL2_HEADER, payloadEnd: end, next: boundLayer(layer.layerClass, 'proto', f.proto) };
  }
}

registerLayer(CookedLinuxLayer);
registerLayer(CookedLinuxV2Layer);

