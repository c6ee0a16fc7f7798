/**
 * IPv6 extension headers (RFC 8200 §4) with Scapy's class and field names: hop-by-hop options,
 * routing, fragment and destination options. Each one's nh is computed from the layer above it
 * through IPv6's own bindings (Scapy lets extension headers stand in for IPv6 there), 59 when
 * nothing follows. Options of the two options headers live in ipv6-ext-options.ts.
 *
 * Every class carries `isExtensionHeader`: upper-layer checksums look through these headers
 * to the IPv6 header below, and a routing header with segments left (or a home address)
 * changes the pseudo-header they sum.
 */
import type { FieldSpec } from './field.js';
import { computedInt, intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type LayerClass, type FieldValues } from './layer.js';
import { bind, boundLayer, boundValue, registerLayer } from './registry.js';
import { zeroFilledHeader } from './partial.js';
import { RawLayer } from './raw.js';
import { IPerror6Layer, IPv6Layer, ipv6Bytes, ipv6Text } from './ipv6.js';
import {
  alreadyPadded,
  ipv6ExtOptionList,
  placeIPv6ExtOptions,
  readIPv6ExtOptions,
  type IPv6ExtOption,
} from './ipv6-ext-options.js';

/** The shared behaviour of the four headers: next-header binding, pseudo-header hints, matching. */
export abstract class IPv6ExtHeader<F extends { nh: number }> extends Layer<F> {
  get isExtensionHeader(): true {
    return true;
  }

  /** The next-header value as built on top of `upper`: given, else IPv6's binding for it, else 59. */
  nextHeader(upper: Layer | undefined): number {
    const given = (this.fields as Partial<{ nh: number }>).nh;
    if (given !== undefined) return given;
    if (upper === undefined) return 59;
    return boundValue(IPv6Layer, upper.layerClass, 'nh') ?? boundValue(IPerror6Layer, upper.layerClass, 'nh') ?? 59;
  }

  /** The final destination for the upper-layer pseudo-header, when this header changes it. */
  finalDestination(): string | undefined {
    return undefined;
  }

  /** The home address that replaces the source in the pseudo-header, when this header has one. */
  homeAddress(): string | undefined {
    return undefined;
  }

  /** Extension headers add nothing to the request/reply hash (Scapy's default). */
  hashret(): string {
    return '';
  }

  /** A header answers one of its own kind; the caller compares what follows. */
  answers(other: Layer): boolean {
    return other.layerClass === this.layerClass;
  }

  protected writeNextHeader(out: Buffer, off: number, ctx: BuildContext, index: number): void {
    out[off] = this.nextHeader(ctx.layers[index + 1]) & 0xff;
  }
}

/** The class for what follows an extension header: IPv6's bindings, or IPerror6's inside an ICMPv6 error's quote. */
function nextClass(nh: number, ctx: DecodeContext): LayerClass | undefined {
  return boundLayer(ctx.quoted ? IPerror6Layer : IPv6Layer, 'nh', nh);
}

/** The IPv6 header below the extension headers just decoded, for checksum hints. */
function ipv6Below(ctx: DecodeContext): IPv6Layer | undefined {
  for (let i = ctx.below.length - 1; i >= 0; i--) {
    const layer = ctx.below[i]!;
    if (layer instanceof IPv6Layer) return layer;
    if (!('isExtensionHeader' in layer)) return undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Hop-by-hop options (nh 0) and destination options (nh 60): the same shape.

export interface IPv6OptionsHeaderFields {
  nh: number;
  len: number;
  /** 1 (default): pad each option to its alignment and the header to 8 bytes, as Scapy does. */
  autopad: number | boolean;
  options: IPv6ExtOption[];
}

const optionsHeaderFields: readonly FieldSpec[] = [
  computedInt('nh', 8, { default: 59 }),
  computedInt('len', 8),
  intField('autopad', 1, 1),
  { name: 'options', kind: 'options', default: [] },
];

class IPv6OptionsHeader extends IPv6ExtHeader<IPv6OptionsHeaderFields> {
  /** tcpdump's mark for a header cut off. */
  protected static readonly truncationMark: string = '[|opt]';

  protected override normalize(fields: Partial<IPv6OptionsHeaderFields>): Partial<IPv6OptionsHeaderFields> {
    super.normalize(fields);
    if (typeof fields.autopad === 'boolean') fields.autopad = fields.autopad ? 1 : 0;
    if (fields.options !== undefined) fields.options = ipv6ExtOptionList(fields.options);
    return fields;
  }

  private get autopadOn(): boolean {
    return (this.fields.autopad ?? 1) !== 0;
  }

  private optionBytes(): number {
    return placeIPv6ExtOptions(this.fields.options ?? [], this.autopadOn);
  }

  headerLength(): number {
    return 2 + this.optionBytes();
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const optionBytes = placeIPv6ExtOptions(this.fields.options ?? [], this.autopadOn, out, off + 2);
    this.writeNextHeader(out, off, ctx, index);
    // In 8-byte units past the first 8, rounded up (Scapy's adjust).
    out[off + 1] = (this.fields.len ?? Math.floor((optionBytes + 2 + 7) / 8) - 1) & 0xff;
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const mark = (this as unknown as { truncationMark: string }).truncationMark;
    if (avail < 2) {
      if (avail >= 1) f.nh = buf[off]!;
      f.autopad = 0;
      f.options = [];
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem(mark);
      return { layer, payloadStart: end, payloadEnd: end };
    }
    f.nh = buf[off]!;
    f.len = buf[off + 1]!;
    let headerEnd = off + 8 * (f.len + 1);
    const cut = headerEnd > end;
    if (cut) headerEnd = end;
    const problems: string[] = [];
    f.options = readIPv6ExtOptions(buf, off + 2, headerEnd, problems);
    // In a header cut short the last option overruns by consequence: the cut is the defect.
    if (!cut) for (const p of problems) layer.addProblem(p);
    f.autopad = !cut && alreadyPadded(f.options) ? 1 : 0;
    layer.noteHomeAddress(buf, off + 2, headerEnd, ctx);
    if (cut) {
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem(mark);
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: headerEnd, payloadEnd: end, next: nextClass(f.nh, ctx) };
  }

  /** Destination options may carry a home address for the checksum; hop-by-hop options do not. */
  protected noteHomeAddress(_buf: Buffer, _start: number, _end: number, _ctx: DecodeContext): void {}
}

/** Typed field accessors (layer.nh...), defined from the field table by registerLayer(). */
export interface IPv6ExtHdrHopByHopLayer extends FieldValues<IPv6OptionsHeaderFields> {}

export class IPv6ExtHdrHopByHopLayer extends IPv6OptionsHeader {
  static readonly layerName: string = 'IPv6ExtHdrHopByHop';
  static readonly fieldSpecs = optionsHeaderFields;
  protected static override readonly truncationMark: string = '[|hbhopt]';
}

/** Typed field accessors (layer.nh...), defined from the field table by registerLayer(). */
export interface IPv6ExtHdrDestOptLayer extends FieldValues<IPv6OptionsHeaderFields> {}

export class IPv6ExtHdrDestOptLayer extends IPv6OptionsHeader {
  static readonly layerName: string = 'IPv6ExtHdrDestOpt';
  static readonly fieldSpecs = optionsHeaderFields;
  protected static override readonly truncationMark: string = '[|dstopt]';

  /** Scapy's rule when building: a header whose only option is a Home Address. */
  override homeAddress(): string | undefined {
    const options = this.fields.options ?? [];
    const only = options[0];
    return options.length === 1 && only!.name === 'HAO' ? (only.hoa ?? '::') : undefined;
  }

  protected override noteHomeAddress(buf: Buffer, start: number, end: number, ctx: DecodeContext): void {
    // On receipt any Home Address option counts (padding around it is normal on the wire).
    let p = start;
    while (p + 1 < end) {
      const otype = buf[p]!;
      if (otype === 0) {
        p += 1;
        continue;
      }
      const optlen = buf[p + 1]!;
      if (otype === 0xc9 && optlen === 16 && p + 18 <= end) {
        ipv6Below(ctx)?.useDecodedHomeAddress(buf, p + 2);
        return;
      }
      p += 2 + optlen;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Routing header (nh 43).

export interface IPv6ExtHdrRoutingFields {
  nh: number;
  len: number;
  type: number;
  segleft: number;
  reserved: number;
  addresses: string[];
}

const routingFields: readonly FieldSpec[] = [
  computedInt('nh', 8, { default: 59 }),
  computedInt('len', 8),
  intField('type', 8, 0),
  computedInt('segleft', 8),
  intField('reserved', 32, 0),
  { name: 'addresses', kind: 'list', default: [] },
];

/** Typed field accessors (layer.nh...), defined from the field table by registerLayer(). */
export interface IPv6ExtHdrRoutingLayer extends FieldValues<IPv6ExtHdrRoutingFields> {}

export class IPv6ExtHdrRoutingLayer extends IPv6ExtHeader<IPv6ExtHdrRoutingFields> {
  static readonly layerName: string = 'IPv6ExtHdrRouting';
  static readonly fieldSpecs = routingFields;

  /**
   * Bytes after the last whole address, when the header's length is an odd number of 8-byte
   * units (other routing types): kept from dissection so the header rebuilds as it was.
   */
  trailing: Buffer | undefined;

  protected override normalize(fields: Partial<IPv6ExtHdrRoutingFields>): Partial<IPv6ExtHdrRoutingFields> {
    super.normalize(fields);
    if (fields.addresses !== undefined) for (const a of fields.addresses) ipv6Bytes(a);
    return fields;
  }

  override clone(): this {
    const copy = super.clone();
    copy.trailing = this.trailing;
    return copy;
  }

  private get addressList(): readonly string[] {
    return this.fields.addresses ?? [];
  }

  /** Scapy's in6_pseudoheader: the last address, unless segleft is given as 0 or there are none. */
  override finalDestination(): string | undefined {
    const addresses = this.addressList;
    if (addresses.length === 0 || this.fields.segleft === 0) return undefined;
    return addresses[addresses.length - 1];
  }

  headerLength(): number {
    return 8 + 16 * this.addressList.length + (this.trailing?.length ?? 0);
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    const addresses = this.addressList;
    this.writeNextHeader(out, off, ctx, index);
    out[off + 1] = (f.len ?? 2 * addresses.length) & 0xff;
    out[off + 2] = (f.type ?? 0) & 0xff;
    out[off + 3] = (f.segleft ?? addresses.length) & 0xff;
    out.writeUInt32BE((f.reserved ?? 0) >>> 0, off + 4);
    let p = off + 8;
    for (const a of addresses) {
      ipv6Bytes(a).copy(out, p);
      p += 16;
    }
    this.trailing?.copy(out, p);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const fixed = avail < 8 ? zeroFilledHeader(buf, off, end, 8) : buf;
    const base = avail < 8 ? 0 : off;
    if (avail >= 1) f.nh = fixed[base]!;
    if (avail >= 2) f.len = fixed[base + 1]!;
    if (avail >= 3) f.type = fixed[base + 2]!;
    if (avail >= 4) f.segleft = fixed[base + 3]!;
    if (avail >= 5) f.reserved = fixed.readUInt32BE(base + 4);
    f.addresses = [];
    if (avail < 8) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|srcrt]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    const declaredEnd = off + 8 + 8 * f.len!;
    const headerEnd = Math.min(declaredEnd, end);
    let p = off + 8;
    for (; p + 16 <= headerEnd; p += 16) f.addresses.push(ipv6Text(buf, p));
    if (p < headerEnd) layer.trailing = Buffer.from(buf.subarray(p, headerEnd));
    if (f.segleft !== 0 && f.addresses.length > 0) ipv6Below(ctx)?.useDecodedFinalDestination(buf, p - 16);
    if (declaredEnd > end) {
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|srcrt]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: headerEnd, payloadEnd: end, next: nextClass(f.nh!, ctx) };
  }
}

// ---------------------------------------------------------------------------------------------
// Fragment header (nh 44).

export interface IPv6ExtHdrFragmentFields {
  nh: number;
  res1: number;
  /** In 8-byte units. */
  offset: number;
  res2: number;
  /** More fragments. */
  m: number;
  id: number;
}

const fragmentFields: readonly FieldSpec[] = [
  computedInt('nh', 8, { default: 59 }),
  intField('res1', 8, 0),
  intField('offset', 13, 0),
  intField('res2', 2, 0),
  intField('m', 1, 0),
  intField('id', 32, 0),
];

/** Typed field accessors (layer.nh...), defined from the field table by registerLayer(). */
export interface IPv6ExtHdrFragmentLayer extends FieldValues<IPv6ExtHdrFragmentFields> {}

export class IPv6ExtHdrFragmentLayer extends IPv6ExtHeader<IPv6ExtHdrFragmentFields> {
  static readonly layerName: string = 'IPv6ExtHdrFragment';
  static readonly fieldSpecs = fragmentFields;

  headerLength(): number {
    return 8;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    this.writeNextHeader(out, off, ctx, index);
    out[off + 1] = (f.res1 ?? 0) & 0xff;
    out.writeUInt16BE((((f.offset ?? 0) & 0x1fff) << 3) | (((f.res2 ?? 0) & 3) << 1) | ((f.m ?? 0) & 1), off + 2);
    out.writeUInt32BE((f.id ?? 0) >>> 0, off + 4);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const fixed = avail < 8 ? zeroFilledHeader(buf, off, end, 8) : buf;
    const base = avail < 8 ? 0 : off;
    if (avail >= 1) f.nh = fixed[base]!;
    if (avail >= 2) f.res1 = fixed[base + 1]!;
    if (avail >= 3) {
      const word = fixed.readUInt16BE(base + 2);
      f.offset = word >> 3;
      f.res2 = (word >> 1) & 3;
      f.m = word & 1;
    }
    if (avail >= 5) f.id = fixed.readUInt32BE(base + 4);
    if (avail < 8) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|frag]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    // Only the first fragment starts with the next header; later ones are bytes (as in Scapy).
    const next = f.offset! > 0 ? RawLayer : nextClass(f.nh!, ctx);
    return { layer, payloadStart: off + 8, payloadEnd: end, next };
  }
}

registerLayer(IPv6ExtHdrHopByHopLayer);
registerLayer(IPv6ExtHdrRoutingLayer);
registerLayer(IPv6ExtHdrFragmentLayer);
registerLayer(IPv6ExtHdrDestOptLayer);

// Extension headers follow IPv6 and each other (they decode what follows through IPv6's bindings).
bind(IPv6Layer, IPv6ExtHdrHopByHopLayer, 'nh', 0);
bind(IPv6Layer, IPv6ExtHdrRoutingLayer, 'nh', 43);
bind(IPv6Layer, IPv6ExtHdrFragmentLayer, 'nh', 44);
bind(IPv6Layer, IPv6ExtHdrDestOptLayer, 'nh', 60);
