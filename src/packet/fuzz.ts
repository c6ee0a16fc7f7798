/**
 * fuzz(): Scapy's fuzz() for synack packets. Every field the user did not set and that is not
 * computed gets a random value of its kind and width (random addresses, random option lists
 * like Scapy's RandTCPOptions); fields the user set are kept, and computed fields (lengths,
 * checksums, bindings) stay computed, so the packet still builds consistently. Give `seed` to
 * get the same packet again.
 */
import type { FieldSpec } from '../layers/field.js';
import type { IPOption } from '../layers/ipv4-options.js';
import { IPv4Layer } from '../layers/ipv4.js';
import type { IPv6ExtOption } from '../layers/ipv6-ext-options.js';
import { Layer, type LayerClass } from '../layers/layer.js';
import type { TCPOption } from '../layers/tcp-options.js';
import { TCPLayer } from '../layers/tcp.js';
import { formatIPv6, formatMAC } from '../wire/addr.js';
import { Packet } from './packet.js';

export interface FuzzOptions {
  /** Seed for a repeatable result; without one, Math.random is used. */
  seed?: number;
  /** A source of uniform numbers in [0, 1), instead of a seed. */
  random?: () => number;
}

/** A small seedable generator (mulberry32): good spread, not for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A packet like `target` with random values in every field that is neither set nor computed. */
export function fuzz(target: Packet | Layer, options: FuzzOptions = {}): Packet {
  const random = options.random ?? (options.seed !== undefined ? seededRandom(options.seed) : Math.random);
  const rnd = new Rand(random);
  const layers = target instanceof Layer ? [target] : target.layers;
  const out = new Packet(layers.map((layer) => fuzzLayer(layer, rnd)));
  if (target instanceof Packet) out.time = target.time;
  return out;
}

function fuzzLayer(layer: Layer, rnd: Rand): Layer {
  const cls = layer.layerClass;
  const given = layer.fields as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const spec of cls.fieldSpecs) {
    if (given[spec.name] !== undefined || spec.computed || spec.when) continue;
    const value = randomValue(spec, cls, rnd);
    if (value !== undefined) fields[spec.name] = value;
  }
  Object.assign(fields, given);
  // A conditional field (Scapy's ConditionalField) is fuzzed only when the values drawn so far
  // make it present; of a name listed once per condition, the variant whose condition holds.
  for (const spec of cls.fieldSpecs) {
    if (!spec.when || spec.computed || fields[spec.name] !== undefined || !spec.when(fields)) continue;
    const value = randomValue(spec, cls, rnd);
    if (value !== undefined) fields[spec.name] = value;
  }
  const copy = new cls(fields);
  copy.truncatedTo = layer.truncatedTo;
  return copy;
}

function randomValue(spec: FieldSpec, cls: LayerClass, rnd: Rand): unknown {
  switch (spec.kind) {
    case 'int':
    case 'flags':
      return rnd.bits(spec.bits ?? 8);
    case 'ipv4':
      return `${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}`;
    case 'ipv6':
      return formatIPv6(rnd.bytes(16));
    case 'mac':
      return formatMAC(rnd.bytes(6));
    case 'bytes':
      return rnd.bytes(rnd.int(33));
    case 'options':
      return randomOptions(cls, rnd);
    default:
      return undefined; // lists (routing addresses) keep their defaults
  }
}

function isA(cls: LayerClass, parent: unknown): boolean {
  return cls === parent || Object.prototype.isPrototypeOf.call(parent as object, cls);
}

/** Which options list a layer takes is the layer's business; the ones synack knows are fuzzed here. */
function randomOptions(cls: LayerClass, rnd: Rand): unknown {
  if (isA(cls, TCPLayer)) return randomTCPOptions(rnd);
  if (isA(cls, IPv4Layer)) return randomIPOptions(rnd);
  for (let c: LayerClass | null = cls; c && c.layerName; c = Object.getPrototypeOf(c) as LayerClass | null) {
    if (c.layerName === 'IPv6ExtHdrHopByHop' || c.layerName === 'IPv6ExtHdrDestOpt') return randomIPv6ExtOptions(rnd);
  }
  return undefined;
}

/** Up to 40 bytes of TCP options, each of a random known kind with random values (Scapy's RandTCPOptions). */
function randomTCPOptions(rnd: Rand): TCPOption[] {
  const opts: TCPOption[] = [];
  let room = 40;
  const count = rnd.int(6);
  for (let i = 0; i < count; i++) {
    const opt = randomTCPOption(rnd);
    const size = tcpOptionSize(opt);
    if (size > room) break;
    room -= size;
    opts.push(opt);
  }
  return opts;
}

function randomTCPOption(rnd: Rand): TCPOption {
  switch (rnd.int(9)) {
    case 0:
      return ['MSS', rnd.bits(16)];
    case 1:
      return ['WScale', rnd.bits(8)];
    case 2:
      return ['SAckOK', null];
    case 3:
      return ['Timestamp', [rnd.bits(32), rnd.bits(32)]];
    case 4:
      return ['NOP', null];
    case 5: {
      const blocks: number[] = [];
      for (let n = 2 * (1 + rnd.int(3)); n > 0; n--) blocks.push(rnd.bits(32));
      return ['SAck', blocks];
    }
    case 6:
      return ['UTO', rnd.bits(16)];
    case 7:
      return ['EOL', null];
    default:
      return [9 + rnd.int(240), rnd.bytes(rnd.int(7))];
  }
}

function tcpOptionSize(opt: TCPOption): number {
  const [name, value] = opt as readonly [string | number, unknown];
  if (name === 'NOP' || name === 'EOL') return 1;
  if (name === 'SAck') return 2 + 4 * (value as number[]).length;
  if (name === 'Timestamp') return 10;
  if (name === 'SAckOK') return 2;
  if (name === 'WScale') return 3;
  if (typeof name === 'number') return 2 + (value as Buffer).length;
  return 4;
}

/** Up to 40 bytes of IP options. */
function randomIPOptions(rnd: Rand): IPOption[] {
  const opts: IPOption[] = [];
  let room = 40;
  for (let count = rnd.int(4); count > 0; count--) {
    let opt: IPOption;
    let size: number;
    switch (rnd.int(5)) {
      case 0:
        opt = { name: 'IPOption_NOP' };
        size = 1;
        break;
      case 1: {
        const routers = Array.from({ length: rnd.int(4) }, () => `${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}`);
        opt = { name: 'IPOption_RR', routers };
        size = 3 + 4 * routers.length;
        break;
      }
      case 2:
        opt = { name: 'IPOption_Timestamp', flg: 0, timestamp: rnd.bits(32) };
        size = 8;
        break;
      case 3:
        opt = { name: 'IPOption_Router_Alert', alert: rnd.bits(16) };
        size = 4;
        break;
      default: {
        const value = rnd.bytes(rnd.int(6));
        opt = { name: 'IPOption', option: 10 + rnd.int(10), value };
        size = 2 + value.length;
      }
    }
    if (size > room) break;
    room -= size;
    opts.push(opt);
  }
  return opts;
}

function randomIPv6ExtOptions(rnd: Rand): IPv6ExtOption[] {
  const opts: IPv6ExtOption[] = [];
  for (let count = rnd.int(3); count > 0; count--) {
    switch (rnd.int(3)) {
      case 0:
        opts.push({ name: 'RouterAlert', value: rnd.bits(16) });
        break;
      case 1:
        opts.push({ name: 'PadN', optdata: rnd.bytes(rnd.int(6)) });
        break;
      default:
        opts.push({ name: 'HBHOptUnknown', otype: 0x1e + rnd.int(0x20), optdata: rnd.bytes(rnd.int(8)) });
    }
  }
  return opts;
}

/** Random numbers of the shapes fields need, from one uniform source. */
class Rand {
  constructor(private readonly random: () => number) {}

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A uniform integer of `bits` bits (up to 53). */
  bits(bits: number): number {
    if (bits <= 32) return Math.floor(this.random() * 2 ** bits);
    return this.int(2 ** (bits - 32)) * 2 ** 32 + this.int(2 ** 32);
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}
