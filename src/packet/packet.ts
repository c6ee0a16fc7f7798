/**
 * A packet is a stack of layers, outermost first: IP/TCP/Raw. Composition reads top-down
 * (`IP(...).add(TCP(...))`), and building fills in whatever the user left unset: lengths,
 * header lengths, option padding, checksums and the type fields that bind layers together.
 */
import { usageError, didYouMean } from '../wire/errors.js';
import { beginSuffixSum, endSuffixSum, extendSuffixSum } from '../wire/checksum.js';
import { defineFieldAccessors, stackOf, type BuildContext, type FieldInput, type Layer, type LayerClass, type LayerOwner } from '../layers/layer.js';
import { dissectLayers } from './dissect.js';
import { layerNames } from '../layers/registry.js';
import { RawLayer } from '../layers/raw.js';
import { FieldSet } from '../layers/field-set.js';
import { planFor } from './build-plan.js';

/** Something a layer can be looked up by: its factory (TCP), its class, or its name ('TCP'). */
export type LayerKey<L extends Layer = Layer> = LayerFactory<L> | LayerClass<L> | string;

/** What `add` accepts: packets, single layers, or bytes and strings (which become Raw). */
export type Addable = Packet | Layer | Buffer | Uint8Array | string;

/** Hooks filled by show/ (which sits above packet/) so that imports keep pointing down. */
export const packetHooks: {
  summary?: (p: Packet) => string;
  show?: (p: Packet) => string;
  command?: (p: Packet) => string;
  hexdump?: (p: Packet) => string;
  repr?: (p: Packet) => string;
} = {};

/** Node's hook for util.inspect (console.log, the REPL); a registered symbol, so nothing here imports node:util. */
export const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

export class Packet implements LayerOwner {
  // Declared, and assigned once by the constructor (class fields would be defined, then assigned).
  /** The layers outermost first, once made: a dissected packet makes them when first asked. */
  declare private list: Layer[] | undefined;
  /** A dissected packet's innermost layer, each layer linked to the one below it (layer.below). */
  declare private readonly innermost: Layer | undefined;
  /** Capture time in microseconds since the epoch, when the packet came off the wire or a file. */
  declare time: number | undefined;
  /** The same capture time in nanoseconds since the epoch, when the source had that precision (pcap files). */
  declare timeNs?: bigint;
  /** A comment kept with the packet in pcapng files (opt_comment), as Scapy's pkt.comment. */
  declare comment?: string;

  /**
   * A packet of `layers`, or (dissect()) of the stack `innermost` is the top of, whose list is
   * made only when asked for: reading a few fields of a dissected packet makes no list.
   */
  constructor(layers?: Layer[], innermost?: Layer) {
    this.list = layers ?? (innermost === undefined ? [] : undefined);
    this.innermost = innermost;
    this.time = undefined;
    this.timeNs = undefined;
    this.comment = undefined;
  }

  /**
   * A new packet: this one with `others` stacked on top. Layers are shared, not copied
   * (use clone() to diverge).
   */
  add(...others: Addable[]): Packet {
    // The usual call, IP(...).add(TCP(...)): a list of the right size, filled in place (slice
    // and push would grow a one-layer copy to seventeen slots, for every packet built).
    if (others.length === 1 && others[0] instanceof Packet) {
      const mine = this.layers;
      const theirs = others[0].layers;
      const both = new Array<Layer>(mine.length + theirs.length);
      for (let i = 0; i < mine.length; i++) both[i] = mine[i]!;
      for (let i = 0; i < theirs.length; i++) both[mine.length + i] = theirs[i]!;
      return new Packet(both);
    }
    const layers = this.layers.slice();
    for (const other of others) {
      if (other instanceof Packet) for (const layer of other.layers) layers.push(layer);
      else if (typeof other === 'string' || other instanceof Uint8Array) {
        const bytes = typeof other === 'string' ? Buffer.from(other, 'latin1') : Buffer.from(other);
        layers.push(new RawLayer({ load: bytes }));
      } else layers.push(other);
    }
    return new Packet(layers);
  }

  /** The layers, outermost first. */
  get layers(): Layer[] {
    return (this.list ??= stackOf(this.innermost));
  }

  /** The first layer of the given kind (or of a subclass of it), or undefined. */
  getLayer<L extends Layer>(key: LayerKey<L>, nth = 0): L | undefined {
    let found: Layer | undefined;
    if (this.list === undefined && nth === 0) {
      // A dissected packet without its list yet: down from the innermost, the last match is the first.
      for (let layer = this.innermost; layer !== undefined; layer = layer.below) if (matchesKey(layer, key)) found = layer;
    } else {
      let seen = 0;
      for (const layer of this.layers) {
        if (matchesKey(layer, key) && seen++ === nth) {
          found = layer;
          break;
        }
      }
    }
    // Its computed fields (chksum, len, proto) read their values from this packet, built.
    if (found !== undefined && found.owner !== this) found.owner = this;
    return found as L | undefined;
  }

  /** The value a field of one of this packet's layers has in the built bytes (for computed fields). */
  builtValue(layer: Layer, name: string): unknown {
    const index = this.layers.indexOf(layer);
    const first = this.layers[0];
    if (index < 0 || !first || this.layers.some((l) => l.hasSets)) return undefined;
    const bytes = this.bytes();
    const again = dissectLayers(bytes, 0, bytes.length, first.layerClass, false);
    const same = again[index];
    if (!same || same.layerClass !== layer.layerClass) return undefined;
    return (same.fields as Record<string, unknown>)[name];
  }

  /** Like getLayer, but a missing layer is an error naming what the packet does have. */
  layer<L extends Layer>(key: LayerKey<L>): L {
    const found = this.getLayer(key);
    if (!found) throw usageError(`packet has no ${keyName(key)} layer; it has ${this.layers.map((l) => l.name).join('/') || 'no layers'}`);
    return found;
  }

  hasLayer(key: LayerKey): boolean {
    return this.getLayer(key) !== undefined;
  }

  /** A deep copy whose fields can be changed without touching this packet. */
  clone(): Packet {
    const copy = new Packet(this.layers.map((l) => l.clone()));
    copy.time = this.time;
    if (this.timeNs !== undefined) copy.timeNs = this.timeNs;
    if (this.comment !== undefined) copy.comment = this.comment;
    return copy;
  }

  /** The wire bytes, with every unset length, checksum and binding computed. */
  bytes(): Buffer {
    return buildPacket(this.layers);
  }

  get length(): number {
    return this.bytes().length;
  }

  /** One line, as `tcpdump -nn` prints it. */
  summary(): string {
    return hook('summary')(this);
  }

  /** Every field of every layer, computed values included (Scapy's show2). */
  show(): string {
    return hook('show')(this);
  }

  /** The packet in the text form, which packet() parses back. */
  command(): string {
    return hook('command')(this);
  }

  hexdump(): string {
    return hook('hexdump')(this);
  }

  toString(): string {
    return packetHooks.summary ? this.summary() : this.layers.map((l) => l.name).join('/');
  }

  /** Scapy's short repr, `<IP  dst=127.0.0.1 |<TCP  dport=http flags=S |>>`, wherever Node inspects a packet. */
  [inspectSymbol](): string {
    return packetHooks.repr ? packetHooks.repr(this) : `<${this.layers.map((l) => l.name).join('/')}>`;
  }
}

function hook<K extends keyof typeof packetHooks>(name: K): NonNullable<(typeof packetHooks)[K]> {
  const fn = packetHooks[name];
  if (!fn) throw new Error(`${name}() needs the display module: import from 'synack', not from its internals`);
  return fn as NonNullable<(typeof packetHooks)[K]>;
}

function matchesKey(layer: Layer, key: LayerKey): boolean {
  if (typeof key === 'string') {
    if (layer.name === key) return true;
    // Subclass names match their parent's (IPerror is an IP): walk the class chain.
    let cls = Object.getPrototypeOf(layer.layerClass) as LayerClass | null;
    while (cls && cls.layerName) {
      if (cls.layerName === key) return true;
      cls = Object.getPrototypeOf(cls) as LayerClass | null;
    }
    return false;
  }
  // A factory (TCP) says so with its own isFactory; a class (TCPLayer) has none.
  const cls = (key as Partial<LayerFactory>).isFactory === true ? (key as LayerFactory).layerClass : (key as LayerClass);
  return layer instanceof cls;
}

function keyName(key: LayerKey): string {
  if (typeof key === 'string') {
    return layerNames().includes(key) ? key : `${key}${didYouMean(key, layerNames())}`;
  }
  return (key as LayerClass).layerName;
}

/**
 * The wire bytes of a stack of layers: through the build plan of its layer sequence
 * (build-plan.ts) when the plan covers it, else the generic path; both give the same bytes.
 */
export function buildPacket(layers: readonly Layer[]): Buffer {
  return planFor(layers)?.build(layers) ?? buildGeneric(layers);
}

/**
 * Builds bytes in three passes: header sizes (inner to outer, so each knows its payload size),
 * headers (outer to inner), then checksums (inner to outer, so an ICMP error's checksum covers
 * the final bytes of the header it quotes). Every stack, trailers and cut headers included.
 */
export function buildGeneric(layers: readonly Layer[]): Buffer {
  const n = layers.length;
  const offsets: number[] = new Array<number>(n);
  const sizes: number[] = new Array<number>(n);
  const ctx: BuildContext = { layers, offsets };
  let counted = 0;
  let trailer = 0;
  let unusual = false;
  for (let i = 0; i < n; i++) {
    const layer = layers[i]!;
    if (layer.hasSets) throw unexpandedSetError(layer);
    const full = layer.headerLength(ctx, i);
    const cut = layer.truncatedTo;
    const size = cut !== undefined && cut < full ? cut : full;
    sizes[i] = size;
    // Offsets as if every layer were counted; fixed below when a trailer or a cut header is present.
    offsets[i] = counted + trailer;
    if (layer.isTrailer) {
      trailer += size;
      unusual = true;
    } else counted += size;
    if (cut !== undefined) unusual = true;
  }
  const out = Buffer.allocUnsafe(counted + trailer);
  if (!unusual) {
    // The common case: headers one after another, each followed by all the rest.
    for (let i = 0; i < n; i++) layers[i]!.encode(out, offsets[i]!, counted - offsets[i]! - sizes[i]!, ctx, i);
    // Inner to outer, each layer's bytes are final once its checksum is in: the sum of
    // everything after a layer is kept, so checksums over "the rest" cost one header each.
    beginSuffixSum(out, counted);
    try {
      for (let i = n - 1; i >= 0; i--) {
        const layer = layers[i]!;
        if (layer.fixChecksum) layer.fixChecksum(out, offsets[i]!, counted, ctx, i);
        extendSuffixSum(offsets[i]!);
      }
    } finally {
      endSuffixSum();
    }
    return out;
  }
  // Counted layers first, in order; trailers (Padding) go after all of them.
  let off = 0;
  for (let i = 0; i < n; i++) {
    if (layers[i]!.isTrailer) continue;
    offsets[i] = off;
    off += sizes[i]!;
  }
  for (let i = 0; i < n; i++) {
    if (!layers[i]!.isTrailer) continue;
    offsets[i] = off;
    off += sizes[i]!;
  }
  for (let i = 0; i < n; i++) {
    const layer = layers[i]!;
    const payloadLength = layer.isTrailer ? 0 : counted - offsets[i]! - sizes[i]!;
    if (layer.truncatedTo !== undefined && layer.truncatedTo === sizes[i]) {
      // A header cut off on the wire: build it whole aside, keep the bytes that were there.
      const whole = Buffer.alloc(layer.headerLength(ctx, i));
      layer.encode(whole, 0, payloadLength, ctx, i);
      whole.copy(out, offsets[i]!, 0, sizes[i]!);
    } else layer.encode(out, offsets[i]!, payloadLength, ctx, i);
  }
  for (let i = n - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer.fixChecksum && !layer.isTrailer && layer.truncatedTo === undefined) {
      layer.fixChecksum(out, offsets[i]!, counted, ctx, i);
    }
  }
  return out;
}

/** Why a layer holding a set of values (dport=[22, 80]) cannot become one packet's bytes. Cold path. */
function unexpandedSetError(layer: Layer): Error {
  const names = Object.keys(layer.fields).filter((k) => (layer.fields as Record<string, unknown>)[k] instanceof FieldSet);
  return usageError(
    `${layer.name} ${names.join(', ')} holds a set of values, so the packet stands for many packets: ` +
      `expand it with expand(p) or packets(p), or give it to send/sr, which expand sets`,
  );
}

/** A layer's constructor that needs no `new` and returns a one-layer Packet: IP({dst}). */
export interface LayerFactory<L extends Layer = Layer, F extends object = Record<string, unknown>> {
  /** One layer; number and address fields also take sets (`dport: [22, 80, [1000, 1010]]`). */
  (fields?: FieldInput<F>): Packet;
  readonly layerClass: LayerClass<L>;
  readonly layerName: string;
  readonly isFactory: true;
}

export function layerFactory<L extends Layer<F>, F extends object>(
  cls: LayerClass<L> & (new (fields?: Partial<F>) => L),
): LayerFactory<L, F> {
  defineFieldAccessors(cls);
  const factory = ((fields?: FieldInput<F>) => new Packet([new cls(fields as Partial<F>)])) as LayerFactory<L, F>;
  Object.defineProperties(factory, {
    layerClass: { value: cls },
    layerName: { value: cls.layerName },
    isFactory: { value: true },
    name: { value: cls.layerName },
  });
  return factory;
}
