/**
 * Packet.show(): every field of every layer with the value it has on the wire, Scapy's
 * show2(). The packet is built and dissected again, so computed fields (lengths, checksums,
 * protocol numbers) show their computed values. Layout as Scapy 2.5 prints it: `###[ Name ]###`
 * then `  field     = value`, each layer indented three more columns than the one before.
 */
import { readFileSync } from 'node:fs';
import type { Packet } from '../packet/packet.js';
import { dissect } from '../packet/dissect.js';
import type { Layer } from '../layers/layer.js';
import type { FieldSpec } from '../layers/field.js';
import { packetFrame } from './packet-frame.js';

/** Scapy's display names for layer classes whose name differs from the registry's. */
const DISPLAY_NAMES: Record<string, string> = { Ether: 'Ethernet', IPerror: 'IP in ICMP', TCPerror: 'TCP in ICMP', UDPerror: 'UDP in ICMP' };

const ETHER_TYPES: Record<number, string> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: 'n_802_1Q', 0x88cc: 'LLDP' };

let services: Map<number, string> | undefined;
let protocols: Map<number, string> | undefined;

/** Names from /etc/services and /etc/protocols, as Scapy loads them (ftp-data shows as ftp_data). */
function loadNames(path: string, tcp: boolean): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      const fields = line.replace(/#.*/, '').trim().split(/\s+/);
      if (fields.length < 2) continue;
      if (tcp) {
        const [port, proto] = fields[1]!.split('/');
        if (proto === 'tcp' && !names.has(Number(port))) names.set(Number(port), fields[0]!.replace(/-/g, '_'));
      } else if (!names.has(Number(fields[1]))) names.set(Number(fields[1]), fields[0]!);
    }
  } catch {
    // No name files: numbers are shown, which is what Scapy does then too.
  }
  return names;
}

function portName(n: number): string {
  services ??= loadNames('/etc/services', true);
  return services.get(n) ?? String(n);
}

function protoName(n: number): string {
  protocols ??= loadNames('/etc/protocols', false);
  return protocols.get(n) ?? String(n);
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
function pyRepr(v: unknown): string {
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

function fieldValue(layer: Layer, spec: FieldSpec): string {
  const raw = (layer.fields as Record<string, unknown>)[spec.name];
  const value = raw === undefined ? spec.default : raw;
  if (value === undefined) return 'None';
  const name = layer.name;
  if (typeof value === 'number') {
    if ((name === 'TCP' || name === 'TCPerror' || name === 'UDP' || name === 'UDPerror') && (spec.name === 'sport' || spec.name === 'dport')) return portName(value);
    if ((name === 'IP' || name === 'IPerror') && spec.name === 'proto') return protoName(value);
    if ((name === 'IPv6' || name === 'IPerror6') && spec.name === 'nh') return protoName(value);
    if (name === 'Ether' && spec.name === 'type') return ETHER_TYPES[value] ?? '0x' + value.toString(16);
    if (spec.kind === 'flags') return flagsText(spec, value);
    if (spec.hex) return '0x' + value.toString(16);
    return String(value);
  }
  if (value instanceof Uint8Array) return pyBytes(value);
  if (Array.isArray(value)) return spec.kind === 'options' && (name === 'TCP' || name === 'TCPerror') ? tcpOptionsRepr(value) : pyRepr(value);
  return String(value);
}

export function showLayers(layers: readonly Layer[]): string {
  const lines: string[] = [];
  let indent = '';
  for (const layer of layers) {
    lines.push('###[ ' + (DISPLAY_NAMES[layer.name] ?? layer.name) + ' ]### ');
    const specs = layer.layerClass.fieldSpecs;
    const values = layer.fields as Record<string, unknown>;
    for (const spec of specs) {
      if (spec.when && !spec.when(values)) continue;
      lines.push(indent + '  ' + spec.name.padEnd(10, ' ') + '= ' + fieldValue(layer, spec));
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
