/**
 * Field tables: each layer declares its fields as data (Scapy's fields_desc), in wire order.
 * The table drives what is generic: validation of names, show(), command(), fuzz() and packet
 * sets. Encoding and decoding stay hand-written in each layer file, for speed.
 */
export type FieldKind =
  | 'int' // unsigned integer of `bits` bits
  | 'flags' // bit set with one letter (or name) per bit, least significant first
  | 'ipv4'
  | 'ipv6'
  | 'mac'
  | 'bytes' // Buffer, or a string taken as latin1
  | 'options' // a layer-specific list (TCP or IP options, IPv6 ext-header options)
  | 'list'; // a list of addresses or numbers (record route, routing header)

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
}

export function intField(name: string, bits: number, def: number, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, kind: 'int', bits, default: def, ...extra };
}

export function computedInt(name: string, bits: number, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, kind: 'int', bits, computed: true, ...extra };
}
