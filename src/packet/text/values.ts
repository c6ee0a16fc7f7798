/**
 * Gives the parsed text form its meaning: layer calls become layers (through their own
 * constructors, so validation is shared with the TypeScript API), Python literals become the
 * values each field kind takes, option calls become option objects, and tuples or lists in
 * number and address fields become packet sets.
 */
import type { FieldSpec } from '../../layers/field.js';
import { FieldSet } from '../../layers/field-set.js';
import { IP_OPTION_VARIANTS, checkIPOption, readIPOptions, type IPOption } from '../../layers/ipv4-options.js';
import { IPV6_EXT_OPTION_VARIANTS, checkIPv6ExtOption, type IPv6ExtOption } from '../../layers/ipv6-ext-options.js';
import type { Layer, LayerClass } from '../../layers/layer.js';
import { checkGroupRecord, type IGMPv3GroupRecord } from '../../layers/igmp.js';
import { RawLayer } from '../../layers/raw.js';
import { TCP_OPTION_KINDS } from '../../layers/tcp-options.js';
import { TCPLayer } from '../../layers/tcp.js';
import { layerByName, layerNames } from '../../layers/registry.js';
import { isIPv4, isIPv6 } from '../../wire/addr.js';
import { SynackError, didYouMean } from '../../wire/errors.js';
import { dissectLayers } from '../dissect.js';
import { fuzz } from '../fuzz.js';
import { Packet, buildPacket } from '../packet.js';
import { isRandomValue, randomValue } from './random-values.js';
import { TEXT_LIMITS, clip, textError } from './lexer.js';
import type { Keyword, Node } from './parser.js';

/** Calls that make option objects rather than layers: name -> how to check the object. */
const OPTION_MAKERS = new Map<string, (opt: Record<string, unknown>) => unknown>();
for (const name of Object.keys(IP_OPTION_VARIANTS)) OPTION_MAKERS.set(name, (o) => checkIPOption(o as unknown as IPOption));
for (const name of Object.keys(IPV6_EXT_OPTION_VARIANTS)) OPTION_MAKERS.set(name, (o) => checkIPv6ExtOption(o as unknown as IPv6ExtOption));
// IGMPv3 group records are packets in Scapy, list items of IGMPv3mr(records=[...]) here.
OPTION_MAKERS.set('IGMPv3gr', (o) => checkGroupRecord(o as IGMPv3GroupRecord));

const CONSTANTS: Record<string, unknown> = { None: null, True: 1, False: 0 };

/**
 * Bytes made so far by one expression's values (TEXT_LIMITS.expressionBytes bounds the sum,
 * TEXT_LIMITS.valueBytes each one). Checked before a repetition is built, never after.
 */
export interface Budget {
  bytes: number;
}

export function newBudget(): Budget {
  return { bytes: 0 };
}

function spend(budget: Budget, bytes: number, column: number, what: string): void {
  if (bytes > TEXT_LIMITS.valueBytes) {
    throw textError(column, `${what} would hold ${bytes} bytes; a value holds at most ${TEXT_LIMITS.valueBytes} (64 KiB, as IPv4's 16-bit total length bounds a packet)`);
  }
  budget.bytes += bytes;
  if (budget.bytes > TEXT_LIMITS.expressionBytes) {
    throw textError(column, `the values of this expression hold more than ${TEXT_LIMITS.expressionBytes} bytes together`);
  }
}

/**
 * fuzz(IP(dst='127.0.0.1')/TCP()): Scapy's fuzz() in the text form, the layers with a random
 * value in every field neither given nor computed (fuzz() of the API). Give dst: an address
 * left to fuzz is random too.
 */
function fuzzedLayers(node: Node & { type: 'call' }, budget: Budget): Layer[] {
  const [inner] = node.args;
  if (node.args.length !== 1 || node.kwargs.length > 0 || inner === undefined) {
    throw textError(node.column, "fuzz() takes one packet: fuzz(IP(dst='127.0.0.1')/TCP())");
  }
  const layers = (inner.type === 'chain' ? inner.layers : [inner]).flatMap((l) => layersOf(l, budget));
  return fuzz(new Packet(layers)).layers;
}

/** The layers one node of the expression stands for (a call with raw bytes can dissect to several). */
export function layersOf(node: Node, budget: Budget = newBudget()): Layer[] {
  if (node.type === 'str' || node.type === 'bytes' || node.type === 'repeat') {
    return [new RawLayer({ load: toBuffer(node, budget) })];
  }
  if (node.type !== 'call') throw textError(node.column, 'expected a layer like TCP() or a payload string');
  if (node.name === 'fuzz' && !layerByName('fuzz')) return fuzzedLayers(node, budget);
  const cls = layerByName(node.name);
  if (!cls) {
    if (OPTION_MAKERS.has(node.name)) throw textError(node.column, `${node.name}() is an option, not a layer: put it in the options list, e.g. IP(options=[${node.name}()])`);
    throw textError(node.column, `unknown layer '${clip(node.name)}'${didYouMean(node.name, layerNames())}`);
  }
  if (node.args.length > 1) throw textError(node.args[1]!.column, `${node.name}() takes at most one value without a name (bytes to dissect); name the fields: field=value`);
  const fields: Record<string, unknown> = {};
  for (const kw of node.kwargs) fields[kw.name] = fieldValue(cls, kw, budget);
  const layer = construct(cls, fields, node);
  if (node.args.length === 0) return [layer];
  // IP(b'E\x00...') dissects the bytes from this layer on, as Scapy does; named fields override the first layer's.
  const buf = toBuffer(node.args[0]!, budget);
  const layers = dissectLayers(buf, 0, buf.length, cls, false);
  if (layers.length === 0) return [layer];
  Object.assign(layers[0]!.fields, layer.fields);
  layers[0]!.hasSets ||= layer.hasSets;
  return layers;
}

/**
 * The spec of a field. A name can appear more than once with different widths, each under its
 * own condition (ICMP's unused is 16 or 32 bits by type): the widest one bounds the value.
 */
function specOf(cls: LayerClass, kw: Keyword): FieldSpec {
  let spec: FieldSpec | undefined;
  for (const s of cls.fieldSpecs) if (s.name === kw.name && (!spec || (s.bits ?? 0) > (spec.bits ?? 0))) spec = s;
  if (!spec) {
    const names = cls.fieldSpecs.map((s) => s.name);
    throw textError(kw.column, `unknown field '${clip(kw.name)}' for ${cls.layerName}${didYouMean(kw.name, names)}; fields are: ${names.join(', ')}`);
  }
  return spec;
}

/** A field's value as its kind takes it; tuples and lists in number and address fields make sets. */
function fieldValue(cls: LayerClass, kw: Keyword, budget: Budget): unknown {
  const spec = specOf(cls, kw);
  const node = kw.value;
  const where = `${cls.layerName} ${spec.name}`;
  // A record section given None is empty (DNS(qd=None) asks no question), as in Scapy.
  if (node.type === 'name' && node.name === 'None') return spec.kind === 'packets' ? [] : undefined;
  if (isRandomValue(node)) return randomValue(node, spec, where);
  if (node.type === 'chain') {
    // Records chained with '/' are a list of them (DNS(an=DNSRR(...)/DNSRR(...)), as in Scapy.
    if (spec.kind === 'packets') return node.layers.flatMap((l) => layersOf(l, budget));
    // A packet as a field's value is its bytes (Scapy builds it into the field).
    if (spec.kind !== 'bytes') throw textError(node.column, `${where} takes ${spec.kind === 'int' ? 'a number' : 'a value'}, not a packet; a packet goes in a bytes field`);
    const layers = node.layers.flatMap((l) => layersOf(l, budget));
    const bytes = buildPacket(layers);
    spend(budget, bytes.length, node.column, where);
    return bytes;
  }
  switch (spec.kind) {
    case 'int':
    case 'flags': {
      if (node.type === 'tuple') return new FieldSet(spec.kind, [rangeOf(node, spec, where)], true);
      if (node.type === 'list') {
        if (node.items.length === 0) throw textError(node.column, `${where}: an empty list makes no packets`);
        return node.items.map((item) => (item.type === 'tuple' ? rangeOf(item, spec, where) : scalarOf(item, spec, where)));
      }
      return scalarOf(node, spec, where);
    }
    case 'ipv4':
    case 'ipv6':
    case 'mac': {
      if (node.type === 'list') {
        if (node.items.length === 0) throw textError(node.column, `${where}: an empty list makes no packets`);
        return node.items.map((item) => addressOf(item, spec, where));
      }
      return addressOf(node, spec, where);
    }
    case 'bytes':
      return toBuffer(node, budget, where);
    case 'options':
      return optionsOf(cls, node, where, budget);
    case 'packets': {
      // Scapy's PacketListField (DNS qd=DNSQR(...)): one layer call, or a list of them.
      const items = node.type === 'list' || node.type === 'tuple' ? node.items : [node];
      for (const item of items) if (item.type !== 'call') throw textError(item.column, `${where} takes records like ${spec.name === 'qd' ? "DNSQR(qname='example.test')" : "DNSRR(rrname='example.test', rdata='192.0.2.1')"}, not ${describe(item)}`);
      return items.flatMap((item) => layersOf(item, budget));
    }
    case 'list': {
      if (node.type !== 'list' && node.type !== 'tuple') throw textError(node.column, `${where} takes a list like ['2001:db8::1'], not ${describe(node)}`);
      for (const item of node.items) if (item.type !== 'str') throw textError(item.column, `${where} takes addresses in quotes, not ${describe(item)}`);
      return plain(node, budget);
    }
    default:
      return plain(node, budget);
  }
}

/**
 * An options list, checked for its shape before the layer sees it: TCP options are tuples
 * (name or kind, value), every other layer's options are option calls like IPOption_NOP().
 */
function optionsOf(cls: LayerClass, node: Node, where: string, budget: Budget): unknown {
  const tcpLike = cls === TCPLayer || cls.prototype instanceof TCPLayer;
  // As Scapy takes them: the options' bytes (options='\x02'), or one option without a list (options=HAO(...)).
  if (!tcpLike && (node.type === 'str' || node.type === 'bytes')) return toBuffer(node, budget, where);
  if (!tcpLike && node.type === 'call') return [plain(node, budget)];
  if (node.type !== 'list' && node.type !== 'tuple') {
    const example = cls === TCPLayer || cls.prototype instanceof TCPLayer ? "[('MSS', 1460), ('NOP', None)]" : cls.layerName === 'IP' ? '[IPOption_NOP()]' : '[PadN(optdata=b\'\\x00\')]';
    throw textError(node.column, `${where} takes a list like ${example}, not ${describe(node)}`);
  }
  // DHCP's options are Python tuples and names, taken as they are (the layer checks them).
  if ((cls as { plainOptions?: boolean }).plainOptions) return plain(node, budget);
  // TCP and the TCP header an ICMP error quotes (TCPerror) share TCP's options.
  const tcp = cls === TCPLayer || cls.prototype instanceof TCPLayer;
  for (const item of node.items) {
    if (tcp) checkTCPOptionNode(item, where);
    else if (item.type !== 'call') throw textError(item.column, `${where}: each option is a call like ${cls.layerName === 'IP' ? 'IPOption_NOP()' : 'Pad1()'}, not ${describe(item)}`);
  }
  return plain(node, budget);
}

/** How each named TCP option takes its value (bytes are always accepted, for crafted options). */
const TCP_OPTION_VALUES: Record<string, 'u8' | 'u16' | 'pair' | 'blocks' | 'none'> = {
  EOL: 'none', NOP: 'none', SAckOK: 'none', AltChkSumOpt: 'none',
  MSS: 'u16', UTO: 'u16', WScale: 'u8',
  Timestamp: 'pair', TFO: 'pair', AltChkSum: 'pair',
  SAck: 'blocks',
};

function checkTCPOptionNode(item: Node, where: string): void {
  if ((item.type !== 'tuple' && item.type !== 'list') || item.items.length < 1 || item.items.length > 2) {
    throw textError(item.column, `${where}: each option is a pair (name, value), like ('MSS', 1460) or ('NOP', None); not ${describe(item)}`);
  }
  const [name, value] = item.items as [Node, Node | undefined];
  if (name.type === 'int') {
    if (name.value < 0 || name.value > 255) throw textError(name.column, `${where}: option kinds are 0-255, not ${name.value}`);
    if (name.value > 1 && value && !isBytesNode(value) && !isNone(value)) throw textError(value.column, `${where}: option kind ${name.value} takes its value as bytes, like b'\\x01\\x02'`);
    return;
  }
  if (name.type !== 'str') throw textError(name.column, `${where}: an option's name is a string like 'MSS' or a kind number, not ${describe(name)}`);
  if (!Object.hasOwn(TCP_OPTION_KINDS, name.value) && name.value !== 'bytes' && name.value !== 'unknown') {
    throw textError(name.column, `unknown TCP option '${clip(name.value)}'${didYouMean(name.value, Object.keys(TCP_OPTION_KINDS))}; or give (kind, bytes)`);
  }
  const shape = Object.hasOwn(TCP_OPTION_VALUES, name.value) ? TCP_OPTION_VALUES[name.value] : undefined;
  if (!shape || !value || isNone(value) || isBytesNode(value)) return; // unknown names: the layer says which it knows
  const ints = (n: Node): n is Node & { type: 'tuple' | 'list' } =>
    (n.type === 'tuple' || n.type === 'list') && n.items.every((x) => x.type === 'int' && x.value >= 0 && x.value <= 0xffffffff);
  const ok =
    shape === 'u8' ? value.type === 'int' && value.value >= 0 && value.value <= 0xff
    : shape === 'u16' ? value.type === 'int' && value.value >= 0 && value.value <= 0xffff
    : shape === 'pair' ? ints(value) && value.items.length === 2
    : shape === 'blocks' ? ints(value) && value.items.length <= 16
    : false;
  if (!ok) {
    const wants = { u8: 'a number 0-255', u16: 'a number 0-65535', pair: 'a pair of 32-bit numbers like (1, 0)', blocks: 'a tuple of 32-bit sequence numbers like (1000, 2000)', none: 'None or b\'\'' }[shape];
    throw textError(value.column, `${where}: option '${name.value}' takes ${wants}, not ${describe(value)}`);
  }
}

function isNone(node: Node): boolean {
  return node.type === 'name' && node.name === 'None';
}

function isBytesNode(node: Node): boolean {
  return node.type === 'bytes' || node.type === 'str' || node.type === 'repeat';
}

function scalarOf(node: Node, spec: FieldSpec, where: string): number | string {
  if (node.type === 'int') {
    const max = 2 ** (spec.bits ?? 32) - 1;
    if (node.value < 0 || node.value > max) throw textError(node.column, `${where} takes 0 to ${max}${spec.hex ? ` (0x${max.toString(16)})` : ''}, not ${node.value}`);
    return node.value;
  }
  if (node.type === 'name' && Object.hasOwn(CONSTANTS, node.name) && node.name !== 'None') return CONSTANTS[node.name] as number;
  // Flag letters, and names a layer may accept for a number (left for its constructor to judge).
  if (node.type === 'str') return node.value;
  throw textError(node.column, `${where} takes a number${spec.kind === 'flags' ? " or flag letters like 'SA'" : ''}, not ${describe(node)}`);
}

/** (low, high): an inclusive range, Scapy's way of writing one in a set. */
function rangeOf(node: Node & { type: 'tuple' }, spec: FieldSpec, where: string): [number, number] {
  const [lo, hi] = node.items;
  if (node.items.length !== 2 || lo!.type !== 'int' || hi!.type !== 'int') {
    throw textError(node.column, `${where}: a range is a pair of numbers (low, high), like (1000, 1010)`);
  }
  const low = scalarOf(lo!, spec, where) as number;
  const high = scalarOf(hi!, spec, where) as number;
  if (low > high) throw textError(node.column, `${where}: range (${low}, ${high}) runs backwards; write (${high}, ${low})`);
  return [low, high];
}

function addressOf(node: Node, spec: FieldSpec, where: string): string {
  if (node.type !== 'str') throw textError(node.column, `${where} takes an address in quotes, like '${example(spec)}', not ${describe(node)}`);
  const text = spec.kind === 'ipv4' ? expandShortIPv4(node.value) : node.value;
  const [addr, prefix] = text.split('/');
  const ok = spec.kind === 'ipv4' ? isIPv4(addr!) : spec.kind === 'ipv6' ? isIPv6(addr!) : MAC_RE.test(text);
  if (!ok) {
    const kind = spec.kind === 'ipv4' ? 'IPv4' : spec.kind === 'ipv6' ? 'IPv6' : 'MAC';
    throw textError(node.column, `bad ${kind} address '${clip(text)}' for ${where}: write it like '${example(spec)}' (host names are not looked up)`);
  }
  if (prefix !== undefined && spec.kind === 'mac') throw textError(node.column, `${where}: MAC addresses take no prefix length`);
  return text;
}

/**
 * The short forms inet_aton reads, which Scapy takes too: '172.16.5' is 172.16.0.5 (the last
 * part fills the low 16 bits), '10.1' is 10.0.0.1, '167772161' is 10.0.0.1; a prefix stays.
 * Anything else is returned as it was (and judged by the caller).
 */
function expandShortIPv4(text: string): string {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(\/\d+)?$/.exec(text);
  if (!m) return text;
  const parts = [m[1], m[2], m[3]].filter((x): x is string => x !== undefined).map(Number);
  const last = parts.pop()!;
  const lastBytes = 4 - parts.length;
  if (parts.some((p) => p > 255) || last >= 2 ** (8 * lastBytes)) return text;
  const bytes = [...parts];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.') + (m[4] ?? '');
}

const MAC_RE = /^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$/;

function example(spec: FieldSpec): string {
  return spec.kind === 'ipv4' ? '127.0.0.1' : spec.kind === 'ipv6' ? '::1' : '00:11:22:33:44:55';
}

/** Python's str and bytes as bytes: text is UTF-8 encoded, as Scapy's bytes_encode does. */
function toBuffer(node: Node, budget: Budget, where = 'a payload'): Buffer {
  switch (node.type) {
    case 'bytes':
      spend(budget, node.value.length, node.column, where);
      return node.value;
    case 'str': {
      const b = Buffer.from(node.value, 'utf8');
      spend(budget, b.length, node.column, where);
      return b;
    }
    case 'repeat': {
      const { bytes, times } = repetition(node);
      const one = toBuffer(bytes, budget, where);
      spend(budget, one.length * times, node.column, where);
      return Buffer.from(one.toString('latin1').repeat(times), 'latin1');
    }
    default:
      throw textError(node.column, `${where} takes bytes like b'\\x01\\x02' or a string, not ${describe(node)}`);
  }
}

/** 'A'*100 or 100*'A': which side is the string, and how many times. */
function repetition(node: Node & { type: 'repeat' }): { bytes: Node; times: number } {
  const [bytes, count] = node.times.type === 'int' ? [node.value, node.times] : [node.times, node.value];
  if (count.type !== 'int' || count.value < 0) throw textError(node.column, "'*' repeats a string or bytes a number of times, like b'A'*100");
  if (count.value > 1 << 20) throw textError(node.column, `repeating ${count.value} times makes too large a value`);
  return { bytes, times: count.value };
}

/** Values with no field kind to guide them (options lists, address lists): Python's shapes as JS's. */
function plain(node: Node, budget: Budget): unknown {
  switch (node.type) {
    case 'int':
      return node.value;
    case 'str':
      spend(budget, node.value.length, node.column, 'a string');
      return node.value;
    case 'bytes':
      spend(budget, node.value.length, node.column, 'bytes');
      return node.value;
    case 'repeat': {
      const { bytes, times } = repetition(node);
      if (bytes.type === 'str') {
        spend(budget, bytes.value.length * times, node.column, 'a repeated string');
        return bytes.value.repeat(times);
      }
      return toBuffer(node, budget);
    }
    case 'tuple':
    case 'list':
      return node.items.map((item) => plain(item, budget));
    case 'name':
      if (Object.hasOwn(CONSTANTS, node.name)) return CONSTANTS[node.name];
      throw textError(node.column, `unknown name '${clip(node.name)}'${didYouMean(node.name, [...Object.keys(CONSTANTS), ...OPTION_MAKERS.keys()])}: strings need quotes`);
    case 'call':
      return optionOf(node, budget);
    case 'chain':
      throw textError(node.column, 'a packet goes only in a bytes field');
  }
}

/** IPOption_RR(routers=['10.0.0.1']) -> {name: 'IPOption_RR', routers: [...]}, checked by the option's own module. */
function optionOf(node: Node & { type: 'call' }, budget: Budget): unknown {
  const check = OPTION_MAKERS.get(node.name);
  if (!check) {
    const hint = layerByName(node.name) ? ' (a layer cannot go inside a field)' : didYouMean(node.name, OPTION_MAKERS.keys());
    throw textError(node.column, `unknown option '${clip(node.name)}'${hint}`);
  }
  if (node.args.length > 0) {
    const arg = node.args[0]!;
    if (node.args.length > 1 || !node.name.startsWith('IPOption') || arg.type !== 'bytes') {
      throw textError(arg.column, `${node.name}() takes named fields, like ${node.name}(${firstField(node.name)}=...)`);
    }
    // IPOption(b'\x94\x04\x00\x00'): the bytes of one option, read as the dissector would.
    const read = readIPOptions(arg.value, 0, arg.value.length, []);
    if (read.length !== 1) throw textError(arg.column, `${node.name}(): the bytes hold ${read.length} options, not one`);
    return read[0];
  }
  const opt: Record<string, unknown> = { name: node.name };
  for (const kw of node.kwargs) {
    const v = kw.value.type === 'name' && kw.value.name === 'None' ? undefined : plain(kw.value, budget);
    if (v !== undefined) opt[kw.name] = v;
  }
  try {
    return check(opt);
  } catch (err) {
    const bad = node.kwargs.find((kw) => err instanceof Error && err.message.includes(`'${kw.name}'`));
    throw rethrow(err, bad?.column ?? node.column);
  }
}

function firstField(name: string): string {
  const fields = (IP_OPTION_VARIANTS as Record<string, { fields: readonly string[] }>)[name]?.fields ??
    (IPV6_EXT_OPTION_VARIANTS as Record<string, { fields: readonly string[] }>)[name]?.fields ?? [];
  return fields.at(-1) ?? 'field';
}

/**
 * Makes the layer through its constructor. A constructor's error (a bad flag letter) is blamed
 * on the field that causes it, found by trying the fields one at a time: that runs only on the
 * error path.
 */
function construct(cls: LayerClass, fields: Record<string, unknown>, node: Node & { type: 'call' }): Layer {
  let layer: Layer;
  try {
    layer = new cls(fields);
  } catch (err) {
    throw rethrow(err, blame(cls, fields, node));
  }
  // A string given for a number field that the layer did not turn into one (an enum name it does not know).
  for (const kw of node.kwargs) {
    const spec = cls.fieldSpecs.find((s) => s.name === kw.name)!;
    const stored = (layer.fields as Record<string, unknown>)[kw.name];
    if (spec.kind === 'int' && typeof stored === 'string') {
      throw textError(kw.value.column, `${cls.layerName} ${kw.name} takes a number, not '${clip(stored)}'`);
    }
  }
  return layer;
}

function blame(cls: LayerClass, fields: Record<string, unknown>, node: Node & { type: 'call' }): number {
  for (const kw of node.kwargs) {
    try {
      new cls({ [kw.name]: fields[kw.name] });
    } catch {
      return kw.value.column;
    }
  }
  return node.column;
}

/**
 * A layer's own error, placed at the column that caused it. Anything else a constructor throws
 * (a value of a shape it did not expect) still comes out as one usage line: the text form
 * answers every input with a packet or a SynackError.
 */
function rethrow(err: unknown, column: number): Error {
  if (err instanceof SynackError) return textError(column, clip(err.message, 300));
  return textError(column, `this value does not fit the field (${clip(err instanceof Error ? err.message : String(err), 120)})`);
}

function describe(node: Node): string {
  switch (node.type) {
    case 'int':
      return String(node.value);
    case 'str':
      return `'${clip(node.value)}'`;
    case 'bytes':
      return 'bytes';
    case 'name':
      return `'${clip(node.name)}'`;
    case 'tuple':
      return 'a tuple';
    case 'list':
      return 'a list';
    case 'call':
      return `${clip(node.name)}()`;
    case 'repeat':
      return 'a repetition';
    case 'chain':
      return 'a packet';
  }
}
