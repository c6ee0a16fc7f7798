/**
 * IPv6 (RFC 8200). Scapy's names and defaults: version 6, tc 0, fl 0, hlim 64, dst ::1. plen
 * and nh are computed when unset (nh from the layer above, 59 "no next header" when there is
 * none). src follows dst's route at send time; toward ::1 it is ::1 (what the route would
 * say), otherwise :: until the sender fills it, so builds stay deterministic.
 *
 * Upper-layer checksums (TCP, UDP, ICMPv6) sum the pseudo-header of RFC 8200 §8.1 through
 * pseudoSum(); extension headers between may change its addresses (see ipv6-ext.ts).
 */
import { sumWords } from '../wire/checksum.js';
import { formatIPv6, parseIPv6 } from '../wire/addr.js';
import type { FieldSpec } from './field.js';
import { computedInt, intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, boundLayer, boundValue, registerLayer } from './registry.js';
import { IPerrorLayer, IPv4Layer } from './ipv4.js';
import { EtherLayer } from './ether.js';
import { CookedLinuxLayer, CookedLinuxV2Layer } from './sll.js';
import { LoopbackLayer } from './loopback.js';

export interface IPv6Fields {
  version: number;
  tc: number;
  fl: number;
  plen: number;
  nh: number;
  hlim: number;
  src: string;
  dst: string;
}

/** Scapy's names for next-header values, as show() prints them. */
const IPV6_NH_NAMES: Readonly<Record<number, string>> = {
  0: 'Hop-by-Hop Option Header', 4: 'IP', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 43: 'Routing Header', 44: 'Fragment Header', 47: 'GRE', 50: 'ESP Header',
  51: 'AH Header', 58: 'ICMPv6', 59: 'No Next Header', 60: 'Destination Option Header', 112: 'VRRP', 132: 'SCTP', 135: 'Mobility Header',
};

const ipv6Fields: readonly FieldSpec[] = [
  intField('version', 4, 6),
  intField('tc', 8, 0),
  intField('fl', 20, 0),
  computedInt('plen', 16),
  computedInt('nh', 8, { default: 59, names: IPV6_NH_NAMES }),
  intField('hlim', 8, 64),
  { name: 'src', kind: 'ipv6', computed: true },
  { name: 'dst', kind: 'ipv6', default: '::1' },
];

/** Next-header values of the extension headers (hop-by-hop, routing, fragment, destination options). */
export const IPV6_EXTENSION_HEADERS: ReadonlySet<number> = new Set([0, 43, 44, 60]);

/**
 * Address bytes by text. Building parses the same few addresses over and over (ipaddr.js is
 * not cheap), so parsed forms are kept; the cache is dropped whole when it grows too big.
 */
const addressCache = new Map<string, Buffer>();

export function ipv6Bytes(text: string): Buffer {
  let bytes = addressCache.get(text);
  if (bytes === undefined) {
    bytes = parseIPv6(text);
    if (addressCache.size >= 4096) addressCache.clear();
    addressCache.set(text, bytes);
  }
  return bytes;
}

/**
 * Address text by bytes, for dissection: a capture repeats the same few addresses, and
 * formatting one costs more than the rest of the header. A small direct-mapped cache keyed
 * by the four 32-bit words; a hit is four compares.
 */
const TEXT_SLOTS = 256;
const textWords = new Int32Array(TEXT_SLOTS * 4);
const textStrings: (string | undefined)[] = new Array<string | undefined>(TEXT_SLOTS).fill(undefined);

export function ipv6Text(buf: Buffer, off: number): string {
  const w0 = buf.readInt32BE(off);
  const w1 = buf.readInt32BE(off + 4);
  const w2 = buf.readInt32BE(off + 8);
  const w3 = buf.readInt32BE(off + 12);
  let h = w0 ^ w1 ^ w2 ^ w3;
  h = (h ^ (h >>> 16) ^ (h >>> 8)) & (TEXT_SLOTS - 1);
  const i = h * 4;
  const cached = textStrings[h];
  if (cached !== undefined && textWords[i] === w0 && textWords[i + 1] === w1 && textWords[i + 2] === w2 && textWords[i + 3] === w3) return cached;
  const text = formatIPv6(buf, off);
  textWords[i] = w0;
  textWords[i + 1] = w1;
  textWords[i + 2] = w2;
  textWords[i + 3] = w3;
  textStrings[h] = text;
  return text;
}

export function isMulticastV6(text: string): boolean {
  return ipv6Bytes(text)[0] === 0xff;
}

/** Whether two address texts name the same address (::1 and 0::1 do). */
export function sameIPv6(a: string, b: string): boolean {
  return a === b || ipv6Bytes(a).equals(ipv6Bytes(b));
}

/** Fields a layer above may impose on the IPv6 header directly below it when they are unset (Scapy's overload_fields). */
export interface IPv6Overload {
  readonly dst?: string;
  readonly hlim?: number;
}

/** What extension headers tell the pseudo-header (ipv6-ext.ts implements it; duck-typed to avoid an import cycle). */
interface PseudoHeaderHints {
  /** The final destination a routing header names, when it changes the pseudo-header. */
  finalDestination(): string | undefined;
  /** The home address a destination-options header carries, which replaces the source. */
  homeAddress(): string | undefined;
  /** The next-header value this header writes, given the layer above it. */
  nextHeader(upper: Layer | undefined): number;
}

function overloadOf(upper: Layer | undefined): IPv6Overload | undefined {
  return upper ? (upper.layerClass as { ipv6Overload?: IPv6Overload }).ipv6Overload : undefined;
}

function isExtension(layer: Layer | undefined): layer is Layer & PseudoHeaderHints {
  return layer !== undefined && 'isExtensionHeader' in layer;
}

/** An ICMPv6 error layer (icmpv6.ts), recognised without importing it. */
function icmpv6Type(layer: Layer | undefined): number | undefined {
  if (layer === undefined || !('isICMPv6' in layer)) return undefined;
  return (layer as unknown as { icmpType: number }).icmpType;
}

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface IPv6Layer extends Omit<FieldValues<IPv6Fields>, 'src' | 'dst'> {}

export class IPv6Layer extends Layer<IPv6Fields> {
  static readonly layerName: string = 'IPv6';
  static readonly fieldSpecs = ipv6Fields;

  override get isNetworkLayer(): boolean {
    return true;
  }

  protected override normalize(fields: Partial<IPv6Fields>): Partial<IPv6Fields> {
    super.normalize(fields);
    // Parse now, so a bad address fails where it was written rather than at build.
    if (fields.src !== undefined) ipv6Bytes(fields.src);
    if (fields.dst !== undefined) ipv6Bytes(fields.dst);
    return fields;
  }

  /** The destination as built on top of `upper` (Neighbor Solicitation sends to ff02::1 unless told). */
  destination(upper?: Layer): string {
    return this.fields.dst ?? overloadOf(upper)?.dst ?? '::1';
  }

  /** The source as built: given, else ::1 toward ::1, else :: until the sender fills it from the route. */
  source(upper?: Layer): string {
    if (this.fields.src !== undefined) return this.fields.src;
    return sameIPv6(this.destination(upper), '::1') ? '::1' : '::';
  }

  get dst(): string {
    return this.destination();
  }

  get src(): string {
    return this.source();
  }

  /** The next-header value as built on top of `upper`: given, else the binding, else 59. */
  nextHeader(upper: Layer | undefined): number {
    if (this.fields.nh !== undefined) return this.fields.nh;
    if (upper === undefined) return 59;
    return boundValue(this.layerClass, upper.layerClass, 'nh') ?? 59;
  }

  headerLength(): number {
    return 40;
  }

  encode(out: Buffer, off: number, payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    const upper = ctx.layers[index + 1];
    const word = (((f.version ?? 6) & 15) << 28) | (((f.tc ?? 0) & 0xff) << 20) | ((f.fl ?? 0) & 0xfffff);
    out.writeUInt32BE(word >>> 0, off);
    out.writeUInt16BE((f.plen ?? payloadLength) & 0xffff, off + 4);
    out[off + 6] = this.nextHeader(upper) & 0xff;
    out[off + 7] = (f.hlim ?? overloadOf(upper)?.hlim ?? 64) & 0xff;
    ipv6Bytes(this.source(upper)).copy(out, off + 8);
    ipv6Bytes(this.destination(upper)).copy(out, off + 24);
  }

  /**
   * The pseudo-header sum for an upper-layer checksum, as Scapy's in6_chksum computes it. The
   * length is the upper layer's real length (a plen given by the user does not enter it). The
   * destination is the last address of the routing header nearest the upper layer that has
   * segments left; the source is the home address of a destination-options header that holds
   * only that option. Only extension headers may lie between this header and the upper layer.
   */
  pseudoSum(out: Buffer, off: number, upperProto: number, upperLength: number, ctx: BuildContext, index: number): number {
    let srcSum: number | undefined;
    let dstSum: number | undefined;
    for (let i = index + 1; i < ctx.layers.length; i++) {
      const layer = ctx.layers[i];
      if (!isExtension(layer)) break;
      const finalDst = layer.finalDestination();
      if (finalDst !== undefined) dstSum = sumWords(ipv6Bytes(finalDst), 0, 16);
      const home = layer.homeAddress();
      if (home !== undefined && srcSum === undefined) srcSum = sumWords(ipv6Bytes(home), 0, 16);
    }
    srcSum ??= sumWords(out, off + 8, off + 24);
    dstSum ??= sumWords(out, off + 24, off + 40);
    return srcSum + dstSum + lengthSum(upperLength) + upperProto;
  }

  /** Address sums as they were on the wire (or as extension headers decoded after this one replaced them). */
  private wireSrcSum: number | undefined;
  private wireDstSum: number | undefined;

  /** Pseudo-header sum for verifying a dissected upper layer's checksum. */
  pseudoSumDecoded(upperProto: number, upperLength: number): number {
    return (this.wireSrcSum ?? 0) + (this.wireDstSum ?? 0) + lengthSum(upperLength) + upperProto;
  }

  /** Called by a dissected routing header with segments left: the checksum is over its last address. */
  useDecodedFinalDestination(buf: Buffer, off: number): void {
    this.wireDstSum = sumWords(buf, off, off + 16);
  }

  /** Called by a dissected destination-options header with a home address; the first one (nearest this header) wins. */
  useDecodedHomeAddress(buf: Buffer, off: number): void {
    if (this.homeAddressSeen) return;
    this.homeAddressSeen = true;
    this.wireSrcSum = sumWords(buf, off, off + 16);
  }

  private homeAddressSeen: boolean | undefined;

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const avail = end - off;
    if (avail < 40) {
      layer.readPartial(buf, off, end);
      layer.truncatedTo = Math.max(avail, 0);
      layer.addProblem('[|ip6]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    const f = layer.fields;
    layer.readWhole(buf, off);
    layer.wireSrcSum = sumWords(buf, off + 8, off + 24);
    layer.wireDstSum = sumWords(buf, off + 24, off + 40);
    if (f.version !== 6) layer.addProblem(`ip v${f.version}`);
    const plen = f.plen!;
    let payloadEnd = off + 40 + plen;
    if (plen === 0 && f.nh === 0) {
      // A jumbogram (RFC 2675): the length is in the hop-by-hop Jumbo option; take all there is.
      payloadEnd = end;
    } else if (payloadEnd > end) {
      if (!ctx.quoted) layer.addProblem(`truncated-ip6 - ${payloadEnd - end} bytes missing!`);
      payloadEnd = end;
    }
    return { layer, payloadStart: off + 40, payloadEnd, next: boundLayer(layer.layerClass, 'nh', f.nh!) };
  }

  private readWhole(buf: Buffer, off: number): void {
    const f = this.fields;
    const word = buf.readUInt32BE(off);
    f.version = word >>> 28;
    f.tc = (word >>> 20) & 0xff;
    f.fl = word & 0xfffff;
    f.plen = buf.readUInt16BE(off + 4);
    f.nh = buf[off + 6]!;
    f.hlim = buf[off + 7]!;
    f.src = ipv6Text(buf, off + 8);
    f.dst = ipv6Text(buf, off + 24);
  }

  /**
   * Reads a header cut off before 40 bytes: every field that begins before the cut is read,
   * its missing bytes as zeros, so the header rebuilds to exactly the bytes that were there.
   */
  private readPartial(buf: Buffer, off: number, end: number): void {
    const n = end - off;
    if (n <= 0) return;
    const whole = Buffer.alloc(40);
    buf.copy(whole, 0, off, end);
    this.readWhole(whole, 0);
    const f = this.fields;
    // Start byte of each field: version and tc 0, fl 1, plen 4, nh 6, hlim 7, src 8, dst 24.
    if (n <= 1) delete f.fl;
    if (n <= 4) delete f.plen;
    if (n <= 6) delete f.nh;
    if (n <= 7) delete f.hlim;
    if (n <= 8) delete f.src;
    if (n <= 24) delete f.dst;
  }

  /**
   * This header's part of the request/reply hash (Scapy's IPv6.hashret without the payload's
   * part, which the caller appends). `above` is the layers above this one in its packet.
   */
  hashret(above: readonly Layer[] = []): string {
    const upper = above[0];
    let nh = this.nextHeader(upper);
    const type = nh === 58 ? icmpv6Type(upper) : undefined;
    if (type !== undefined) {
      // An ICMPv6 error hashes as the packet it quotes; neighbor discovery as its target.
      if (type < 128) return '';
      if (type === 133 || type === 134 || type === 135 || type === 136 || type === 144 || type === 145) return String.fromCharCode(58);
    }
    let dst = ipv6Bytes(this.destination(upper));
    let src = ipv6Bytes(this.source(upper));
    if (isExtension(upper) && above.length > 0) {
      const beyond = above[1];
      const name = upper.name;
      if (nh === 43 && name === 'IPv6ExtHdrRouting') {
        nh = upper.nextHeader(beyond);
        // Scapy xors the last address with every address (itself included): kept for matching parity.
        const addresses = ((upper.fields as { addresses?: string[] }).addresses ?? []).map(ipv6Bytes);
        dst = Buffer.from(addresses.length > 0 ? addresses[addresses.length - 1]! : ipv6Bytes('::1'));
        for (const a of addresses) for (let i = 0; i < 16; i++) dst[i]! ^= a[i]!;
      } else if ((nh === 44 && name === 'IPv6ExtHdrFragment') || (nh === 0 && name === 'IPv6ExtHdrHopByHop')) {
        nh = upper.nextHeader(beyond);
      } else if (nh === 60 && name === 'IPv6ExtHdrDestOpt') {
        const home = upper.homeAddress();
        if (home !== undefined) {
          nh = upper.nextHeader(beyond);
          src = ipv6Bytes(home);
        }
      }
    }
    if (dst[0] === 0xff) return String.fromCharCode(nh);
    let text = '';
    for (let i = 0; i < 16; i++) text += String.fromCharCode(dst[i]! ^ src[i]!);
    return text + String.fromCharCode(nh);
  }

  /**
   * Whether this header (of a reply) answers `other` (of the request): Scapy's IPv6.answers for
   * this header only, the caller recurses into the payloads (skipping extension headers, and
   * taking an ICMPv6 error's quote in place of the reply). The reply must come back to the
   * request's source, or both be multicast to matching groups.
   */
  answers(other: Layer, selfAbove: readonly Layer[] = [], otherAbove: readonly Layer[] = []): boolean {
    if (!(other instanceof IPv6Layer)) return false;
    const selfUpper = selfAbove[0];
    const otherUpper = otherAbove[0];
    const sd = this.destination(selfUpper);
    const os = other.source(otherUpper);
    const od = other.destination(otherUpper);
    if (isMulticastV6(od)) {
      if (isMulticastV6(sd)) {
        if (!(sameIPv6(od, sd) || (sameIPv6(sd, 'ff02::1') && sameIPv6(od, 'ff02::2')))) return false;
      } else if (!sameIPv6(os, sd)) return false;
    } else if (!sameIPv6(sd, os)) return false;
    const selfNh = this.nextHeader(selfUpper);
    const otherNh = other.nextHeader(otherUpper);
    // Scapy compares next headers only when no ICMPv6 error and no extension header is involved.
    if (selfNh === 58 && (icmpv6Type(selfUpper) ?? 0) < 128) return true;
    if (IPV6_EXTENSION_HEADERS.has(otherNh) || selfNh === 60) return true;
    return selfNh === otherNh;
  }
}

function lengthSum(length: number): number {
  // The pseudo-header's length is 32 bits wide.
  return Math.floor(length / 0x10000) + (length & 0xffff);
}

/**
 * The IPv6 header an ICMPv6 error quotes (Scapy's IPerror6): its payload may be cut short, and
 * it answers the request it quotes when the addresses match.
 */
export class IPerror6Layer extends IPv6Layer {
  static override readonly layerName: string = 'IPerror6';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'IPv6 in ICMPv6';

  /**
   * Scapy's IPerror6.answers for the header: same source and destination as the request, or
   * the same source when the request carried a routing header. The caller compares the quoted
   * upper layers.
   */
  override answers(other: Layer, _selfAbove: readonly Layer[] = [], otherAbove: readonly Layer[] = []): boolean {
    if (!(other instanceof IPv6Layer)) return false;
    const otherUpper = otherAbove[0];
    if (!sameIPv6(this.source(), other.source(otherUpper))) return false;
    if (sameIPv6(this.destination(), other.destination(otherUpper))) return true;
    for (const layer of otherAbove) {
      if (!isExtension(layer)) break;
      if (layer.name === 'IPv6ExtHdrRouting') return true;
    }
    return false;
  }
}

registerLayer(IPv6Layer);
registerLayer(IPerror6Layer);

// The upper layer binds itself (Scapy's bind_layers rule): IPv6 over the link layers, over IPv4
// (6in4) and over itself. Ether and SLL carry 0x86dd; BSD loopback the families of each
// system, 10 (Linux's AF_INET6) first because the first binding is the one building uses,
// then 24, 28 and 30 (OpenBSD/NetBSD, FreeBSD, Darwin) for captures from those systems.
bind(EtherLayer, IPv6Layer, 'type', 0x86dd);
bind(CookedLinuxLayer, IPv6Layer, 'proto', 0x86dd);
bind(CookedLinuxV2Layer, IPv6Layer, 'proto', 0x86dd);
for (const family of [10, 24, 28, 30]) bind(LoopbackLayer, IPv6Layer, 'type', family);
bind(IPv4Layer, IPv6Layer, 'proto', 41);
bind(IPerrorLayer, IPerror6Layer, 'proto', 41);
bind(IPv6Layer, IPv6Layer, 'nh', 41);
// The one exception, a tunnel: IPv4 in IPv6 is bound here because ipv4.ts cannot import this
// file (this one imports it), as Scapy binds it in inet6.py.
bind(IPv6Layer, IPv4Layer, 'nh', 4);
