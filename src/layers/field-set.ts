/**
 * A field that holds many values at once (Scapy's Gen): a list of numbers and inclusive
 * ranges (`dport: [22, 80, [1000, 1010]]`), a list of addresses, or a CIDR block
 * ('127.0.0.0/30', Scapy's Net). A layer holding one stands for a set of packets; packet/sets.ts
 * expands them. Values are produced lazily, so a /16 costs nothing until it is walked.
 */
import { formatIPv6, isIPv4, isIPv6, parseIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import type { FieldKind, FieldSpec } from './field.js';

/** One element of a set: a value, or an inclusive range of numbers written [lo, hi]. */
export type SetItem = number | string | readonly [number, number];

export class FieldSet {
  /** The number of values; may exceed 2^53 for a large IPv6 block (then only approximately). */
  readonly size: number;

  constructor(
    readonly kind: FieldKind,
    readonly items: readonly SetItem[],
    /** Written as one value (a CIDR string) rather than a list: command() prints it back the same way. */
    readonly single: boolean,
  ) {
    let size = 0;
    for (const item of items) size += itemSize(kind, item);
    this.size = size;
  }

  /** Every value in order, one at a time. */
  *values(): Generator<number | string> {
    for (const item of this.items) {
      if (typeof item === 'number') yield item;
      else if (typeof item !== 'string') {
        for (let v = item[0]; v <= item[1]; v++) yield v;
      } else if (item.includes('/')) yield* cidrValues(this.kind, item);
      else yield item;
    }
  }
}

/**
 * Whether a value given for a field of this spec is a set (and not one value). Only numbers,
 * flags and addresses take sets: options, bytes and lists take arrays as their values.
 */
export function isSetValue(spec: FieldSpec, value: unknown): boolean {
  // Runs for every field of every layer made: a switch and typeof tests, nothing slower.
  switch (spec.kind) {
    case 'int':
    case 'flags':
    case 'mac':
      return typeof value === 'object' && (Array.isArray(value) || value instanceof FieldSet);
    case 'ipv4':
    case 'ipv6':
      if (typeof value === 'string') return value.includes('/');
      return typeof value === 'object' && (Array.isArray(value) || value instanceof FieldSet);
    default:
      return false;
  }
}

/** Checks a set given for a field and makes it a FieldSet; mistakes are usage errors naming the field. */
export function toFieldSet(spec: FieldSpec, value: unknown, layerName: string): FieldSet {
  if (value instanceof FieldSet) return value;
  const where = `${layerName} ${spec.name}`;
  const single = !Array.isArray(value);
  const items = (single ? [value] : value) as unknown[];
  if (items.length === 0) throw usageError(`${where}: an empty list makes no packets; give at least one value`);
  return new FieldSet(spec.kind, items.map((item) => checkItem(spec, item, where)), single);
}

function checkItem(spec: FieldSpec, item: unknown, where: string): SetItem {
  switch (spec.kind) {
    case 'int':
    case 'flags': {
      if (Array.isArray(item)) {
        if (item.length !== 2 || !item.every((n) => fitsBits(n, spec.bits))) {
          throw usageError(`${where}: a range is written [low, high] with two numbers that fit ${spec.bits} bits, got ${describe(item)}`);
        }
        if (item[0] > item[1]) throw usageError(`${where}: range [${item[0]}, ${item[1]}] runs backwards; write [${item[1]}, ${item[0]}]`);
        return [item[0], item[1]] as const;
      }
      if (fitsBits(item, spec.bits)) return item as number;
      if (spec.kind === 'flags' && typeof item === 'string') return item; // letters are checked when the set is expanded
      throw usageError(`${where}: ${describe(item)} is not a number from 0 to ${2 ** (spec.bits ?? 32) - 1}`);
    }
    case 'ipv4':
    case 'ipv6': {
      if (typeof item !== 'string') throw usageError(`${where}: ${describe(item)} is not an address`);
      checkAddress(spec.kind, item, where);
      return item;
    }
    default:
      if (typeof item !== 'string') throw usageError(`${where}: ${describe(item)} is not an address`);
      return item;
  }
}

function fitsBits(n: unknown, bits = 32): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 2 ** bits;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? `[${v.map(describe).join(', ')}]` : String(v);
}

function checkAddress(kind: 'ipv4' | 'ipv6', text: string, where: string): void {
  const [addr, prefix, extra] = text.split('/');
  const max = kind === 'ipv4' ? 32 : 128;
  const okAddr = kind === 'ipv4' ? isIPv4(addr!) : isIPv6(addr!);
  if (!okAddr) throw usageError(`${where}: bad ${kind === 'ipv4' ? 'IPv4' : 'IPv6'} address '${text}'`);
  if (prefix !== undefined && (extra !== undefined || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max)) {
    throw usageError(`${where}: bad prefix length in '${text}': write a number from 0 to ${max}, like '${addr}/${max - 2}'`);
  }
}

function itemSize(kind: FieldKind, item: SetItem): number {
  if (typeof item === 'number') return 1;
  if (typeof item !== 'string') return item[1] - item[0] + 1;
  if (!item.includes('/')) return 1;
  const prefix = Number(item.split('/')[1]);
  return 2 ** ((kind === 'ipv4' ? 32 : 128) - prefix);
}

/** Every address of a block, network and broadcast included (as Scapy's Net yields them). */
function* cidrValues(kind: FieldKind, block: string): Generator<string> {
  const [addr, prefixText] = block.split('/') as [string, string];
  const prefix = Number(prefixText);
  if (kind === 'ipv4') {
    const base = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const span = 2 ** (32 - prefix);
    const first = base - (base % span);
    for (let i = 0; i < span; i++) {
      const v = first + i;
      yield `${Math.floor(v / 16777216) % 256}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
    }
    return;
  }
  const bytes = parseIPv6(addr);
  let base = 0n;
  for (const b of bytes) base = (base << 8n) | BigInt(b);
  const span = 1n << BigInt(128 - prefix);
  const first = base - (base % span);
  const out = Buffer.alloc(16);
  for (let i = 0n; i < span; i++) {
    let v = first + i;
    for (let j = 15; j >= 0; j--) {
      out[j] = Number(v & 0xffn);
      v >>= 8n;
    }
    yield formatIPv6(out);
  }
}
