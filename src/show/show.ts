/**
 * Packet.show(): every field of every layer with the value it has on the wire, Scapy's
 * show2(). The packet is built and dissected again, so computed fields (lengths, checksums,
 * protocol numbers) show their computed values. Layout as Scapy 2.5 prints it: `###[ Name ]###`
 * then `  field     = value`, each layer indented three more columns than the one before.
 */
import { readFileSync } from 'node:fs';
import type { Packet } from '../packet/packet.js';
import { dissect } from '../packet/dissect.js';
import { layerHooks, type Layer } from '../layers/layer.js';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import type { FieldNames, FieldSpec } from '../layers/field.js';
import { packetFrame } from './packet-frame.js';


/** ICMP types whose `unused` field Scapy 2.5 shows as an empty string (its MultipleTypeField default). */
const ICMP_EMPTY_UNUSED = new Set([0, 3, 5, 8, 13, 14, 15, 16, 17, 18]);


const IP_OPTION_NAMES: Record<number, string> = {
  0: 'end_of_list', 1: 'nop', 2: 'security', 3: 'loose_source_route', 4: 'timestamp', 5: 'extended_security', 6: 'commercial_security', 7: 'record_route',
  8: 'stream_id', 9: 'strict_source_route', 10: 'experimental_measurement', 11: 'mtu_probe', 12: 'mtu_reply', 13: 'flow_control', 14: 'access_control',
  15: 'encode', 16: 'imi_traffic_descriptor', 17: 'extended_IP', 18: 'traceroute', 19: 'address_extension', 20: 'router_alert',
  21: 'selective_directed_broadcast_mode', 23: 'dynamic_packet_state', 24: 'upstream_multicast_packet', 25: 'quick_start', 30: 'rfc4727_experiment',
};
const IP_OPTION_CLASSES: Record<number, string> = { 0: 'control', 2: 'debug' };
const IP_OPTION_DISPLAY: Record<string, string> = {
  IPOption: 'IP Option', IPOption_EOL: 'IP Option End of Options List', IPOption_NOP: 'IP Option No Operation', IPOption_Security: 'IP Option Security',
  IPOption_RR: 'IP Option Record Route', IPOption_LSRR: 'IP Option Loose Source and Record Route', IPOption_SSRR: 'IP Option Strict Source and Record Route',
  IPOption_Stream_Id: 'IP Option Stream ID', IPOption_MTU_Probe: 'IP Option MTU Probe', IPOption_MTU_Reply: 'IP Option MTU Reply',
  IPOption_Traceroute: 'IP Option Traceroute', IPOption_Timestamp: 'IP Option Timestamp', IPOption_Address_Extension: 'IP Option Address Extension',
  IPOption_Router_Alert: 'IP Option Router Alert', IPOption_SDBM: 'IP Option Selective Directed Broadcast Mode',
};

let services: Map<number, string> | undefined;
let udpServices: Map<number, string> | undefined;
let protocols: Map<number, string> | undefined;

/** Names from /etc/services (for one transport) and /etc/protocols, as Scapy loads them (ftp-data shows as ftp_data). */
function loadNames(path: string, transport: 'tcp' | 'udp' | undefined): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      const fields = line.replace(/#.*/, '').trim().split(/\s+/);
      if (fields.length < 2) continue;
      if (transport) {
        const [port, proto] = fields[1]!.split('/');
        if (proto === transport && !names.has(Number(port))) names.set(Number(port), fields[0]!.replace(/-/g, '_'));
      } else if (!names.has(Number(fields[1]))) names.set(Number(fields[1]), fields[0]!);
    }
  } catch {
    // No name files: numbers are shown, which is what Scapy does then too.
  }
  return names;
}

/** A value's name from a field's names: a table, a function, or a system name file read here. */
function valueName(names: FieldNames, value: number, values: Record<string, unknown>): string | undefined {
  switch (names) {
    case 'services/tcp':
      return (services ??= loadNames('/etc/services', 'tcp')).get(value);
    case 'services/udp':
      return (udpServices ??= loadNames('/etc/services', 'udp')).get(value);
    case 'protocols':
      return (protocols ??= loadNames('/etc/protocols', undefined)).get(value);
    default:
      return typeof names === 'function' ? names(value, values) : names[value];
  }
}

function pyBytes(b: Uint8Array): string {
  let s = '';
  let hasSingle = false;
  let hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    if (c === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  for (const c of b) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (String.fromCharCode(c) === quote) s += '\\' + quote;
    else if (c >= 32 && c < 127) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return quote + s + quote;
}

/** A value in Python's repr, for option lists and tuples. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return "'" + v + "'";
  if (v instanceof Uint8Array) return 'b' + pyBytes(v);
  if (Array.isArray(v)) {
    const inner = v.map(pyRepr);
    return v.length === 2 && typeof v[0] === 'string' ? '(' + inner.join(', ') + ')' : '[' + inner.join(', ') + ']';
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const name = String(o.name ?? 'Option');
    const args = Object.entries(o).filter(([k]) => k !== 'name').map(([k, x]) => k + '=' + pyRepr(x));
    return '<' + name + (args.length ? ' ' + args.join(' ') : '') + ' |>';
  }
  return String(v);
}

/** TCP options as Scapy shows them: a list of (name, value) tuples, tuple values for pairs. */
function tcpOptionsRepr(options: readonly unknown[]): string {
  return '[' + options.map((o) => {
    const [name, value] = o as [unknown, unknown];
    const v = Array.isArray(value) ? '(' + value.map(pyRepr).join(', ') + ')' : pyRepr(value);
    return '(' + pyRepr(name) + ', ' + v + ')';
  }).join(', ') + ']';
}

function flagsText(spec: FieldSpec, value: number): string {
  const letters = spec.flagLetters ?? '';
  const names = letters.includes(',') ? letters.split(',') : letters.split('');
  const set: string[] = [];
  for (let i = 0; i < names.length; i++) if (value & (1 << i)) set.push(names[i]!);
  return letters.includes(',') ? set.join('+') : set.join('');
}

/** A field's value as Scapy's i2repr shows it (`given` instead of the layer's own value when passed). */
export function fieldValue(layer: Layer, spec: FieldSpec, given?: unknown): string {
  const raw = given !== undefined ? given : (layer.fields as Record<string, unknown>)[spec.name];
  const value = raw === undefined ? spec.default : raw;
  if (value === undefined) return 'None';
  const name = layer.name;
  if (typeof value === 'number') {
    // Enum names come from the field's description in its layer file (FieldSpec.names).
    if (spec.names !== undefined) {
      const named = valueName(spec.names, value, layer.fields as Record<string, unknown>);
      if (named !== undefined) return named;
      return spec.unnamed === 'hex' ? '0x' + value.toString(16) : String(value);
    }
    if (spec.kind === 'flags') return flagsText(spec, value);
    if (spec.hex) return '0x' + value.toString(16);
    return String(value);
  }
  if (value instanceof Uint8Array) return pyBytes(value);
  if (spec.kind === 'packets' && Array.isArray(value)) {
    return value.length === 0 ? '[]' : '[' + (value as Layer[]).map((l) => (layerHooks.repr ? layerHooks.repr(l) : '<' + l.name + ' |>')).join(', ') + ']';
  }
  // Names (DNS qname, rrname) print quoted, as Scapy's byte strings; addresses as they are.
  if (spec.kind === 'value' && typeof value === 'string' && !isIPv4(value) && !isIPv6(value)) return "'" + value + "'";
  if (Array.isArray(value)) {
    if (spec.kind === 'options' && (name === 'TCP' || name === 'TCPerror')) return value.length === 0 ? '[]' : tcpOptionsRepr(value);
    return pyRepr(value);
  }
  return String(value);
}

/** IP options, a list of packets to Scapy: each shown under the field, behind `   |`. */
function isOptionList(layer: Layer, spec: FieldSpec, value: unknown): value is readonly Record<string, unknown>[] {
  return (layer.name === 'IP' || layer.name === 'IPerror') && spec.kind === 'options' && Array.isArray(value);
}

function ipOptionLines(options: readonly Record<string, unknown>[], prefix: string, lines: string[]): void {
  for (const o of options) {
    const className = String(o.name ?? 'IPOption');
    lines.push(prefix + '###[ ' + (IP_OPTION_DISPLAY[className] ?? className) + ' ]### ');
    for (const [key, v] of Object.entries(o)) {
      if (key === 'name') continue;
      let text: string;
      if (key === 'optclass' && typeof v === 'number') text = IP_OPTION_CLASSES[v] ?? String(v);
      else if (key === 'option' && typeof v === 'number') text = IP_OPTION_NAMES[v] ?? String(v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) text = '[' + v.join(', ') + ']';
      else text = pyRepr(v);
      lines.push(prefix + '  ' + key.padEnd(10, ' ') + '= ' + text);
    }
  }
}

/**
 * Layers inside a field (Scapy's PacketListField, DNS's sections): the name between
 * backslashes, then each layer's fields behind `   |`; an empty section shows None, as Scapy's.
 */
function packetListLines(name: string, list: readonly Layer[], indent: string, lines: string[]): void {
  if (list.length === 0) {
    lines.push(indent + '  ' + name.padEnd(10, ' ') + '= None');
    return;
  }
  lines.push(indent + '  \\' + name.padEnd(10, ' ') + '\\');
  const prefix = indent + '   |';
  for (const layer of list) {
    lines.push(prefix + '###[ ' + displayName(layer) + ' ]### ');
    const values = layer.fields as Record<string, unknown>;
    for (const spec of layer.layerClass.fieldSpecs) {
      if (spec.when && !spec.when(values)) continue;
      const value = values[spec.name] === undefined ? spec.default : values[spec.name];
      if (spec.kind === 'packets' && Array.isArray(value)) packetListLines(spec.name, value as Layer[], prefix, lines);
      else lines.push(prefix + '  ' + spec.name.padEnd(10, ' ') + '= ' + fieldValue(layer, spec));
    }
  }
}

/** A class's own display name (not one inherited from the class it extends), else its name. */
export function displayName(layer: Layer): string {
  const cls = layer.layerClass;
  return Object.prototype.hasOwnProperty.call(cls, 'displayName') && cls.displayName ? cls.displayName : layer.name;
}

export function showLayers(layers: readonly Layer[]): string {
  const lines: string[] = [];
  let indent = '';
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li]!;
    // Scapy stops reading fields when the bytes run out: a last field with no bytes left keeps
    // its default (TCP's options show as '' when nothing follows the header, [] otherwise).
    const bytesFollow = layers.slice(li + 1).some((l) => l.name !== 'Padding');
    lines.push('###[ ' + displayName(layer) + ' ]### ');
    const specs = layer.layerClass.fieldSpecs;
    const values = layer.fields as Record<string, unknown>;
    for (const spec of specs) {
      if (spec.when && !spec.when(values)) continue;
      const value = values[spec.name] === undefined ? spec.default : values[spec.name];
      if (isOptionList(layer, spec, value)) {
        // A PacketListField: the name between backslashes, then every option as a packet.
        lines.push(indent + '  \\' + spec.name.padEnd(10, ' ') + '\\');
        ipOptionLines(value, indent + '   |', lines);
        continue;
      }
      if (spec.kind === 'packets' && Array.isArray(value)) {
        packetListLines(spec.name, value as Layer[], indent, lines);
        continue;
      }
      const emptyTail = spec.kind === 'options' && (layer.name === 'TCP' || layer.name === 'TCPerror') && Array.isArray(value) && value.length === 0 && !bytesFollow;
      lines.push(indent + '  ' + spec.name.padEnd(10, ' ') + '= ' + (emptyTail ? "''" : fieldValue(layer, spec)));
    }
    if ((layer.name === 'ICMP' || layer.name === 'ICMPerror') && !specs.some((sp) => sp.name === 'unused' && (!sp.when || sp.when(values)))) {
      const type = values.type;
      if (typeof type === 'number' && ICMP_EMPTY_UNUSED.has(type)) lines.push(indent + "  unused    = ''");
    }
    indent += '   ';
  }
  return lines.join('\n');
}

/** show2: build, dissect the bytes again, and print what was read. */
export function show(p: Packet): string {
  const { data, linkType } = packetFrame(p);
  const again = linkType === -1 ? dissect(data, 'ip') : dissect(data, linkType);
  return showLayers(linkType === -1 ? p.layers : again.layers);
}
