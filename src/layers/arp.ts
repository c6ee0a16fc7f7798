/**
 * ARP (RFC 826). Scapy's names and defaults: hwtype 1, ptype 0x0800, op 1 (who-has); hwlen and
 * plen are computed from the addresses. Scapy takes an unset hwsrc and psrc from the route's
 * interface; layer code never touches the system, so they default to all-zero here.
 *
 * The addresses follow the type and length fields as in Scapy's MultipleTypeField: a MAC when
 * hwtype is 1 and hwlen is 6 (or unset with a MAC given), an IPv4 or IPv6 address when ptype is
 * 0x0800 or 0x86dd with the matching plen; anything else is raw bytes of hwlen / plen bytes.
 */
import { formatIPv4, formatIPv6, formatMAC, isIPv4, isIPv6, writeIPv4, writeIPv6, writeMAC } from '../wire/addr.js';
import { didYouMean, usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { computedInt, intField } from './field.js';
import { Layer, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, registerLayer } from './registry.js';
import { ETHER_TYPE_NAMES, EtherLayer } from './ether.js';
import { CookedLinuxLayer, CookedLinuxV2Layer } from './sll.js';
import { toBytes } from './raw.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

/** An address: text for the known kinds (MAC, IPv4, IPv6), bytes otherwise. */
export type ARPAddress = string | Buffer;

export interface ARPFields {
  hwtype: number;
  ptype: number;
  hwlen: number;
  plen: number;
  /** 1 who-has, 2 is-at, ... (names accepted, as in Scapy). */
  op: number | string;
  hwsrc: ARPAddress;
  psrc: ARPAddress;
  hwdst: ARPAddress;
  pdst: ARPAddress;
}

export const ARP_OPS: Readonly<Record<string, number>> = {
  'who-has': 1,
  'is-at': 2,
  'RARP-req': 3,
  'RARP-rep': 4,
  'Dyn-RARP-req': 5,
  'Dyn-RAR-rep': 6,
  'Dyn-RARP-err': 7,
  'InARP-req': 8,
  'InARP-rep': 9,
};

const ETHERNET_HWTYPE = 1;
const PTYPE_IPV4 = 0x0800;
const PTYPE_IPV6 = 0x86dd;
const ZERO_MAC = '00:00:00:00:00:00';
const FIXED_HEADER = 8;
const ARP_FIELD_STARTS = { hwtype: 0, ptype: 2, hwlen: 4, plen: 5, op: 6 };

/** Scapy's names for hardware types, as show() prints them. */
const HARDWARE_TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'Ethernet (10Mb)', 2: 'Ethernet (3Mb)', 3: 'AX.25', 6: 'IEEE 802 Networks', 32: 'InfiniBand' };

/** The ops by number, for show(). */
const ARP_OP_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(ARP_OPS).map(([name, op]) => [op, name]));

const arpFields: readonly FieldSpec[] = [
  intField('hwtype', 16, ETHERNET_HWTYPE, { hex: true, names: HARDWARE_TYPE_NAMES, unnamed: 'hex' }),
  intField('ptype', 16, PTYPE_IPV4, { hex: true, names: ETHER_TYPE_NAMES, unnamed: 'hex' }),
  computedInt('hwlen', 8),
  computedInt('plen', 8),
  intField('op', 16, 1, { names: ARP_OP_NAMES }),
  { name: 'hwsrc', kind: 'mac', default: ZERO_MAC },
  { name: 'psrc', kind: 'ipv4', default: '0.0.0.0' },
  { name: 'hwdst', kind: 'mac', default: ZERO_MAC },
  { name: 'pdst', kind: 'ipv4', default: '0.0.0.0' },
];

type AddressKind = 'mac' | 'ipv4' | 'ipv6' | 'bytes';

function isMACText(value: unknown): boolean {
  return typeof value === 'string' && /^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$/.test(value);
}

export function parseARPOp(value: number | string): number {
  if (typeof value === 'number') return value;
  const op = ARP_OPS[value];
  if (op === undefined) throw usageError(`unknown ARP op '${value}'${didYouMean(value, Object.keys(ARP_OPS))}; ops are ${Object.keys(ARP_OPS).join(', ')} or a number`);
  return op;
}

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface ARPLayer extends Omit<FieldValues<ARPFields>, 'op'> {}

export class ARPLayer extends Layer<ARPFields> {
  static readonly layerName: string = 'ARP';
  static readonly fieldSpecs = arpFields;

  protected override normalize(fields: Partial<ARPFields>): Partial<ARPFields> {
    super.normalize(fields);
    if (fields.op !== undefined) fields.op = parseARPOp(fields.op);
    return fields;
  }

  get op(): number {
    return (this.fields.op as number | undefined) ?? 1;
  }

  /** How a hardware address is written (Scapy's MultipleTypeField rule). */
  private hwKind(value: ARPAddress | undefined): AddressKind {
    const f = this.fields;
    if ((f.hwtype ?? ETHERNET_HWTYPE) !== ETHERNET_HWTYPE) return 'bytes';
    if (f.hwlen !== undefined) return f.hwlen === 6 ? 'mac' : 'bytes';
    return value === undefined || isMACText(value) || (Buffer.isBuffer(value) && value.length === 6) ? 'mac' : 'bytes';
  }

  /** How a protocol address is written. */
  private pKind(value: ARPAddress | undefined): AddressKind {
    const f = this.fields;
    const ptype = f.ptype ?? PTYPE_IPV4;
    const want = ptype === PTYPE_IPV4 ? 4 : ptype === PTYPE_IPV6 ? 16 : 0;
    if (want === 0) return 'bytes';
    if (f.plen !== undefined) return f.plen === want ? (want === 4 ? 'ipv4' : 'ipv6') : 'bytes';
    if (want === 4) return value === undefined || (typeof value === 'string' && isIPv4(value)) ? 'ipv4' : 'bytes';
    return value === undefined || (typeof value === 'string' && isIPv6(value)) ? 'ipv6' : 'bytes';
  }

  /** Wire bytes of an address of the given kind; MAC text given as bytes is taken as 6 bytes. */
  private static addressBytes(kind: AddressKind, value: ARPAddress | undefined, fallback: string): Buffer {
    if (kind === 'bytes') return toBytes(value);
    const out = Buffer.alloc(kind === 'mac' ? 6 : kind === 'ipv4' ? 4 : 16);
    if (Buffer.isBuffer(value)) {
      value.copy(out, 0, 0, out.length);
      return out;
    }
    const text = value ?? fallback;
    if (kind === 'mac') writeMAC(text, out, 0);
    else if (kind === 'ipv4') writeIPv4(text, out, 0);
    else writeIPv6(text, out, 0);
    return out;
  }

  private addresses(): [Buffer, Buffer, Buffer, Buffer] {
    const f = this.fields;
    const pFallback = (f.ptype ?? PTYPE_IPV4) === PTYPE_IPV6 ? '::' : '0.0.0.0';
    return [
      ARPLayer.addressBytes(this.hwKind(f.hwsrc), f.hwsrc, ZERO_MAC),
      ARPLayer.addressBytes(this.pKind(f.psrc), f.psrc, pFallback),
      ARPLayer.addressBytes(this.hwKind(f.hwdst), f.hwdst, ZERO_MAC),
      ARPLayer.addressBytes(this.pKind(f.pdst), f.pdst, pFallback),
    ];
  }

  /** hwlen and plen as written: given, else the length of the source address (Scapy's length_of). */
  private lengths(addrs: readonly Buffer[]): [number, number] {
    return [this.fields.hwlen ?? addrs[0]!.length, this.fields.plen ?? addrs[1]!.length];
  }

  headerLength(): number {
    const addrs = this.addresses();
    const [hwlen, plen] = this.lengths(addrs);
    return FIXED_HEADER + 2 * (hwlen & 0xff) + 2 * (plen & 0xff);
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    const addrs = this.addresses();
    const [hwlen, plen] = this.lengths(addrs).map((n) => n & 0xff) as [number, number];
    out.writeUInt16BE((f.hwtype ?? ETHERNET_HWTYPE) & 0xffff, off);
    out.writeUInt16BE((f.ptype ?? PTYPE_IPV4) & 0xffff, off + 2);
    out[off + 4] = hwlen;
    out[off + 5] = plen;
    out.writeUInt16BE(this.op & 0xffff, off + 6);
    // Each address fills exactly hwlen / plen bytes: cut or zero-padded, as Scapy's fixed-length field.
    let p = off + FIXED_HEADER;
    for (let i = 0; i < 4; i++) {
      const width = i % 2 === 0 ? hwlen : plen;
      out.fill(0, p, p + width);
      addrs[i]!.copy(out, p, 0, Math.min(width, addrs[i]!.length));
      p += width;
    }
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const fixedWhole = avail >= FIXED_HEADER;
    const b = fixedWhole ? buf : zeroFilledHeader(buf, off, end, FIXED_HEADER);
    const o = fixedWhole ? off : 0;
    f.hwtype = b.readUInt16BE(o);
    f.ptype = b.readUInt16BE(o + 2);
    f.hwlen = b[o + 4]!;
    f.plen = b[o + 5]!;
    f.op = b.readUInt16BE(o + 6);
    if (!fixedWhole) forgetFieldsPast(f, ARP_FIELD_STARTS, avail);
    const hwlen = f.hwlen ?? 0;
    const plen = f.plen ?? 0;
    const full = FIXED_HEADER + 2 * hwlen + 2 * plen;
    if (avail < full) {
      // Keep what is there as bytes, so the cut-off header rebuilds to the same bytes.
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|arp]');
      if (avail >= FIXED_HEADER) layer.readAddresses(buf, off + FIXED_HEADER, end, hwlen, plen);
      return { layer, payloadStart: end, payloadEnd: end };
    }
    layer.readAddresses(buf, off + FIXED_HEADER, end, hwlen, plen);
    // Scapy's ARP has no payload: whatever follows (Ethernet's minimum-size fill) is padding.
    const headerEnd = off + full;
    return { layer, payloadStart: headerEnd, payloadEnd: headerEnd };
  }

  /** Reads the four addresses, each as text when its kind is known and it is whole, else as bytes. */
  private readAddresses(buf: Buffer, start: number, end: number, hwlen: number, plen: number): void {
    const f = this.fields;
    const hwText = f.hwtype === ETHERNET_HWTYPE && hwlen === 6;
    const pText = (f.ptype === PTYPE_IPV4 && plen === 4) || (f.ptype === PTYPE_IPV6 && plen === 16);
    const names = ['hwsrc', 'psrc', 'hwdst', 'pdst'] as const;
    let p = start;
    for (let i = 0; i < 4; i++) {
      const width = i % 2 === 0 ? hwlen : plen;
      const text = i % 2 === 0 ? hwText : pText;
      if (p + width <= end && text) {
        f[names[i]!] = i % 2 === 0 ? formatMAC(buf, p) : plen === 4 ? formatIPv4(buf, p) : formatIPv6(buf, p);
      } else if (p < end) {
        f[names[i]!] = Buffer.from(buf.subarray(p, Math.min(p + width, end)));
      }
      p += width;
    }
  }

  /** Protocol address bytes as written, for answers(). */
  private pBytes(which: 'psrc' | 'pdst'): Buffer {
    const value = this.fields[which];
    const fallback = (this.fields.ptype ?? PTYPE_IPV4) === PTYPE_IPV6 ? '::' : '0.0.0.0';
    return ARPLayer.addressBytes(this.pKind(value), value, fallback);
  }

  /** Scapy's key: hardware type, protocol type and the request/reply pair the op belongs to. */
  hashret(): string {
    return `${this.fields.hwtype ?? ETHERNET_HWTYPE},${this.fields.ptype ?? PTYPE_IPV4},${(this.op + 1) >> 1}`;
  }

  /**
   * Whether this received ARP answers `other` (sent): the reply op follows the request op and
   * the reply's psrc is the address asked for (compared loosely on the common prefix, as Scapy
   * does, to catch replies that leak extra bytes).
   */
  answers(other: Layer): boolean {
    if (!(other instanceof ARPLayer)) return false;
    if (this.op !== other.op + 1) return false;
    const mine = this.pBytes('psrc');
    const asked = other.pBytes('pdst');
    const n = Math.min(mine.length, asked.length);
    return mine.subarray(0, n).equals(asked.subarray(0, n));
  }
}

registerLayer(ARPLayer);

// ARP is EtherType 0x0806, on Ethernet and in cooked captures.
bind(EtherLayer, ARPLayer, 'type', 0x0806);
bind(CookedLinuxLayer, ARPLayer, 'proto', 0x0806);
bind(CookedLinuxV2Layer, ARPLayer, 'proto', 0x0806);
