/**
 * The router advertisement's informational options, with Scapy 2.5's classes and names:
 * advertisement interval (type 7, RFC 6275: ICMPv6NDOptAdvInterval), home agent information
 * (type 8: ICMPv6NDOptHAInfo), route information (type 24, RFC 4191: ICMPv6NDOptRouteInfo) and
 * the DNS search list (type 31, RFC 8106: ICMPv6NDOptDNSSL). The core options (link-layer
 * addresses, prefix, MTU, redirected header, RDNSS) are in icmpv6.ts, whose dissector picks
 * these by type through registerNDOption. PREF64 (type 38, RFC 8781) has no Scapy 2.5 class and
 * tcpdump 4.99 prints it as unknown: it stays ICMPv6NDOptUnknown.
 */
import { intField, computedInt, type FieldSpec } from './field.js';
import type { LayerClass } from './layer.js';
import { registerLayer } from './registry.js';
import { ipv6Bytes, ipv6Text } from './ipv6.js';
import { NDOptionLayer, SingleUnitNDOptionLayer, registerNDOption } from './icmpv6.js';

export interface ICMPv6NDOptAdvIntervalFields {
  type: number;
  len: number;
  res: number;
  /** Milliseconds between unsolicited advertisements. */
  advint: number;
}

export class ICMPv6NDOptAdvIntervalLayer extends SingleUnitNDOptionLayer<ICMPv6NDOptAdvIntervalFields> {
  static readonly layerName: string = 'ICMPv6NDOptAdvInterval';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery - Interval Advertisement';
  static readonly fieldSpecs: readonly FieldSpec[] = [intField('type', 8, 7), intField('len', 8, 1), intField('res', 16, 0), intField('advint', 32, 0)];

  protected writeBody(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.res ?? 0) & 0xffff, off + 2);
    out.writeUInt32BE((this.fields.advint ?? 0) >>> 0, off + 4);
  }

  protected readBody(buf: Buffer, off: number): void {
    this.fields.res = buf.readUInt16BE(off + 2);
    this.fields.advint = buf.readUInt32BE(off + 4);
  }
}

export interface ICMPv6NDOptHAInfoFields {
  type: number;
  len: number;
  res: number;
  pref: number;
  lifetime: number;
}

export class ICMPv6NDOptHAInfoLayer extends SingleUnitNDOptionLayer<ICMPv6NDOptHAInfoFields> {
  static readonly layerName: string = 'ICMPv6NDOptHAInfo';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery - Home Agent Information';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 8), intField('len', 8, 1), intField('res', 16, 0), intField('pref', 16, 0), intField('lifetime', 16, 1),
  ];

  protected writeBody(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.res ?? 0) & 0xffff, off + 2);
    out.writeUInt16BE((this.fields.pref ?? 0) & 0xffff, off + 4);
    out.writeUInt16BE((this.fields.lifetime ?? 1) & 0xffff, off + 6);
  }

  protected readBody(buf: Buffer, off: number): void {
    this.fields.res = buf.readUInt16BE(off + 2);
    this.fields.pref = buf.readUInt16BE(off + 4);
    this.fields.lifetime = buf.readUInt16BE(off + 6);
  }
}

export interface ICMPv6NDOptRouteInfoFields {
  type: number;
  len: number;
  plen: number;
  res1: number;
  /** Route preference (RFC 4191): 0 medium, 1 high, 3 low. */
  prf: number;
  res2: number;
  rtlifetime: number;
  prefix: string;
}

const ROUTE_PREFS: Readonly<Record<number, string>> = { 0: 'Medium (default)', 1: 'High', 2: 'Reserved', 3: 'Low' };

/**
 * A route the router offers (RFC 4191). Scapy writes as many prefix bytes as len asks: all 16
 * when len is unset (len is then 3), none for len 0 or 1, the first 8 for len 2; dissection
 * reads 8 * (len - 1) bytes and zero-fills the rest of the address.
 */
export class ICMPv6NDOptRouteInfoLayer extends NDOptionLayer<ICMPv6NDOptRouteInfoFields> {
  static readonly layerName: string = 'ICMPv6NDOptRouteInfo';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery Option - Route Information Option';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 24), computedInt('len', 8), intField('plen', 8, 0), intField('res1', 3, 0), intField('prf', 2, 0, { names: ROUTE_PREFS }),
    intField('res2', 3, 0), intField('rtlifetime', 32, 0xffffffff), { name: 'prefix', kind: 'ipv6', default: '::' },
  ];

  protected override normalize(fields: Partial<ICMPv6NDOptRouteInfoFields>): Partial<ICMPv6NDOptRouteInfoFields> {
    super.normalize(fields);
    if (fields.prefix !== undefined) ipv6Bytes(fields.prefix);
    return fields;
  }

  /** The prefix bytes written for the len given (Scapy's _IP6PrefixField.i2m). */
  private prefixBytes(): number {
    const len = this.fields.len;
    if (len === undefined) return 16;
    if (len <= 1) return 0;
    if (len <= 3) return 8 * (len - 1);
    return 16 + 8 * (len - 3);
  }

  protected size(): number {
    return 8 + this.prefixBytes();
  }

  protected override defaultLen(): number {
    return 3;
  }

  protected static override fits(len: number): boolean {
    return len <= 3;
  }

  protected writeBody(out: Buffer, off: number): void {
    const f = this.fields;
    out[off + 2] = (f.plen ?? 0) & 0xff;
    out[off + 3] = (((f.res1 ?? 0) & 7) << 5) | (((f.prf ?? 0) & 3) << 3) | ((f.res2 ?? 0) & 7);
    out.writeUInt32BE((f.rtlifetime ?? 0xffffffff) >>> 0, off + 4);
    const prefix = ipv6Bytes(f.prefix ?? '::');
    const n = this.prefixBytes();
    out.fill(0, off + 8, off + 8 + n);
    prefix.copy(out, off + 8, 0, Math.min(16, n));
  }

  protected readBody(buf: Buffer, off: number, end: number): void {
    const f = this.fields;
    f.plen = buf[off + 2]!;
    f.res1 = buf[off + 3]! >> 5;
    f.prf = (buf[off + 3]! >> 3) & 3;
    f.res2 = buf[off + 3]! & 7;
    f.rtlifetime = buf.readUInt32BE(off + 4);
    const prefix = Buffer.alloc(16);
    buf.copy(prefix, 0, off + 8, end);
    f.prefix = ipv6Text(prefix, 0);
  }
}

export interface ICMPv6NDOptDNSSLFields {
  type: number;
  len: number;
  res: number;
  lifetime: number;
  /** Domain names, each ending with a dot as Scapy dissects them. */
  searchlist: string[];
}

/** Scapy's DomainNameListField(padded=True).i2m: each name's labels, a zero byte, zeros to 8 bytes. */
function encodeSearchList(names: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const name of names) {
    const labels = name.split('.').map((l) => Buffer.from(l, 'utf8'));
    const encoded = Buffer.concat(labels.flatMap((l) => [Buffer.from([l.length & 0xff]), l]));
    parts.push(encoded.length && encoded[encoded.length - 1] === 0 ? encoded : Buffer.concat([encoded, Buffer.from([0])]));
  }
  const list = Buffer.concat(parts);
  return list.length % 8 ? Buffer.concat([list, Buffer.alloc(8 - (list.length % 8))]) : list;
}

/** The names in a padded list (zero bytes between names are padding), or undefined when not plain labels. */
function decodeSearchList(buf: Buffer, off: number, end: number): string[] | undefined {
  const names: string[] = [];
  let p = off;
  while (p < end) {
    const labels: string[] = [];
    while (p < end && buf[p] !== 0) {
      const n = buf[p]!;
      if (n > 63 || p + 1 + n > end) return undefined;
      const label = buf.subarray(p + 1, p + 1 + n);
      if (!label.every((ch) => ch > 0x20 && ch < 0x7f && ch !== 0x2e)) return undefined;
      labels.push(label.toString('latin1'));
      p += 1 + n;
    }
    if (labels.length) names.push(labels.join('.') + '.');
    p++;
  }
  return names;
}

/** The DNS search list (RFC 8106): a lifetime and domain names, zero-padded to 8-byte units. */
export class ICMPv6NDOptDNSSLLayer extends NDOptionLayer<ICMPv6NDOptDNSSLFields> {
  static readonly layerName: string = 'ICMPv6NDOptDNSSL';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery Option - DNS Search List Option';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 31), computedInt('len', 8), intField('res', 16, 0), intField('lifetime', 32, 0xffffffff), { name: 'searchlist', kind: 'list', default: [] },
  ];

  protected override normalize(fields: Partial<ICMPv6NDOptDNSSLFields>): Partial<ICMPv6NDOptDNSSLFields> {
    super.normalize(fields);
    if (fields.searchlist !== undefined) fields.searchlist = fields.searchlist.map(String);
    return fields;
  }

  protected size(): number {
    return 8 + encodeSearchList(this.fields.searchlist ?? []).length;
  }

  /**
   * Only a list that rebuilds to its own bytes is read as names (anything else, a compression
   * pointer or padding past the 8-byte unit, stays ICMPv6NDOptUnknown and rebuilds as it was).
   */
  protected static override fits(len: number, buf: Buffer, off: number): boolean {
    if (len < 1) return false;
    const names = decodeSearchList(buf, off + 8, off + 8 * len);
    return names !== undefined && encodeSearchList(names).equals(buf.subarray(off + 8, off + 8 * len));
  }

  protected writeBody(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.res ?? 0) & 0xffff, off + 2);
    out.writeUInt32BE((this.fields.lifetime ?? 0xffffffff) >>> 0, off + 4);
    encodeSearchList(this.fields.searchlist ?? []).copy(out, off + 8);
  }

  protected readBody(buf: Buffer, off: number, end: number): void {
    this.fields.res = buf.readUInt16BE(off + 2);
    this.fields.lifetime = buf.readUInt32BE(off + 4);
    this.fields.searchlist = decodeSearchList(buf, off + 8, end) ?? [];
  }
}

const OPTIONS: readonly [number, LayerClass][] = [
  [7, ICMPv6NDOptAdvIntervalLayer as unknown as LayerClass],
  [8, ICMPv6NDOptHAInfoLayer as unknown as LayerClass],
  [24, ICMPv6NDOptRouteInfoLayer as unknown as LayerClass],
  [31, ICMPv6NDOptDNSSLLayer as unknown as LayerClass],
];

for (const [type, cls] of OPTIONS) {
  registerLayer(cls);
  registerNDOption(type, cls);
}
