/**
 * Field tables: each layer declares its fields as data (Scapy's fields_desc), in wire order:
 * a field's width, default, enum names and flags are written once, in its layer file. The table
 * drives what is generic and derives what was once repeated by hand: validation of names and
 * ranges, the typed accessors (layer.sport), defaults (defaultsOf), where each field starts in
 * the header (fieldStarts, for cut-off headers), show()'s names, command(), fuzz() and packet
 * sets. Encoding and decoding stay hand-written in each layer file, for speed.
 *
 * A layer written the older way (a table with names, kinds, widths and defaults only) keeps
 * working: every addition here is optional.
 */
import { usageError } from '../wire/errors.js';
export type FieldKind =
  | 'int' // unsigned integer of `bits` bits
  | 'flags' // bit set with one letter (or name) per bit, least significant first
  | 'ipv4'
  | 'ipv6'
  | 'mac'
  | 'bytes' // Buffer, or a string taken as latin1
  | 'options' // a layer-specific list (TCP or IP options, IPv6 ext-header options)
  | 'list' // a list of addresses or numbers (record route, routing header)
  | 'packets' // a list of layers inside a field (Scapy's PacketListField: DNS records)
  | 'value'; // a layer-specific value kept as given: text, bytes or a list (DNS rdata)

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  /** Width of an 'int' or 'flags' field, for fuzzing and range checks. */
  readonly bits?: number;
  /** Value used when the field is unset and not computed. */
  readonly default?: unknown;
  /** Filled at build time when unset (lengths, checksums, bindings): fuzz() leaves it alone. */
  readonly computed?: boolean;
  /** Flag letters, least significant bit first ('FSRPAUEC' for TCP). */
  readonly flagLetters?: string;
  /** Shown and written in hex by show() and command(). */
  readonly hex?: boolean;
  /** Present only when this returns true (Scapy's ConditionalField), given the layer's values. */
  readonly when?: (values: Record<string, unknown>) => boolean;
  /**
   * The names show() prints for values (Scapy's EnumField): a table, a function of the value
   * and the layer's other values (ICMP's code depends on its type), or a system table show/
   * reads ('services/tcp', 'services/udp', 'protocols'; layers never read files).
   */
  readonly names?: FieldNames;
  /** How show() prints a value the names do not know: 'hex' (0x800) or the number (default). */
  readonly unnamed?: 'hex';
}

/** Value names for show(): see FieldSpec.names. */
export type FieldNames =
  | Readonly<Record<number, string>>
  | ((value: number, values: Record<string, unknown>) => string | undefined)
  | 'services/tcp'
  | 'services/udp'
  | 'protocols';

/** Bits on the wire of a field of fixed width, or undefined when its width varies (options, bytes). */
export function fieldBits(spec: FieldSpec): number | undefined {
  if (spec.bits !== undefined) return spec.bits;
  switch (spec.kind) {
    case 'ipv4':
      return 32;
    case 'ipv6':
      return 128;
    case 'mac':
      return 48;
    default:
      return undefined;
  }
}

/**
 * Where each field starts, in bytes from the header's start (a bit field: the byte holding its
 * first bit), for the fields up to and including the first one of variable width. Conditional
 * fields count only when present for `values`.
 */
export function fieldStarts(specs: readonly FieldSpec[], values: Record<string, unknown> = {}): Readonly<Record<string, number>> {
  const starts: Record<string, number> = {};
  let bit = 0;
  for (const spec of specs) {
    if (spec.when && !spec.when(values)) continue;
    starts[spec.name] = Math.floor(bit / 8);
    const bits = fieldBits(spec);
    if (bits === undefined) break;
    bit += bits;
  }
  return starts;
}

/** Each field's default, by name: what encode and answers() use for a field left unset. */
export function defaultsOf<F extends object>(specs: readonly FieldSpec[]): Readonly<Required<{ [K in keyof F]: Exclude<F[K], string> extends never ? F[K] : Exclude<F[K], string> }>> {
  const defaults: Record<string, unknown> = {};
  for (const spec of specs) if (!(spec.name in defaults) && spec.default !== undefined) defaults[spec.name] = spec.default;
  return Object.freeze(defaults) as never;
}

/**
 * Checks a number given for a field of fixed width: a whole number from 0 to 2^bits - 1.
 * The text form (packet/text) and the layer constructors share it, so `TCP({ dport: 70000 })`
 * and `TCP(dport=70000)` fail with the same words. Wrong but encodable values (a bad checksum,
 * SYN+FIN, dataofs 15) fit their widths and pass.
 */
export function checkFieldNumber(spec: FieldSpec, value: number, layerName: string): void {
  const bits = spec.bits;
  if (bits === undefined || (spec.kind !== 'int' && spec.kind !== 'flags')) return;
  if (value >= 0 && value <= MAX_BY_BITS[bits]! && Math.floor(value) === value) return;
  throw usageError(fieldRangeMessage(spec, layerName, value));
}

/** `TCP dport takes 0 to 65535, not 70000`: the one wording for a number out of a field's range. */
export function fieldRangeMessage(spec: FieldSpec, layerName: string, value: unknown): string {
  const max = 2 ** (spec.bits ?? 32) - 1;
  return `${layerName} ${spec.name} takes 0 to ${max}${spec.hex ? ` (0x${max.toString(16)})` : ''}, not ${String(value)}`;
}

const MAX_BY_BITS: readonly number[] = Array.from({ length: 65 }, (_, bits) => 2 ** bits - 1);

export function intField(name: string, bits: number, def: number, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, kind: 'int', bits, default: def, ...extra };
}

export function computedInt(name: string, bits: number, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, kind: 'int', bits, computed: true, ...extra };
}
