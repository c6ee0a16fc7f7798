/**
 * p.command(): a packet written back in the text form, Scapy style. Only the fields that are
 * set appear (given by the user, or read by the dissector, which sets them all), so
 * packet(p.command()) builds the same bytes as p. Flags print as letters, bytes as b'...',
 * addresses quoted, options as Scapy writes them.
 */
import type { FieldSpec } from '../../layers/field.js';
import { FieldSet, type SetItem } from '../../layers/field-set.js';
import type { Layer } from '../../layers/layer.js';
import { buildPacket, packetHooks, type Packet } from '../packet.js';

export function packetCommand(p: Packet): string {
  return p.layers.map(layerCommand).join('/');
}

export function layerCommand(layer: Layer): string {
  // A header the wire cut short has no spelling in the text form; its bytes do, and they are
  // what the packet rebuilds to (the dissector set every field below it, so nothing is recomputed).
  if (layer.truncatedTo !== undefined) return `Raw(load=${bytesText(buildPacket([layer]))})`;
  const fields = layer.fields as Record<string, unknown>;
  const parts: string[] = [];
  const done = new Set<string>();
  for (const spec of layer.layerClass.fieldSpecs) {
    const value = fields[spec.name];
    // A name listed twice (one width per condition) is printed once.
    if (value === undefined || done.has(spec.name)) continue;
    done.add(spec.name);
    parts.push(`${spec.name}=${fieldText(spec, value)}`);
  }
  return `${layer.name}(${parts.join(', ')})`;
}

function fieldText(spec: FieldSpec, value: unknown): string {
  if (value instanceof FieldSet) return setText(spec, value);
  switch (spec.kind) {
    case 'int':
      return typeof value === 'number' ? intText(spec, value) : valueText(value, false);
    case 'flags':
      return typeof value === 'number' ? flagsText(spec, value) : valueText(value, false);
    case 'bytes':
      return typeof value === 'string' ? bytesText(Buffer.from(value, 'latin1')) : valueText(value, false);
    case 'packets':
      // Records inside a field (DNS qd, an): a list of layer calls.
      return Array.isArray(value) ? `[${(value as Layer[]).map(layerCommand).join(', ')}]` : valueText(value, false);
    case 'options':
      // Scapy writes an options list as a list of tuples: [('MSS', 1460), ('NOP', None)].
      return Array.isArray(value) ? `[${value.map(optionText).join(', ')}]` : valueText(value, false);
    default:
      return valueText(value, false);
  }
}

function intText(spec: FieldSpec, n: number): string {
  return spec.hex && n >= 0 ? `0x${n.toString(16)}` : String(n);
}

/** Letters ('SA') or names joined by '+' ('MF+DF'); a plain number when some bit has no name. */
export function flagsText(spec: FieldSpec, bits: number): string {
  const letters = spec.flagLetters;
  if (!letters || bits === 0) return String(bits);
  const names = letters.includes(',') ? letters.split(',') : [...letters];
  if (bits >= 2 ** names.length) return String(bits);
  const set = names.filter((_, i) => bits & (1 << i));
  return pyString(set.join(letters.includes(',') ? '+' : ''));
}

function setText(spec: FieldSpec, set: FieldSet): string {
  const item = (v: SetItem): string =>
    typeof v === 'number' ? (spec.kind === 'flags' ? flagsText(spec, v) : intText(spec, v)) : typeof v === 'string' ? pyString(v) : `(${v[0]}, ${v[1]})`;
  return set.single ? item(set.items[0]!) : `[${set.items.map(item).join(', ')}]`;
}

/** A TCP option as a tuple, name and value: ['NOP'] prints as ('NOP', None), as Scapy does. */
function optionText(opt: unknown): string {
  if (Array.isArray(opt)) {
    const items = opt.length === 1 ? [opt[0], null] : opt;
    return `(${items.map((v) => valueText(v, true)).join(', ')})`;
  }
  return valueText(opt, false);
}

/** Any value in Python's spelling; arrays are tuples inside tuples, lists elsewhere. */
function valueText(v: unknown, inTuple: boolean): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return pyString(v);
  if (v instanceof Uint8Array) return bytesText(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => valueText(x, inTuple));
    if (!inTuple) return `[${items.join(', ')}]`;
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') {
    // An option object ({name: 'IPOption_RR', routers: [...]}) is written as its constructor call.
    const { name, ...rest } = v as Record<string, unknown>;
    const args = Object.entries(rest)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${k}=${valueText(x, false)}`);
    return `${String(name)}(${args.join(', ')})`;
  }
  return pyString(String(v));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** b'...' as Python's repr writes it: printable ASCII as is, the rest as escapes. */
export function bytesText(b: Uint8Array): string {
  let s = "b'";
  for (const c of b) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x27) s += "\\'";
    else if (c === 0x09) s += '\\t';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${HEX[c]}`;
  }
  return s + "'";
}

/** A string literal in single quotes, with what would break it escaped. */
export function pyString(text: string): string {
  let s = "'";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') s += '\\\\';
    else if (ch === "'") s += "\\'";
    else if (ch === '\n') s += '\\n';
    else if (ch === '\r') s += '\\r';
    else if (ch === '\t') s += '\\t';
    else if (c < 0x20 || c === 0x7f) s += `\\x${HEX[c]}`;
    else s += ch;
  }
  return s + "'";
}

packetHooks.command = packetCommand;
