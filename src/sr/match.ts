/**
 * Which captured packet answers which probe: Scapy's two steps, hash then answers().
 *
 * 1. A direction-free key (matchKey) puts a probe and its replies in the same bucket: each
 *    layer gives its part through its own `hashret(above)` (network addresses in a fixed
 *    order, port xor, echo id/seq). An ICMP or ICMPv6 error is keyed by the packet it quotes,
 *    so it lands beside the probe it reports on.
 * 2. Within a bucket, isAnswer() walks both stacks from the network layer up, asking each
 *    reply layer `answers(sentLayer, replyAbove, sentAbove)`. For an error it first checks that
 *    the error came to our source, then walks the quoted headers (IPerror, TCPerror, UDPerror,
 *    ICMPerror...) against what we sent.
 *
 * Layers without those methods get a fallback here, keyed by layer name, and whatever the
 * layer says, a few facts are enforced on top (Scapy's known flaws): UDP and TCP replies must
 * have both ports swapped, echo replies must carry the request's id and seq, quoted headers
 * must carry our addresses and ports. Both stacks should be dissected (the probe from the
 * bytes that left, so computed fields such as proto and src are there).
 */
import type { Layer } from '../layers/layer.js';

/** The optional matching methods a layer may carry (see layers/tcp.ts, layers/ipv6.ts). */
interface Matchable {
  hashret?(above: readonly Layer[]): unknown;
  answers?(other: Layer, selfAbove: readonly Layer[], otherAbove: readonly Layer[]): unknown;
}

type Fields = Record<string, unknown>;

const ICMP_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);
/** ICMPv4 request -> reply types that carry id and seq. */
const ICMP_REPLY_OF = new Map([
  [8, 0],
  [13, 14],
  [15, 16],
  [17, 18],
]);
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;

/** Class names of a layer and its ancestors, most derived first (IPerror -> IP). */
function classNames(layer: Layer): string[] {
  const names: string[] = [];
  let cls = layer.layerClass as unknown as { layerName?: string } | null;
  while (cls && cls.layerName) {
    names.push(cls.layerName);
    cls = Object.getPrototypeOf(cls) as { layerName?: string } | null;
  }
  return names;
}

function isICMPv6(layer: Layer): boolean {
  return 'isICMPv6' in layer || layer.name.startsWith('ICMPv6');
}

/** The protocol a layer speaks, whether it is the real header or a quoted one. */
function family(layer: Layer): string {
  if (isICMPv6(layer)) return 'ICMPv6';
  const names = classNames(layer);
  for (const base of ['IP', 'IPv6', 'TCP', 'UDP', 'ICMP']) if (names.includes(base)) return base;
  const name = layer.name;
  if (name === 'IPerror6') return 'IPv6';
  return name.endsWith('error') ? name.slice(0, -5) : name;
}

function field(layer: Layer, name: string): unknown {
  const given = (layer.fields as Fields)[name];
  if (given !== undefined) return given;
  return (layer as unknown as { get(n: string): unknown }).get(name);
}

function icmpType(layer: Layer): number | undefined {
  const t = (layer as unknown as { icmpType?: unknown }).icmpType;
  if (typeof t === 'number') return t;
  const f = field(layer, 'type');
  return typeof f === 'number' ? f : undefined;
}

function isExtension(layer: Layer): boolean {
  return 'isExtensionHeader' in layer;
}

function isPayload(layer: Layer): boolean {
  return layer.isTrailer || layer.name === 'Raw' || layer.name === 'Padding';
}

/** Index of the first IPv4 or IPv6 header, or -1. */
export function networkIndex(layers: readonly Layer[]): number {
  for (let i = 0; i < layers.length; i++) {
    const f = family(layers[i]!);
    if (f === 'IP' || f === 'IPv6') return i;
  }
  return -1;
}

function skipExtensions(layers: readonly Layer[], i: number): number {
  while (i < layers.length && isExtension(layers[i]!)) i++;
  return i;
}

/** Whether this layer is an ICMP or ICMPv6 error (its payload quotes the offending packet). */
export function isErrorMessage(layer: Layer | undefined): boolean {
  if (!layer) return false;
  const f = family(layer);
  const type = icmpType(layer);
  if (type === undefined) return false;
  if (f === 'ICMP') return ICMP_ERROR_TYPES.has(type);
  if (f === 'ICMPv6') return type < 128;
  return false;
}

/** This layer's part of the key: its own hashret() if it has one, else the fallback below. */
function keyPart(layer: Layer, above: readonly Layer[]): string {
  const fn = (layer as unknown as Matchable).hashret;
  if (typeof fn === 'function') {
    try {
      const v = fn.call(layer, above);
      if (typeof v === 'string') return v;
      if (Buffer.isBuffer(v)) return v.toString('latin1');
      if (v !== undefined && v !== null) return String(v);
      return '';
    } catch {
      // A layer's hashret failing must not lose the packet: fall back.
    }
  }
  return fallbackKeyPart(layer);
}

function fallbackKeyPart(layer: Layer): string {
  switch (family(layer)) {
    case 'IP':
    case 'IPv6': {
      const a = String(field(layer, 'src'));
      const b = String(field(layer, 'dst'));
      return a < b ? a + '>' + b : b + '>' + a;
    }
    case 'TCP':
    case 'UDP':
      return 'p' + ((Number(field(layer, 'sport')) ^ Number(field(layer, 'dport'))) & 0xffff);
    case 'ICMP': {
      const type = icmpType(layer) ?? -1;
      if (ICMP_REPLY_OF.has(type) || [...ICMP_REPLY_OF.values()].includes(type)) return `${field(layer, 'id')}/${field(layer, 'seq')}`;
      return '';
    }
    case 'ICMPv6': {
      const type = icmpType(layer) ?? -1;
      if (type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY) return `${field(layer, 'id')}/${field(layer, 'seq')}`;
      return '';
    }
    default:
      return '';
  }
}

/** The key of a network header and the transport above it (extension headers skipped). */
function keyFrom(layers: readonly Layer[], net: number): string {
  const upper = skipExtensions(layers, net + 1);
  let key = keyPart(layers[net]!, layers.slice(net + 1));
  if (upper < layers.length && !isPayload(layers[upper]!)) key += '|' + keyPart(layers[upper]!, layers.slice(upper + 1));
  return key;
}

/**
 * The direction-free key: equal for a probe and anything that may answer it. '' when the
 * packet has no IP layer (such packets share one bucket).
 */
export function matchKey(layers: readonly Layer[]): string {
  const net = networkIndex(layers);
  if (net < 0) return '';
  const upper = skipExtensions(layers, net + 1);
  if (isErrorMessage(layers[upper])) {
    const quoted = upper + 1;
    if (quoted < layers.length && networkIndex([layers[quoted]!]) === 0) return keyFrom(layers, quoted);
    return '';
  }
  return keyFrom(layers, net);
}

/** Whether `reply` answers `sent` (both as dissected layer stacks). */
export function isAnswer(sent: readonly Layer[], reply: readonly Layer[]): boolean {
  const sn = networkIndex(sent);
  const rn = networkIndex(reply);
  if (sn < 0 || rn < 0) return walk(sent, 0, reply, 0, false);
  const upper = skipExtensions(reply, rn + 1);
  if (isErrorMessage(reply[upper])) {
    // The error must be addressed to the probe's source; its sender may be any router.
    if (field(reply[rn]!, 'dst') !== field(sent[sn]!, 'src')) return false;
    return walk(sent, sn, reply, upper + 1, true);
  }
  return walk(sent, sn, reply, rn, false);
}

/** Layer-by-layer from sent[i] and reply[j]; `quoted`: reply holds the quoted copy of sent. */
function walk(sent: readonly Layer[], i: number, reply: readonly Layer[], j: number, quoted: boolean): boolean {
  let depth = 0;
  let sentDepth = 0;
  for (let k = i; k < sent.length; k++) if (!isPayload(sent[k]!) && !isExtension(sent[k]!)) sentDepth++;
  while (i < sent.length && j < reply.length) {
    const s = sent[i]!;
    const r = reply[j]!;
    if (isPayload(s) || isPayload(r)) break;
    if (!layerAnswers(r, s, reply.slice(j + 1), sent.slice(i + 1), quoted)) return false;
    depth++;
    i = skipExtensions(sent, i + 1);
    j = skipExtensions(reply, j + 1);
  }
  // The reply must reach the probe's transport layer (a quote at least its network header).
  return depth >= Math.min(quoted ? 1 : 2, sentDepth) && depth > 0;
}

function layerAnswers(r: Layer, s: Layer, rAbove: readonly Layer[], sAbove: readonly Layer[], quoted: boolean): boolean {
  if (family(r) !== family(s)) return false;
  if (!enforced(r, s, quoted)) return false;
  const fn = (r as unknown as Matchable).answers;
  if (typeof fn === 'function') {
    try {
      return Boolean(fn.call(r, s, rAbove, sAbove));
    } catch {
      // Fall through to the fallback.
    }
  }
  return fallbackAnswers(r, s, quoted);
}

/** Facts checked whatever a layer's own answers() says (Scapy's known flaws, fixed). */
function enforced(r: Layer, s: Layer, quoted: boolean): boolean {
  switch (family(r)) {
    case 'IP':
    case 'IPv6':
      if (quoted) return field(r, 'src') === field(s, 'src') && field(r, 'dst') === field(s, 'dst');
      return field(r, 'dst') === field(s, 'src');
    case 'TCP':
    case 'UDP':
      if (quoted) return field(r, 'sport') === field(s, 'sport') && field(r, 'dport') === field(s, 'dport');
      return field(r, 'sport') === field(s, 'dport') && field(r, 'dport') === field(s, 'sport');
    case 'ICMP': {
      const st = icmpType(s) ?? -1;
      const rt = icmpType(r) ?? -1;
      if (quoted) {
        if (rt !== st) return false;
        return !ICMP_REPLY_OF.has(st) || (field(r, 'id') === field(s, 'id') && field(r, 'seq') === field(s, 'seq'));
      }
      const want = ICMP_REPLY_OF.get(st);
      if (want === undefined) return false;
      return rt === want && field(r, 'id') === field(s, 'id') && field(r, 'seq') === field(s, 'seq');
    }
    case 'ICMPv6': {
      const st = icmpType(s) ?? -1;
      const rt = icmpType(r) ?? -1;
      if (st !== ICMPV6_ECHO_REQUEST) return quoted ? rt === st : true;
      if (quoted) return rt === st && field(r, 'id') === field(s, 'id') && field(r, 'seq') === field(s, 'seq');
      return rt === ICMPV6_ECHO_REPLY && field(r, 'id') === field(s, 'id') && field(r, 'seq') === field(s, 'seq');
    }
    default:
      return true;
  }
}

/** answers() for layers that have none: by protocol, after enforced() passed. */
function fallbackAnswers(r: Layer, s: Layer, quoted: boolean): boolean {
  switch (family(r)) {
    case 'IP': {
      if (field(r, 'proto') !== field(s, 'proto')) return false;
      return quoted || field(r, 'src') === field(s, 'dst') || isGroupAddress(String(field(s, 'dst')));
    }
    case 'IPv6':
      return quoted || field(r, 'src') === field(s, 'dst') || isGroupAddress(String(field(s, 'dst')));
    case 'TCP':
      // Ports checked in enforced(); a quoted TCP header must also carry our sequence number.
      return !quoted || (r.fields as Fields).seq === undefined || field(r, 'seq') === field(s, 'seq');
    default:
      return true;
  }
}

function isGroupAddress(addr: string): boolean {
  if (addr.includes(':')) return addr.toLowerCase().startsWith('ff');
  const first = parseInt(addr, 10);
  return addr === '255.255.255.255' || (first >= 224 && first <= 239);
}
