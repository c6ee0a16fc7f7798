/**
 * The base of every protocol layer. A layer holds the fields the user set (or the dissector
 * read); anything unset is a default or is computed when the packet is built.
 *
 * Each layer file follows one order (gopacket's): field table, class with encode (header
 * length, header bytes, checksum fix-up), decode (static), and its bindings to the layers
 * around it.
 */
import { usageError, didYouMean } from '../wire/errors.js';
import { checkFieldNumber, type FieldSpec } from './field.js';
import { isSetValue, toFieldSet, FieldSet } from './field-set.js';
import { fixedField, force, lazyConstruction, readFixedField, type FixedField, type ScanFunction } from './lazy.js';

/** What a layer's encoder may ask about the stack it is built in. */
export interface BuildContext {
  /** The layers of the packet being built, outermost first. */
  readonly layers: readonly Layer[];
  /** Byte offset of each layer's header in the output. */
  readonly offsets: readonly number[];
}

/** What decode returns: the layer, where its payload lies, and which class decodes it. */
export interface Decoded {
  layer: Layer;
  /** Offset of the first payload byte. */
  payloadStart: number;
  /** End of this layer's payload; bytes beyond it (up to the buffer end) are Padding. */
  payloadEnd: number;
  /** The class for the payload, or undefined to fall back to the registry, then Raw. */
  next?: LayerClass | undefined;
  /** Set by ICMP and ICMPv6 errors: every layer after this one is a quoted packet (ctx.quoted). */
  quotes?: boolean;
}

export interface DecodeContext {
  /** Layers decoded so far, outermost first. */
  readonly below: readonly Layer[];
  /** Inside an ICMP error: quoted headers are partial by nature, and decode leniently. */
  readonly quoted: boolean;
  /**
   * The packet keeps a view of the dissected bytes anyway (lazy dissection, layers/lazy.ts): a
   * decoder may keep a subarray of them where it would otherwise copy.
   */
  readonly view?: boolean;
}

/**
 * What a layer asks of the packet it was taken from (Packet implements it): the value a computed
 * field has once the packet is built, for `p.getLayer(TCP)!.chksum`.
 */
export interface LayerOwner {
  builtValue(layer: Layer, name: string): unknown;
}

export interface LayerClass<L extends Layer = Layer> {
  new (fields?: Record<string, unknown>): L;
  readonly layerName: string;
  /** The name show() prints when it differs from layerName (Scapy's `name`: 'Ethernet'). */
  readonly displayName?: string;
  readonly fieldSpecs: readonly FieldSpec[];
  /** Reads one header at buf[off, end). Never throws: defects go to layer.problems. */
  decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded;
  /**
   * Optional fast path for dissect(): the header's structure only, so that the layer can be
   * decoded when first used (layers/lazy.ts). A class that has it promises that decode() stores
   * its fixed-position fields as the header's raw bits.
   */
  scan?: ScanFunction;
  /**
   * Set when decode() asks the layers below only what class each is (DNS: over TCP or not),
   * never their state: dissect() then leaves lazy layers below as they are.
   */
  readonly decodeAsksBelowClassOnly?: boolean;
}

/** Filled by show/ (which sits above layers/): the short repr util.inspect shows for a layer. */
export const layerHooks: { repr?: (layer: Layer) => string } = {};

export abstract class Layer<F extends object = Record<string, unknown>> {
  /**
   * A layer dissect() made lazily (layers/lazy.ts): the bytes it decodes on first use, or
   * undefined once decoded and for every layer made any other way. Its header is
   * lazyBuf[lazyOff, lazyEnd). Slots of the layer itself rather than an object of their own.
   */
  // Declared, not initialized here: the constructor assigns each once (a class field would be
  // defined as undefined first, then assigned again, for every layer built or dissected).
  declare lazyBuf: Buffer | undefined;
  declare lazyOff: number;
  declare lazyEnd: number;
  /**
   * The layer under this one in the stack dissect() found it in (undefined for the outermost,
   * and for a layer made any other way): a dissected packet lists its layers from its innermost
   * one when first asked, and a lazy layer is decoded over the layers it reaches.
   */
  declare below: Layer | undefined;
  declare private stateFields: Partial<F> | undefined;
  declare private stateProblems: string[] | undefined;
  declare private stateChecksumValid: boolean | undefined;
  declare private stateTruncatedTo: number | undefined;
  /**
   * Whether some field holds a set of values (a list, range or CIDR block): the layer stands for
   * many packets and must be expanded (packet/sets.ts) before it is built. A flag, so building
   * a packet without sets checks one boolean per layer and never walks the fields.
   */
  declare hasSets: boolean;
  /** Sets normalize() took aside, so that subclass conversions (flag letters) see only scalars. */
  declare private setsAside: Record<string, FieldSet> | undefined;
  /**
   * The packet getLayer() last found this layer in: computed fields read their built value from
   * it. Made undefined by the constructor, so that getLayer() setting it changes no object's shape.
   */
  declare owner: LayerOwner | undefined;

  constructor(fields?: Partial<F>) {
    // A lazy layer being decoded (layers/lazy.ts): its class's decode() fills it in place.
    const adopted = lazyConstruction.adopt;
    if (adopted !== undefined && new.target === adopted.layerClass) {
      lazyConstruction.adopt = undefined;
      return adopted.reset() as this;
    }
    this.lazyBuf = undefined;
    this.lazyOff = 0;
    this.lazyEnd = 0;
    this.below = undefined;
    this.stateProblems = undefined;
    this.stateChecksumValid = undefined;
    this.stateTruncatedTo = undefined;
    this.hasSets = false;
    this.setsAside = undefined;
    this.owner = undefined;
    // A lazy layer's fields come from its bytes when first used: no object for them yet.
    this.stateFields = lazyConstruction.active ? undefined : fields ? this.restoreSets(this.normalize({ ...fields })) : ({} as Partial<F>);
  }

  /** Back to what the constructor makes with no fields, for decode() to fill (layers/lazy.ts). */
  private reset(): this {
    this.stateFields = {} as Partial<F>;
    this.stateProblems = undefined;
    this.stateChecksumValid = undefined;
    this.stateTruncatedTo = undefined;
    this.hasSets = false;
    this.setsAside = undefined;
    return this;
  }

  // The decoded state: a lazy layer decodes itself the first time any of it is read or written.

  /** Fields set by the user or read by the dissector. Unset fields are defaulted or computed. */
  get fields(): Partial<F> {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    return this.stateFields!;
  }

  set fields(value: Partial<F>) {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    this.stateFields = value;
  }

  /** Defects the dissector found in this header, in tcpdump's words where tcpdump has some. */
  get problems(): string[] | undefined {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    return this.stateProblems;
  }

  set problems(value: string[] | undefined) {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    this.stateProblems = value;
  }

  /** After dissection: whether the checksum this layer carries is right (undefined: none, or not checkable). */
  get checksumValid(): boolean | undefined {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    return this.stateChecksumValid;
  }

  set checksumValid(value: boolean | undefined) {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    this.stateChecksumValid = value;
  }

  /**
   * Set by the dissector when the bytes ended inside this header: only this many header bytes
   * are built, so a cut-off packet (an ICMP error's quote) rebuilds to the bytes it came from.
   */
  get truncatedTo(): number | undefined {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    return this.stateTruncatedTo;
  }

  set truncatedTo(value: number | undefined) {
    if (this.lazyBuf !== undefined) force(this as unknown as Layer);
    this.stateTruncatedTo = value;
  }

  get layerClass(): LayerClass {
    return this.constructor as unknown as LayerClass;
  }

  get name(): string {
    return this.layerClass.layerName;
  }

  /**
   * Checks field names and converts friendly inputs (flag strings, names) to stored values.
   * Subclasses extend it; unknown names are a usage error that suggests the nearest field.
   */
  protected normalize(fields: Partial<F>): Partial<F> {
    const specs = this.layerClass.fieldSpecs;
    const byName = fieldsByName(specs);
    const values = fields as Record<string, unknown>;
    for (const key in fields) {
      const spec = byName.get(key);
      if (spec === undefined) {
        throw usageError(
          `unknown field '${key}' for ${this.name}${didYouMean(key, specs.map((s) => s.name))}; fields are: ${specs.map((s) => s.name).join(', ')}`,
        );
      }
      const value = values[key];
      if (value === undefined) delete values[key];
      else if (typeof value === 'number') checkFieldNumber(spec, value, this.name);
      else if (isSetValue(spec, value)) {
        (this.setsAside ??= {})[key] = toFieldSet(spec, value, this.name);
        delete values[key];
      }
    }
    return fields;
  }

  /** Puts the sets normalize() took aside back into the fields, and notes whether there are any. */
  private restoreSets(fields: Partial<F>): Partial<F> {
    const aside = this.setsAside;
    this.hasSets = aside !== undefined;
    if (aside !== undefined) {
      this.setsAside = undefined;
      Object.assign(fields, aside);
    }
    return fields;
  }

  /** The value a field has in the built packet when it is not computed: given, else default. */
  get<K extends keyof F & string>(name: K): F[K] {
    const v = this.fields[name];
    if (v !== undefined) return v as F[K];
    return this.layerClass.fieldSpecs.find((s) => s.name === name)?.default as F[K];
  }

  /** Sets a field (undefined unsets it, so it is computed again); returns the layer for chaining. */
  set<K extends keyof F & string>(name: K, value: F[K] | undefined): this {
    this.setsAside = undefined;
    this.fields = this.restoreSets(this.normalize({ ...this.fields, [name]: value }));
    return this;
  }

  /** Whether the user (or dissector) gave this field. */
  has(name: keyof F & string): boolean {
    return this.fields[name] !== undefined;
  }

  /** A copy of this layer with its own field object (lists inside are copied one level). */
  clone(): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    copy.lazyBuf = undefined;
    copy.lazyOff = 0;
    copy.lazyEnd = 0;
    copy.below = undefined;
    copy.fields = {} as Partial<F>;
    for (const [k, v] of Object.entries(this.fields)) {
      (copy.fields as Record<string, unknown>)[k] = Array.isArray(v) ? v.slice() : v;
    }
    copy.problems = this.problems?.slice();
    copy.checksumValid = this.checksumValid;
    copy.truncatedTo = this.truncatedTo;
    copy.hasSets = this.hasSets;
    copy.setsAside = undefined;
    return copy;
  }

  /**
   * The direction-free part of the key that pairs a reply with what it answers (Scapy's
   * hashret). Scapy's default: this layer adds nothing, the layers above decide.
   */
  hashret(_above: readonly Layer[] = []): string {
    return '';
  }

  /**
   * Whether this layer (of a reply) answers `other` (the layer at the same depth of a sent
   * packet). `selfAbove` and `otherAbove` are the layers above each, for the layers whose
   * answer depends on their payload. Scapy's default: the same class answers, then the
   * payloads decide (sr/match.ts walks them); a layer with rules of its own overrides this.
   */
  answers(other: Layer, _selfAbove: readonly Layer[] = [], _otherAbove: readonly Layer[] = []): boolean {
    type AnyClass = abstract new (...args: never[]) => unknown;
    const mine = this.layerClass as unknown as AnyClass;
    const theirs = other.layerClass as unknown as AnyClass;
    return other instanceof mine || this instanceof theirs;
  }

  /** Whether this is a network header (IPv4, IPv6): where matching starts and keys are made. */
  get isNetworkLayer(): boolean {
    return false;
  }

  /**
   * Whether this is an error message (ICMP unreachable, time exceeded...) whose payload quotes
   * the packet it reports on: a reply then answers by its quote.
   */
  get isErrorMessage(): boolean {
    return false;
  }

  /** Whether this layer is payload (Raw, Padding): matching stops below it. */
  get isPayload(): boolean {
    return this.isTrailer;
  }

  /** Size of this layer's own header (with options and padding) in the built bytes. */
  abstract headerLength(ctx: BuildContext, index: number): number;

  /**
   * Writes this layer's header at out[off]; `payloadLength` counts every byte after the header
   * except trailing Padding. Checksums that cover the payload are left for fixChecksum.
   */
  abstract encode(out: Buffer, off: number, payloadLength: number, ctx: BuildContext, index: number): void;

  /** Fills a checksum that covers the payload, after every inner layer is final. */
  fixChecksum?(out: Buffer, off: number, end: number, ctx: BuildContext, index: number): void;

  /** Whether this layer's bytes go at the very end, outside every length and checksum (Padding). */
  get isTrailer(): boolean {
    return false;
  }

  /** Scapy's short repr, `<TCP  dport=http flags=S |>`, wherever Node inspects a layer (console.log, the REPL). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return layerHooks.repr ? layerHooks.repr(this as unknown as Layer) : `<${this.name} |>`;
  }

  protected addProblem(problem: string): void {
    (this.problems ??= []).push(problem);
  }
}

/** Where a field table keeps its by-name index (made once per table: normalize() runs for every layer built). */
const BY_NAME: unique symbol = Symbol('synack.fieldsByName');

/** A field table by name. */
function fieldsByName(specs: readonly FieldSpec[]): Map<string, FieldSpec> {
  const table = specs as readonly FieldSpec[] & { [BY_NAME]?: Map<string, FieldSpec> };
  let byName = table[BY_NAME];
  if (byName === undefined) {
    // A name listed once per condition (ICMP's 16- or 32-bit unused) maps to its widest variant.
    byName = new Map();
    for (const s of specs) if ((byName.get(s.name)?.bits ?? -1) < (s.bits ?? 0)) byName.set(s.name, s);
    Object.defineProperty(table, BY_NAME, { value: byName });
  }
  return byName;
}

/** The stack a dissected layer is the innermost of, outermost first: it and every layer below it. */
export function stackOf(innermost: Layer | undefined): Layer[] {
  let n = 0;
  for (let l = innermost; l !== undefined; l = l.below) n++;
  const layers = new Array<Layer>(n);
  for (let l = innermost; l !== undefined; l = l.below) layers[--n] = l;
  return layers;
}

/** Records a dissection defect on a layer from outside its class (decoders of other layers). */
export function noteProblem(layer: Layer, problem: string): void {
  (layer.problems ??= []).push(problem);
}

/**
 * Gives a layer class one accessor per field of its table (layer.sport, layer.ttl), Scapy's
 * p[TCP].sport: a field given or read is returned as stored; an unset computed field asks the
 * packet the layer was found in for its built value; any other unset field is its default.
 * Setting one is set(). Names the class already uses (name, fields, clone, ...) are left alone.
 * Idempotent; registerLayer() and layerFactory() call it, so a layer written the older way gets
 * its accessors too.
 */
export function defineFieldAccessors(cls: LayerClass): void {
  const proto = cls.prototype as object;
  if (accessorsDefined.has(proto)) return;
  accessorsDefined.add(proto);
  for (const spec of cls.fieldSpecs) {
    const name = spec.name;
    if (name in proto && !isFieldAccessor(proto, name)) continue;
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    // Where the field lies for the class last seen lazy here (a subclass may share the accessor).
    let fixedClass: LayerClass | undefined;
    let fixed: FixedField | undefined;
    const get = function (this: Layer): unknown {
      // A layer dissected lazily reads a fixed-position field from its bytes, decoding nothing.
      const buf = this.lazyBuf;
      if (buf !== undefined) {
        const cls = this.layerClass;
        if (cls !== fixedClass) {
          fixedClass = cls;
          fixed = fixedField(cls, name);
        }
        if (fixed !== undefined) return readFixedField(fixed, buf, this.lazyOff);
      }
      const v = (this.fields as Record<string, unknown>)[name];
      if (v !== undefined) return v;
      const own = fieldsByName(this.layerClass.fieldSpecs).get(name);
      if (own?.computed && this.owner) {
        const built = this.owner.builtValue(this, name);
        if (built !== undefined) return built;
      }
      return own?.default;
    };
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get,
      set(this: Layer, value: unknown) {
        (this as unknown as Layer<Record<string, unknown>>).set(name, value);
      },
    });
    fieldAccessorNames.add(`${name}`);
  }
}

const accessorsDefined = new WeakSet<object>();
const fieldAccessorNames = new Set<string>();

/** Whether `name` on `proto`'s chain is an accessor defineFieldAccessors made (a parent's field). */
function isFieldAccessor(proto: object, name: string): boolean {
  if (!fieldAccessorNames.has(name)) return false;
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return accessorsDefined.has(p) && d.get !== undefined && d.set !== undefined;
  }
  return false;
}

/**
 * The type of a layer's accessors for its fields: what is stored, which for a field that takes
 * a number or a name (TCP flags 'SA', ICMP type 'echo-request') is the number.
 */
/** What a field takes when a layer is made: its value, or for numbers and addresses a set of values. */
export type FieldInput<F> = { [K in keyof F]?: F[K] | SetOf<F[K]> };

/** A set for a number field (values and [low, high] ranges) or an address field (addresses, CIDR blocks). */
export type SetOf<T> = [T] extends [number | string] ? readonly (T | readonly [number, number])[] | FieldSet : never;

export type FieldValues<F> = {
  -readonly [K in keyof F]-?: F[K] extends number | string ? (number extends F[K] ? number : F[K]) : F[K];
};
