/**
 * IPv4 (RFC 791). Scapy's names and defaults: version 4, id 1, ttl 64, dst 127.0.0.1. ihl,
 * len, chksum and proto are computed when unset; src follows dst's route at send time, and
 * for a loopback dst it is 127.0.0.1 (what the route would say), so builds stay deterministic.
 */
import { finishChecksum, sumWords } from '../wire/checksum.js';
import { formatIPv4, writeIPv4 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { computedInt, intField, fieldStarts } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues, type LayerClass } from './layer.js';
import type { ScanResult } from './lazy.js';
import { bind, bindingsOf, boundLayer, boundValue, registerLayer } from './registry.js';
import { EtherLayer } from './ether.js';
import { CookedLinuxLayer, CookedLinuxV2Layer } from './sll.js';
import { AF_INET, LoopbackLayer } from './loopback.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';
import { ipOptionList, ipOptionsLength, readIPOptions, writeIPOption, type IPOption } from './ipv4-options.js';

export interface IPv4Fields {
  version: number;
  ihl: number;
  tos: number;
  len: number;
  id: number;
  /** Bits MF (1), DF (2), evil (4); also 'DF', 'MF+DF'. */
  flags: number | string;
  frag: number;
  ttl: number;
  proto: number;
  chksum: number;
  src: string;
  dst: string;
  options: IPOption[];
}

export const IP_FLAG_NAMES = ['MF', 'DF', 'evil'] as const;

const ipv4Fields: readonly FieldSpec[] = [
  intField('version', 4, 4),
  computedInt('ihl', 4),
  intField('tos', 8, 0, { hex: true }),
  computedInt('len', 16),
  intField('id', 16, 1),
  { name: 'flags', kind: 'flags', bits: 3, default: 0, flagLetters: 'MF,DF,evil' },
  intField('frag', 13, 0),
  intField('ttl', 8, 64),
  computedInt('proto', 8, { names: 'protocols' }),
  computedInt('chksum', 16, { hex: true }),
  { name: 'src', kind: 'ipv4', computed: true },
  { name: 'dst', kind: 'ipv4', default: '127.0.0.1' },
  { name: 'options', kind: 'options', default: [] },
];

/** Parses IP flags given as a number, 'DF', 'MF+DF' or 'MF DF'. */
export function parseIPFlags(value: number | string): number {
  if (typeof value === 'number') return value;
  let bits = 0;
  for (const part of value.split(/[+|, ]+/).filter(Boolean)) {
    const i = IP_FLAG_NAMES.indexOf(part as (typeof IP_FLAG_NAMES)[number]);
    if (i < 0) throw usageError(`unknown IP flag '${part}': IP flags are MF, DF and evil (e.g. flags='DF')`);
    bits |= 1 << i;
  }
  return bits;
}


/** Fields a layer above may impose on the IPv4 header directly below it when they are unset (Scapy's bind_layers extras: IGMP's TTL 1). */
export interface IPv4Overload {
  readonly ttl?: number;
  readonly tos?: number;
  readonly dst?: string;
}

function ipv4OverloadOf(upper: Layer | undefined): IPv4Overload | undefined {
  return upper === undefined ? undefined : (upper.layerClass as { ipv4Overload?: IPv4Overload }).ipv4Overload;
}

/**
 * Writes an IPv4 header at out[off], options and checksum included: each field as given, else
 * what the layer above imposes (`overload`: IGMP's TTL), else its default. `proto` is the
 * protocol byte (given, else bound to the layer above) and `optionBytes` the options' padded
 * size, measured before the buffer was sized. Returns the sum of the two addresses' words, the
 * part of an upper layer's pseudo-header this header gives. The one writer of the header's
 * layout: encode() and the IPv4/TCP build plan (packet/build-plan.ts).
 */
export function writeIPv4Header(
  out: Buffer, off: number, f: Partial<IPv4Fields>, optionBytes: number, payloadLength: number, proto: number, overload: IPv4Overload | undefined,
): number {
  const headerLength = 20 + optionBytes;
  const versionIHL = (((f.version ?? 4) & 15) << 4) | ((f.ihl ?? 5 + optionBytes / 4) & 15);
  const tos = (f.tos ?? overload?.tos ?? 0) & 0xff;
  const len = (f.len ?? headerLength + payloadLength) & 0xffff;
  const id = (f.id ?? 1) & 0xffff;
  const flags = (f.flags as number | undefined) ?? 0;
  const fragWord = ((flags & 7) << 13) | ((f.frag ?? 0) & 0x1fff);
  const ttlProto = (((f.ttl ?? overload?.ttl ?? 64) & 0xff) << 8) | (proto & 0xff);
  out[off] = versionIHL;
  out[off + 1] = tos;
  out[off + 2] = len >>> 8;
  out[off + 3] = len & 0xff;
  out[off + 4] = id >>> 8;
  out[off + 5] = id & 0xff;
  out[off + 6] = fragWord >>> 8;
  out[off + 7] = fragWord & 0xff;
  out[off + 8] = ttlProto >>> 8;
  out[off + 9] = ttlProto & 0xff;
  const dst = f.dst ?? overload?.dst ?? '127.0.0.1';
  const srcValue = writeIPv4(f.src ?? (dst.startsWith('127.') ? '127.0.0.1' : '0.0.0.0'), out, off + 12);
  const dstValue = writeIPv4(dst, out, off + 16);
  const addressSum = (srcValue >>> 16) + (srcValue & 0xffff) + (dstValue >>> 16) + (dstValue & 0xffff);
  if (f.options !== undefined && f.options.length > 0) {
    let p = off + 20;
    for (const opt of f.options) p = writeIPOption(opt, out, p);
    out.fill(0, p, off + headerLength);
  }
  let sum = f.chksum;
  if (sum === undefined) {
    // The fixed words from the values just written (no reading back), the options from the bytes.
    sum = ((versionIHL << 8) | tos) + len + id + fragWord + ttlProto + addressSum;
    if (optionBytes > 0) sum = sumWords(out, off + 20, off + headerLength, sum);
    sum = finishChecksum(sum);
  }
  out[off + 10] = (sum >>> 8) & 0xff;
  out[off + 11] = sum & 0xff;
  return addressSum;
}

/** Where each field starts in the header, for cut-off headers: from the table's widths. */
const IPV4_FIELD_OFFSETS = fieldStarts(ipv4Fields);

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface IPv4Layer extends Omit<FieldValues<IPv4Fields>, 'src' | 'dst'> {}

export class IPv4Layer extends Layer<IPv4Fields> {
  static readonly layerName: string = 'IP';
  static readonly fieldSpecs = ipv4Fields;

  override get isNetworkLayer(): boolean {
    return true;
  }

  protected override normalize(fields: Partial<IPv4Fields>): Partial<IPv4Fields> {
    super.normalize(fields);
    if (fields.flags !== undefined) fields.flags = parseIPFlags(fields.flags);
    if (fields.options !== undefined) fields.options = ipOptionList(fields.options);
    return fields;
  }

  get dst(): string {
    return this.fields.dst ?? '127.0.0.1';
  }

  /** The source as built: given, else 127.0.0.1 toward loopback, else 0.0.0.0 until the sender fills it from the route. */
  get src(): string {
    if (this.fields.src !== undefined) return this.fields.src;
    return this.dst.startsWith('127.') ? '127.0.0.1' : '0.0.0.0';
  }

  private optionBytes(): number {
    const opts = this.fields.options;
    if (!opts || opts.length === 0) return 0;
    return (ipOptionsLength(opts) + 3) & ~3;
  }

  /** Padded option bytes measured by headerLength(), reused by encode() in the same build. */
  private measuredOptionBytes = 0;

  /** The header length in 32-bit words as written: given, else computed from the options. */
  ihlValue(): number {
    return this.fields.ihl ?? 5 + this.optionBytes() / 4;
  }

  headerLength(): number {
    this.measuredOptionBytes = this.optionBytes();
    return 20 + this.measuredOptionBytes;
  }

  encode(out: Buffer, off: number, payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    writeIPv4Header(out, off, f, this.measuredOptionBytes, payloadLength, f.proto ?? this.protoFromAbove(ctx, index), ipv4OverloadOf(ctx.layers[index + 1]));
  }

  private protoFromAbove(ctx: BuildContext, index: number): number {
    const upper = ctx.layers[index + 1];
    if (!upper) return 0;
    return boundValue(this.layerClass, upper.layerClass, 'proto') ?? 0;
  }

  /**
   * The pseudo-header sum for an upper-layer checksum, as Scapy computes it: the length is
   * len minus the header when len is given (so a lying len is honoured), and with one source
   * route option the destination is the route's last hop.
   */
  pseudoSum(out: Buffer, off: number, upperProto: number, upperLength: number): number {
    let length = upperLength;
    if (this.fields.len !== undefined) length = Math.max(this.fields.len - 4 * this.ihlValue(), 0);
    // The source's two words, read in place: this runs for every TCP or UDP segment built.
    let sum = ((out[off + 12]! << 8) | out[off + 13]!) + ((out[off + 14]! << 8) | out[off + 15]!);
    const options = this.fields.options;
    const lastHop = options !== undefined && options.length > 0 ? sourceRouteLastHop(options) : undefined;
    if (lastHop !== undefined) {
      const dst = Buffer.alloc(4);
      writeIPv4(lastHop, dst, 0);
      sum += sumWords(dst, 0, 4);
    } else sum += ((out[off + 16]! << 8) | out[off + 17]!) + ((out[off + 18]! << 8) | out[off + 19]!);
    return sum + upperProto + (length & 0xffff);
  }

  /** Sum of the addresses as they were on the wire, kept by decode for checksum verdicts above. */
  private wireAddressSum: number | undefined;

  /** Pseudo-header sum for verifying a dissected upper layer's checksum. */
  pseudoSumDecoded(upperProto: number, upperLength: number): number {
    return (this.wireAddressSum ?? 0) + upperProto + (upperLength & 0xffff);
  }

  /**
   * dissect()'s fast path (layers/lazy.ts): the structure of an ordinary header, one without
   * options whose lengths agree with the bytes; anything else is decoded at once.
   */
  static scan(this: LayerClass, buf: Buffer, off: number, end: number, out: ScanResult): boolean {
    if (end - off < 20 || buf[off]! !== 0x45) return false;
    const len = (buf[off + 2]! << 8) | buf[off + 3]!;
    if (len < 20 || off + len > end) return false;
    out.payloadStart = off + 20;
    out.payloadEnd = off + len;
    const fragment = ((buf[off + 6]! & 0x1f) << 8) | buf[off + 7]!;
    out.next = fragment !== 0 ? undefined : this === IPv4Layer ? protoBindings.get(buf[off + 9]!) : boundLayer(this, 'proto', buf[off + 9]!);
    return true;
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const avail = end - off;
    if (avail < 20) {
      // Read the cut header from a zero-filled copy, then forget the fields the cut left out:
      // a field the cut splits keeps the bytes that were there, so the bytes rebuild exactly.
      const whole = this.decode(zeroFilledHeader(buf, off, end, 20), 0, 20, { below: ctx.below, quoted: true }).layer as IPv4Layer;
      whole.checksumValid = undefined;
      whole.wireAddressSum = undefined;
      forgetFieldsPast(whole.fields, IPV4_FIELD_OFFSETS, avail);
      whole.truncatedTo = avail;
      whole.problems = undefined;
      whole.addProblem(avail < 1 ? '[|ip]' : `truncated-ip - ${20 - avail} bytes missing!`);
      return { layer: whole, payloadStart: end, payloadEnd: end };
    }
    const v = buf[off]!;
    const ihl = v & 15;
    const f = layer.fields;
    f.version = v >> 4;
    f.ihl = ihl;
    f.tos = buf[off + 1]!;
    f.len = buf.readUInt16BE(off + 2);
    f.id = buf.readUInt16BE(off + 4);
    const fragWord = buf.readUInt16BE(off + 6);
    f.flags = fragWord >> 13;
    f.frag = fragWord & 0x1fff;
    f.ttl = buf[off + 8]!;
    f.proto = buf[off + 9]!;
    f.chksum = buf.readUInt16BE(off + 10);
    f.src = formatIPv4(buf, off + 12);
    f.dst = formatIPv4(buf, off + 16);
    layer.wireAddressSum = sumWords(buf, off + 12, off + 20);
    let headerEnd = off + 20;
    if (ihl < 5) layer.addProblem(`bad-hlen ${ihl * 4}`);
    else if (off + ihl * 4 > end) {
      // The header claims more bytes than there are: keep what there is as options (cut off),
      // so the packet rebuilds to exactly these bytes.
      layer.addProblem(`bad-hlen ${ihl * 4}`);
      layer.truncatedTo = avail;
      f.options = readIPOptions(buf, off + 20, end, []);
      return { layer, payloadStart: end, payloadEnd: end };
    } else if (ihl > 5) {
      headerEnd = off + ihl * 4;
      const problems: string[] = [];
      f.options = readIPOptions(buf, off + 20, headerEnd, problems);
      for (const p of problems) layer.addProblem(p);
      // Bytes the options list does not account for (zero padding) are rebuilt as padding.
    }
    if (f.options === undefined) f.options = [];
    if (ihl >= 5) layer.checksumValid = ctx.quoted && off + ihl * 4 > end ? undefined : finishChecksum(sumWords(buf, off, headerEnd)) === 0;
    let payloadEnd = off + f.len;
    if (f.len < headerEnd - off) {
      layer.addProblem(`bad-len ${f.len}`);
      payloadEnd = end;
    } else if (payloadEnd > end) {
      if (!ctx.quoted) layer.addProblem(`truncated-ip - ${payloadEnd - end} bytes missing!`);
      payloadEnd = end;
    }
    let next = undefined;
    if (f.frag === 0) next = boundLayer(layer.layerClass, 'proto', f.proto);
    return { layer, payloadStart: headerEnd, payloadEnd, next };
  }



  /**
   * The part of the direction-free match key this header gives (Scapy's hashret): the two
   * addresses in a fixed order, so a probe and its reply land in the same bucket, and proto.
   */
  hashret(): string {
    const a = this.src;
    const b = this.dst;
    return (a < b ? a + '>' + b : b + '>' + a) + '/' + (this.fields.proto ?? 0);
  }

  /**
   * Whether this header (a reply) answers `other` (what we sent): addressed back to the
   * sender, from the destination (unless that was broadcast or multicast), same protocol.
   * Carrying an ICMP error, only the first holds: the matcher compares the quote after.
   */
  answers(other: Layer, selfAbove: readonly Layer[] = []): boolean {
    if (!(other instanceof IPv4Layer)) return false;
    if (this.dst !== other.src) return false;
    // An ICMP error comes from any router on the way, and answers by its quote (Scapy's rule).
    if (selfAbove[0]?.isErrorMessage) return true;
    if (this.src !== other.dst && !isGroupAddressV4(other.dst)) return false;
    return (this.fields.proto ?? 0) === (other.fields.proto ?? 0);
  }
}

/** The destination a pseudo-header names under one source route option (its last hop), as Scapy takes it. */
function sourceRouteLastHop(options: readonly IPOption[]): string | undefined {
  const routes = options.filter((o) => o.name === 'IPOption_LSRR' || o.name === 'IPOption_SSRR');
  return routes.length === 1 && 'routers' in routes[0]! ? routes[0].routers?.at(-1) : undefined;
}

/** Multicast (224/4) or limited broadcast: replies come from someone else's address. */
function isGroupAddressV4(addr: string): boolean {
  if (addr === '255.255.255.255') return true;
  const first = parseInt(addr, 10);
  return first >= 224 && first <= 239;
}

/** The IP header an ICMP error quotes (Scapy's IPerror): an IP whose payload may be cut short. */
export class IPerrorLayer extends IPv4Layer {
  static override readonly layerName: string = 'IPerror';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'IP in ICMP';

  /** A quoted header answers the header it quotes: same addresses, same direction, same protocol. */
  override answers(other: Layer): boolean {
    if (!(other instanceof IPv4Layer)) return false;
    return this.src === other.src && this.dst === other.dst && (this.fields.proto ?? 0) === (other.fields.proto ?? 0);
  }
}

/** The layers bound to IPv4's proto, for scan(): one lookup per packet. */
const protoBindings = bindingsOf(IPv4Layer, 'proto');

registerLayer(IPv4Layer, 'IPv4');
registerLayer(IPerrorLayer);

// The upper layer binds itself (Scapy's bind_layers rule): IPv4 over the link layers.
bind(EtherLayer, IPv4Layer, 'type', 0x0800);
bind(CookedLinuxLayer, IPv4Layer, 'proto', 0x0800);
bind(CookedLinuxV2Layer, IPv4Layer, 'proto', 0x0800);
bind(LoopbackLayer, IPv4Layer, 'type', AF_INET);
// IPv4 in IPv4 (IP-in-IP, protocol 4), as Scapy binds IP()/IP().
bind(IPv4Layer, IPv4Layer, 'proto', 4);
bind(IPerrorLayer, IPerrorLayer, 'proto', 4);
