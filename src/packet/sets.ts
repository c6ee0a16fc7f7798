/**
 * Packet sets (Scapy's Gen): a packet whose fields hold lists, ranges or CIDR blocks stands for
 * the cross product of those values. `TCP({dport: [22, 80, [1000, 1010]]})` is 13 packets;
 * `IP({dst: '127.0.0.0/30'}).add(TCP({dport: [22, 80]}))` is 8. The order is Scapy's: inner
 * layers vary fastest, and within a layer the first field varies fastest.
 */
import { FieldSet } from '../layers/field-set.js';
import type { Layer } from '../layers/layer.js';
import { usageError } from '../wire/errors.js';
import { Packet } from './packet.js';

/** One set-valued field: which layer, which field, which values. */
interface Axis {
  readonly layer: number;
  readonly field: string;
  readonly set: FieldSet;
}

/** The set-valued fields, slowest-varying first. */
function axes(p: Packet): Axis[] {
  const out: Axis[] = [];
  p.layers.forEach((layer, index) => {
    if (!layer.hasSets) return;
    const mine: Axis[] = [];
    for (const spec of layer.layerClass.fieldSpecs) {
      const value = (layer.fields as Record<string, unknown>)[spec.name];
      // A name listed twice (one width per condition) is one axis.
      if (value instanceof FieldSet && !mine.some((a) => a.field === spec.name)) mine.push({ layer: index, field: spec.name, set: value });
    }
    // Within a layer the first field varies fastest, so it goes last in slowest-first order.
    out.push(...mine.reverse());
  });
  return out;
}

/** How many packets p stands for (1 when it holds no sets). */
export function count(p: Packet): number {
  let n = 1;
  for (const axis of axes(p)) n *= axis.set.size;
  return n;
}

/** The packets p stands for, one at a time, without building the whole product. */
export function* packets(p: Packet): Generator<Packet> {
  const all = axes(p);
  if (all.length === 0) {
    yield p;
    return;
  }
  const chosen = new Array<number | string>(all.length);
  yield* walk(p, all, chosen, 0);
}

function* walk(p: Packet, all: Axis[], chosen: (number | string)[], depth: number): Generator<Packet> {
  if (depth === all.length) {
    yield assemble(p, all, chosen);
    return;
  }
  for (const value of all[depth]!.set.values()) {
    chosen[depth] = value;
    yield* walk(p, all, chosen, depth + 1);
  }
}

/** One member of the set: layers without sets are shared, the others rebuilt with scalars through their constructor (so flag letters are checked). */
function assemble(p: Packet, all: Axis[], chosen: (number | string)[]): Packet {
  const replaced = new Map<number, Record<string, unknown>>();
  all.forEach((axis, i) => {
    let fields = replaced.get(axis.layer);
    if (!fields) replaced.set(axis.layer, (fields = { ...p.layers[axis.layer]!.fields }));
    fields[axis.field] = chosen[i];
  });
  const layers = p.layers.map((layer, i) => {
    const fields = replaced.get(i);
    return fields ? rebuild(layer, fields) : layer;
  });
  const out = new Packet(layers);
  out.time = p.time;
  return out;
}

function rebuild(layer: Layer, fields: Record<string, unknown>): Layer {
  const copy = new layer.layerClass(fields);
  copy.truncatedTo = layer.truncatedTo;
  return copy;
}

/** Most packets expand() will put in one array; beyond it, walk packets(p) instead. */
const EXPAND_LIMIT = 1 << 22;

/** Every packet p stands for, as an array (p itself, alone, when it holds no sets). */
export function expand(p: Packet): Packet[] {
  const n = count(p);
  if (n > EXPAND_LIMIT) {
    throw usageError(`this packet stands for ${n} packets, too many to hold at once: walk them with packets(p) instead of expand(p)`);
  }
  return [...packets(p)];
}
