/**
 * Layers that decode themselves on first use (gopacket's lazy decoding, made transparent).
 *
 * dissect() needs only a header's structure to build the stack: where its payload starts and
 * ends, and which class decodes it. A layer class that can say so cheaply implements the
 * optional static `scan()`; dissect() then makes an instance of that class, with its own
 * constructor, that keeps the bytes and decodes them with the class's own decode() the first
 * time its state is read or written (Layer's fields, problems, checksumValid and truncatedTo are
 * accessors that check). It is an ordinary instance of its class before and after, and once
 * decoded it holds exactly what decode() made. Layers without scan() are decoded at once, as
 * before, so every layer written in the existing style works unchanged above or below lazy ones.
 *
 * A class with scan() also promises that its methods reach its decoded state only through those
 * four properties (or run after them), as IPv4, TCP and Ether do.
 *
 * Until it is forced, a field accessor (layer.sport) reads a fixed-position field straight from
 * the bytes, at the offset and width the field table gives: a class implementing scan() promises
 * that its decode() stores those fields as the raw bits of the header.
 */
import { formatIPv4, formatMAC } from '../wire/addr.js';
import { fieldBits, type FieldSpec } from './field.js';
import { stackOf, type DecodeContext, type Layer, type LayerClass } from './layer.js';

/** What scan() reports about a header whose structure is ordinary (anything else: decode it). */
export interface ScanResult {
  /** Offset of the first payload byte. */
  payloadStart: number;
  /** End of this layer's payload; bytes beyond it (up to the buffer end) are Padding. */
  payloadEnd: number;
  /** The class for the payload, or undefined to fall back to Raw. */
  next: LayerClass | undefined;
}

/**
 * The optional fast path of a layer class: fills `out` and returns true when the header at
 * buf[off, end) is whole and its decode() would record no problem and quote nothing; returns
 * false for anything unusual (then the layer is decoded at once). Never throws.
 */
export type ScanFunction = (this: LayerClass, buf: Buffer, off: number, end: number, out: ScanResult) => boolean;

/**
 * How lazyLayer() and force() talk to Layer's constructor: while `active`, it makes no field
 * object; with `adopt`, the next instance of that layer's class is that layer itself, reset, so
 * decode() fills the lazy layer in place instead of a copy.
 */
export const lazyConstruction: { active: boolean; adopt: Layer | undefined } = { active: false, adopt: undefined };

/**
 * A lazy instance of `cls` over buf[off, end), on top of `below`: made by the class's own
 * constructor, so it has the shape every instance of the class has. Its lazy state lives in the
 * layer's own slots (Layer's lazyBuf, lazyOff, lazyEnd), not in an object of its own.
 */
export function lazyLayer(cls: LayerClass, buf: Buffer, off: number, end: number, below: Layer | undefined): Layer {
  lazyConstruction.active = true;
  let layer: Layer;
  try {
    layer = new cls();
  } finally {
    lazyConstruction.active = false;
  }
  layer.lazyBuf = buf;
  layer.lazyOff = off;
  layer.lazyEnd = end;
  layer.below = below;
  return layer;
}

/** Whether this layer still waits to be decoded. */
export function isLazy(layer: Layer): boolean {
  return layer.lazyBuf !== undefined;
}

/**
 * Decodes a lazy layer now with its class's decode() (every lazy layer below it first, since a
 * decoder may ask the layers below, as TCP asks IPv4 for its pseudo-header) and takes over what
 * decode() made. Does nothing to any other layer.
 */
export function force(layer: Layer): void {
  const buf = layer.lazyBuf;
  if (buf === undefined) return;
  const off = layer.lazyOff;
  const end = layer.lazyEnd;
  // Back to a decoded layer's slots first, so that decode() and the layers below see it decoded.
  layer.lazyBuf = undefined;
  layer.lazyOff = 0;
  layer.lazyEnd = 0;
  // The stack it was dissected in, below it, whatever list the layer is in now.
  const below = stackOf(layer.below);
  for (let i = 0; i < below.length; i++) force(below[i]!);
  const cls = layer.layerClass;
  const ctx: DecodeContext = { below, quoted: false, view: true };
  let decoded: Layer;
  lazyConstruction.adopt = layer;
  try {
    decoded = cls.decode(buf, off, end, ctx).layer;
  } catch (err) {
    // scan() saw an ordinary header, so this is a decoder bug: keep the layer, say why.
    lazyConstruction.adopt = layer;
    decoded = new cls();
    (decoded.problems ??= []).push(`${cls.layerName} decode failed: ${(err as Error).message}`);
  } finally {
    lazyConstruction.adopt = undefined;
  }
  // A decode() that returned another instance than the one it made first: take over its state.
  // The packet getLayer() found this layer in stays its owner, and the stack its place (the
  // other instance has neither).
  if (decoded !== layer) {
    const owner = layer.owner;
    const under = layer.below;
    Object.assign(layer, decoded);
    layer.owner = owner;
    layer.below = under;
  }
}

/** How a fixed-position field is read (FixedField.how). */
const U8 = 0;
const U16 = 1;
const U32 = 2;
/** Bits within one byte, or within two (TCP's 9 flag bits, IPv4's flags and fragment offset). */
const IN_ONE = 3;
const IN_TWO = 4;
/** Wider unaligned bits: the general loop. */
const WIDE = 5;
const IPV4 = 6;
const MAC = 7;

/**
 * Where a field at a fixed position of a header lies, and how to read it: data, one shape for
 * every field, read by readFixedField(). (A closure per field would be one call target per
 * field at the call in the accessors, which all fields share: a megamorphic call per read.)
 */
export class FixedField {
  constructor(
    readonly how: number,
    /** First and last byte, from the header's start. */
    readonly first: number,
    readonly last: number,
    /** Bits right of the field in its last byte, and the field's mask. */
    readonly shift: number,
    readonly mask: number,
  ) {}
}

/** What decode() stores for field `f` of the header at buf[off]. */
export function readFixedField(f: FixedField, buf: Buffer, off: number): unknown {
  const at = off + f.first;
  switch (f.how) {
    case U8:
      return buf[at];
    case U16:
      return (buf[at]! << 8) | buf[at + 1]!;
    case U32:
      return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
    case IN_ONE:
      return (buf[at]! >> f.shift) & f.mask;
    case IN_TWO:
      return (((buf[at]! << 8) | buf[at + 1]!) >> f.shift) & f.mask;
    case IPV4:
      return formatIPv4(buf, at);
    case MAC:
      return formatMAC(buf, at);
    default: {
      let v = 0;
      for (let i = at; i <= off + f.last; i++) v = v * 256 + buf[i]!;
      return Math.floor(v / 2 ** f.shift) % (f.mask + 1);
    }
  }
}

/**
 * The fields at fixed positions of a header, from its field table, each read as decode() stores
 * it. Fields past the first one of variable width, conditional fields and kinds other than
 * numbers, flags, IPv4 and MAC addresses have none (reading them decodes the layer).
 */
export function fixedFields(specs: readonly FieldSpec[]): ReadonlyMap<string, FixedField> {
  const fields = new Map<string, FixedField>();
  let bit = 0;
  for (const spec of specs) {
    if (spec.when) break;
    const bits = fieldBits(spec);
    if (bits === undefined) break;
    const start = bit;
    bit += bits;
    if (fields.has(spec.name)) continue;
    if ((spec.kind === 'ipv4' || spec.kind === 'mac') && start % 8 === 0) fields.set(spec.name, new FixedField(spec.kind === 'ipv4' ? IPV4 : MAC, start / 8, 0, 0, 0));
    else if ((spec.kind === 'int' || spec.kind === 'flags') && bits <= 32) fields.set(spec.name, bitField(start, bits));
  }
  return fields;
}

function bitField(start: number, bits: number): FixedField {
  const first = start >> 3;
  const last = (start + bits - 1) >> 3;
  const shift = (last + 1) * 8 - (start + bits);
  const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  let how = WIDE;
  if (shift === 0 && start % 8 === 0 && (bits === 8 || bits === 16 || bits === 32)) how = bits === 8 ? U8 : bits === 16 ? U16 : U32;
  else if (last === first) how = IN_ONE;
  else if (last === first + 1) how = IN_TWO;
  return new FixedField(how, first, last, shift, mask);
}

/** Field `name` of `cls` where it is at a fixed position, or undefined (reading it decodes the layer). */
export function fixedField(cls: LayerClass, name: string): FixedField | undefined {
  return fieldsOf(cls).get(name);
}

const fieldTables = new Map<LayerClass, ReadonlyMap<string, FixedField>>();

function fieldsOf(cls: LayerClass): ReadonlyMap<string, FixedField> {
  let r = fieldTables.get(cls);
  if (r === undefined) fieldTables.set(cls, (r = fixedFields(cls.fieldSpecs)));
  return r;
}
