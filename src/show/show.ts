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
const DISPLAY_NAMES: Record<string, string> = {
  Ether: 'Ethernet', IPerror: 'IP in ICMP', TCPerror: 'TCP in ICMP', UDPerror: 'UDP in ICMP', ICMPerror: 'ICMP in ICMP', IPerror6: 'IPv6 in ICMPv6',
  ICMPv6EchoRequest: 'ICMPv6 Echo Request', ICMPv6EchoReply: 'ICMPv6 Echo Reply', ICMPv6DestUnreach: 'ICMPv6 Destination Unreachable',
  ICMPv6PacketTooBig: 'ICMPv6 Packet Too Big', ICMPv6TimeExceeded: 'ICMPv6 Time Exceeded', ICMPv6ParamProblem: 'ICMPv6 Parameter Problem',
  ICMPv6Unknown: 'Scapy6 ICMPv6 fallback class',
};

/** Scapy's enum tables for the fields whose numbers it shows as names. */
const ICMP_TYPES: Record<number, string> = {
  0: 'echo-reply', 3: 'dest-unreach', 4: 'source-quench', 5: 'redirect', 8: 'echo-request', 9: 'router-advertisement', 10: 'router-solicitation',
  11: 'time-exceeded', 12: 'parameter-problem', 13: 'timestamp-request', 14: 'timestamp-reply', 15: 'information-request', 16: 'information-response',
  17: 'address-mask-request', 18: 'address-mask-reply', 30: 'traceroute', 31: 'datagram-conversion-error', 32: 'mobile-host-redirect',
  33: 'ipv6-where-are-you', 34: 'ipv6-i-am-here', 35: 'mobile-registration-request', 36: 'mobile-registration-reply', 37: 'domain-name-request',
  38: 'domain-name-reply', 39: 'skip', 40: 'photuris',
};
const ICMP_CODES: Record<number, Record<number, string>> = {
  3: {
    0: 'network-unreachable', 1: 'host-unreachable', 2: 'protocol-unreachable', 3: 'port-unreachable', 4: 'fragmentation-needed', 5: 'source-route-failed',
    6: 'network-unknown', 7: 'host-unknown', 9: 'network-prohibited', 10: 'host-prohibited', 11: 'TOS-network-unreachable', 12: 'TOS-host-unreachable',
    13: 'communication-prohibited', 14: 'host-precedence-violation', 15: 'precedence-cutoff',
  },
  5: { 0: 'network-redirect', 1: 'host-redirect', 2: 'TOS-network-redirect', 3: 'TOS-host-redirect' },
  11: { 0: 'ttl-zero-during-transit', 1: 'ttl-zero-during-reassembly' },
  12: { 0: 'ip-header-bad', 1: 'required-option-missing' },
  40: { 0: 'bad-spi', 1: 'authentication-failed', 2: 'decompression-failed', 3: 'decryption-failed', 4: 'need-authentification', 5: 'need-authorization' },
};
/** ICMP types whose `unused` field Scapy 2.5 shows as an empty string (its MultipleTypeField default). */
const ICMP_EMPTY_UNUSED = new Set([0, 3, 5, 8, 13, 14, 15, 16, 17, 18]);
const ICMP6_TYPES: Record<number, string> = {
  1: 'Destination unreachable', 2: 'Packet too big', 3: 'Time exceeded', 4: 'Parameter problem', 100: 'Private Experimentation', 101: 'Private Experimentation',
  128: 'Echo Request', 129: 'Echo Reply', 130: 'MLD Query', 131: 'MLD Report', 132: 'MLD Done', 133: 'Router Solicitation', 134: 'Router Advertisement',
  135: 'Neighbor Solicitation', 136: 'Neighbor Advertisement', 137: 'Redirect Message', 138: 'Router Renumbering', 139: 'ICMP Node Information Query',
  140: 'ICMP Node Information Response', 141: 'Inverse Neighbor Discovery Solicitation Message', 142: 'Inverse Neighbor Discovery Advertisement Message',
  143: 'MLD Report Version 2', 144: 'Home Agent Address Discovery Request Message', 145: 'Home Agent Address Discovery Reply Message',
  146: 'Mobile Prefix Solicitation', 147: 'Mobile Prefix Advertisement', 148: 'Certification Path Solicitation', 149: 'Certification Path Advertisement',
  151: 'Multicast Router Advertisement', 152: 'Multicast Router Solicitation', 153: 'Multicast Router Termination', 155: 'RPL Control Message',
  200: 'Private Experimentation', 201: 'Private Experimentation',
};
const IPV6_NH: Record<number, string> = {
  0: 'Hop-by-Hop Option Header', 4: 'IP', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 43: 'Routing Header', 44: 'Fragment Header', 47: 'GRE', 50: 'ESP Header',
  51: 'AH Header', 58: 'ICMPv6', 59: 'No Next Header', 60: 'Destination Option Header', 112: 'VRRP', 132: 'SCTP', 135: 'Mobility Header',
};
const ARP_OPS: Record<number, string> = { 1: 'who-has', 2: 'is-at', 3: 'RARP-req', 4: 'RARP-rep', 5: 'Dyn-RARP-req', 6: 'Dyn-RAR-rep', 7: 'Dyn-RARP-err', 8: 'InARP-req', 9: 'InARP-rep' };
const HARDWARE_TYPES: Record<number, string> = { 1: 'Ethernet (10Mb)', 2: 'Ethernet (3Mb)', 3: 'AX.25', 6: 'IEEE 802 Networks', 32: 'InfiniBand' };
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

const ETHER_TYPES: Record<number, string> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: 'n_802_1Q', 0x88cc: 'LLDP' };

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

function portName(n: number, udp: boolean): string {
  if (udp) {
    udpServices ??= loadNames('/etc/services', 'udp');
    return udpServices.get(n) ?? String(n);
  }
  services ??= loadNames('/etc/services', 'tcp');
  return services.get(n) ?? String(n);
}

function protoName(n: number): string {
  protocols ??= loadNames('/etc/protocols', undefined);
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
    if ((name === 'TCP' || name === 'TCPerror' || name === 'UDP' || name === 'UDPerror') && (spec.name === 'sport' || spec.name === 'dport')) return portName(value, name.startsWith('UDP'));
    if ((name === 'IP' || name === 'IPerror') && spec.name === 'proto') return protoName(value);
    if ((name === 'IPv6' || name === 'IPerror6') && spec.name === 'nh') return IPV6_NH[value] ?? String(value);
    if ((name === 'ICMP' || name === 'ICMPerror') && spec.name === 'type') return ICMP_TYPES[value] ?? String(value);
    if ((name === 'ICMP' || name === 'ICMPerror') && spec.name === 'code') {
      const type = (layer.fields as Record<string, unknown>).type;
      return ICMP_CODES[typeof type === 'number' ? type : 8]?.[value] ?? String(value);
    }
    if (name.startsWith('ICMPv6') && spec.name === 'type') return ICMP6_TYPES[value] ?? String(value);
    if (name === 'ARP' && spec.name === 'op') return ARP_OPS[value] ?? String(value);
    if (name === 'ARP' && spec.name === 'hwtype') return HARDWARE_TYPES[value] ?? '0x' + value.toString(16);
    if (name === 'ARP' && spec.name === 'ptype') return ETHER_TYPES[value] ?? '0x' + value.toString(16);
    if (name === 'Ether' && spec.name === 'type') return ETHER_TYPES[value] ?? '0x' + value.toString(16);
    if (spec.kind === 'flags') return flagsText(spec, value);
    if (spec.hex) return '0x' + value.toString(16);
    return String(value);
  }
  if (value instanceof Uint8Array) return pyBytes(value);
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

export function showLayers(layers: readonly Layer[]): string {
  const lines: string[] = [];
  let indent = '';
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li]!;
    // Scapy stops reading fields when the bytes run out: a last field with no bytes left keeps
    // its default (TCP's options show as '' when nothing follows the header, [] otherwise).
    const bytesFollow = layers.slice(li + 1).some((l) => l.name !== 'Padding');
    lines.push('###[ ' + (DISPLAY_NAMES[layer.name] ?? layer.name) + ' ]### ');
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
