/**
 * Which layer follows which: one table that binds a lower layer's type field (IP proto, IPv6
 * nh, Ether type) to the layer above, used both ways. Building fills the lower field from the
 * upper layer; dissecting picks the upper layer from the lower field. A new protocol is one
 * file in layers/ plus its bind() lines.
 */
import { defineFieldAccessors, type LayerClass } from './layer.js';

interface Binding {
  readonly lower: LayerClass;
  readonly upper: LayerClass;
  readonly field: string;
  readonly value: number;
}

const bindings: Binding[] = [];
const byName = new Map<string, LayerClass>();
/** lower class -> field -> value -> upper class, for the dissector's hot path. */
const decodeIndex = new Map<LayerClass, Map<string, Map<number, LayerClass>>>();

/** Makes a layer known by name (the text form, dissection by name) and gives it field accessors. */
export function registerLayer(cls: LayerClass, ...aliases: string[]): void {
  defineFieldAccessors(cls);
  byName.set(cls.layerName, cls);
  for (const alias of aliases) byName.set(alias, cls);
}

/** Declares that `upper` sits on `lower` when lower[field] === value. The first binding of a value wins for decoding. */
export function bind(lower: LayerClass, upper: LayerClass, field: string, value: number): void {
  bindings.push({ lower, upper, field, value });
  let fields = decodeIndex.get(lower);
  if (!fields) decodeIndex.set(lower, (fields = new Map()));
  let values = fields.get(field);
  if (!values) fields.set(field, (values = new Map()));
  if (!values.has(value)) values.set(value, upper);
  buildCache.clear();
  last.lower = undefined;
  generation++;
}

/** Counts bind() and bindLike() calls: a resolved table (bindingsOf) made before one is stale. */
let generation = 0;

/** boundLayer() for one lower class and field, answered from one memo: what a scan() asks per packet. */
export interface BoundLayers {
  get(value: number): LayerClass | undefined;
}

/**
 * boundLayer(lower, field, value) for every value, each answer kept (parents and aliases walked
 * once per value, and again after any new binding): dissect()'s fast paths ask it for every
 * packet, and three Map lookups were most of a lazy IPv4 header's cost.
 */
export function bindingsOf(lower: LayerClass, field: string): BoundLayers {
  let seen = -1;
  const memo = new Map<number, LayerClass | null>();
  return {
    get(value: number): LayerClass | undefined {
      if (seen !== generation) {
        memo.clear();
        seen = generation;
      }
      const hit = memo.get(value);
      if (hit !== undefined) return hit ?? undefined;
      const found = boundLayer(lower, field, value);
      if (memo.size < 4096) memo.set(value, found ?? null);
      return found;
    },
  };
}

/** Layers that take another's bindings as their own (Scapy's aliastypes: Dot1Q binds like Ether). */
const aliases = new Map<LayerClass, LayerClass>();

/** Declares that `cls` carries what `like` carries, on the same field (a VLAN tag's type is Ether's). */
export function bindLike(cls: LayerClass, like: LayerClass): void {
  aliases.set(cls, like);
  buildCache.clear();
  generation++;
}

function isSubclass(child: LayerClass, parent: LayerClass): boolean {
  return child === parent || Object.prototype.isPrototypeOf.call(parent, child);
}

/** The value lower[field] takes when `upper` is stacked on it, or undefined when unbound. */
export function boundValue(lower: LayerClass, upper: LayerClass, field: string): number | undefined {
  // Builds of one kind of packet ask the same question every time.
  if (lower === last.lower && upper === last.upper && field === last.field) return last.value;
  const value = cachedBoundValue(lower, upper, field);
  last.lower = lower;
  last.upper = upper;
  last.field = field;
  last.value = value;
  return value;
}

const last: { lower?: LayerClass; upper?: LayerClass; field?: string; value?: number } = {};

function cachedBoundValue(lower: LayerClass, upper: LayerClass, field: string): number | undefined {
  const key = `${field}`;
  let perUpper = buildCache.get(lower);
  if (!perUpper) buildCache.set(lower, (perUpper = new Map()));
  let perField = perUpper.get(upper);
  if (!perField) perUpper.set(upper, (perField = new Map()));
  if (perField.has(key)) return perField.get(key);
  let value = findBoundValue(lower, upper, field);
  const like = aliases.get(lower);
  if (value === undefined && like) value = findBoundValue(like, upper, field);
  perField.set(key, value);
  return value;
}

/** Memo of boundValue: building looks the same pairs up for every packet. */
const buildCache = new Map<LayerClass, Map<LayerClass, Map<string, number | undefined>>>();

function findBoundValue(lower: LayerClass, upper: LayerClass, field: string): number | undefined {
  // Exact pairs first, then bindings inherited through subclasses (IPerror binds like IP).
  for (const b of bindings) if (b.lower === lower && b.upper === upper && b.field === field) return b.value;
  for (const b of bindings) {
    if (b.field === field && isSubclass(lower, b.lower) && isSubclass(upper, b.upper)) return b.value;
  }
  return undefined;
}

/** The class bound above `lower` for lower[field] === value, looking through lower's parents too. */
export function boundLayer(lower: LayerClass, field: string, value: number): LayerClass | undefined {
  let cls: LayerClass | null = lower;
  while (cls && cls.layerName) {
    const hit = decodeIndex.get(cls)?.get(field)?.get(value);
    if (hit) return hit;
    cls = Object.getPrototypeOf(cls) as LayerClass | null;
  }
  const like = aliases.get(lower);
  return like ? boundLayer(like, field, value) : undefined;
}

/**
 * The layer bound to a port (DNS on 53) above UDP or TCP: destination first, then source, as
 * Scapy guesses. A layer binds with `bind(UDPLayer, X, 'dport', port)` and its 'sport' twin.
 */
export function portBound(cls: LayerClass, dport: number, sport: number): LayerClass | undefined {
  return boundLayer(cls, 'dport', dport) ?? boundLayer(cls, 'sport', sport);
}

export function layerByName(name: string): LayerClass | undefined {
  return byName.get(name);
}

export function layerNames(): string[] {
  return [...byName.keys()];
}
