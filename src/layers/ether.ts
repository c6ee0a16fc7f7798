/**
 * Ethernet II (IEEE 802.3 with an EtherType). Scapy's names and defaults: dst, src, type.
 * Scapy resolves an unset dst by ARP and an unset src from the route's interface; layer code
 * never touches the system, so here they default to broadcast and all-zero, and the sender
 * fills them in when it knows better. type is the binding of the layer above, else 0x9000
 * (Scapy's default, the "loopback" configuration-testing type).
 */
import { formatMAC, parseIPv4, parseIPv6, writeMAC } from '../wire/addr.js';
import { fieldStarts, type FieldSpec } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues, type LayerClass } from './layer.js';
import type { ScanResult } from './lazy.js';
import { bind, bindingsOf, boundLayer, boundValue, registerLayer } from './registry.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

export interface EtherFields {
  dst: string;
  src: string;
  type: number;
}

export const ETHER_BROADCAST = 'ff:ff:ff:ff:ff:ff';
export const ETHER_ZERO = '00:00:00:00:00:00';
/** Scapy's Ether type when nothing above is bound to it. */
const UNBOUND_ETHER_TYPE = 0x9000;
const ETHER_HEADER = 14;

/** Scapy's names for ethertypes, as show() prints them (Ether type, ARP ptype). */
export const ETHER_TYPE_NAMES: Readonly<Record<number, string>> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: 'n_802_1Q', 0x88cc: 'LLDP' };

const etherFields: readonly FieldSpec[] = [
  { name: 'dst', kind: 'mac', default: ETHER_BROADCAST },
  { name: 'src', kind: 'mac', default: ETHER_ZERO },
  { name: 'type', kind: 'int', bits: 16, default: UNBOUND_ETHER_TYPE, computed: true, hex: true, names: ETHER_TYPE_NAMES, unnamed: 'hex' },
];

/** Where each field starts, for cut-off headers: from the table's widths. */
const ETHER_FIELD_STARTS = fieldStarts(etherFields);

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface EtherLayer extends FieldValues<EtherFields> {}

export class EtherLayer extends Layer<EtherFields> {
  static readonly layerName: string = 'Ether';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'Ethernet';
  static readonly fieldSpecs = etherFields;

  headerLength(): number {
    return ETHER_HEADER;
  }

  /** The type as built on top of `upper`: given, else the binding, else 0x9000. */
  typeValue(ctx: BuildContext, index: number): number {
    if (this.fields.type !== undefined) return this.fields.type;
    const upper = ctx.layers[index + 1];
    if (!upper || upper.isTrailer) return UNBOUND_ETHER_TYPE;
    return boundValue(this.layerClass, upper.layerClass, 'type') ?? UNBOUND_ETHER_TYPE;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    if (this.fields.dst !== undefined) writeMAC(this.fields.dst, out, off);
    else if (!writeMulticastMAC(ctx.layers[index + 1], out, off)) writeMAC(ETHER_BROADCAST, out, off);
    writeMAC(this.fields.src ?? ETHER_ZERO, out, off + 6);
    out.writeUInt16BE(this.typeValue(ctx, index) & 0xffff, off + 12);
  }

  /** dissect()'s fast path (layers/lazy.ts): a whole header with an EtherType (not an 802.3 length). */
  static scan(this: LayerClass, buf: Buffer, off: number, end: number, out: ScanResult): boolean {
    if (end - off < ETHER_HEADER) return false;
    const type = (buf[off + 12]! << 8) | buf[off + 13]!;
    if (type <= 1500) return false;
    out.payloadStart = off + ETHER_HEADER;
    out.payloadEnd = end;
    out.next = this === EtherLayer ? typeBindings.get(type) : boundLayer(this, 'type', type);
    return true;
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail >= ETHER_HEADER;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, ETHER_HEADER);
    const o = whole ? off : 0;
    f.dst = formatMAC(b, o);
    f.src = formatMAC(b, o + 6);
    f.type = b.readUInt16BE(o + 12);
    if (!whole) {
      forgetFieldsPast(f, ETHER_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|ether]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    // A type of 1500 or less is an 802.3 length (LLC follows); no layer binds there, so Raw.
    return { layer, payloadStart: off + ETHER_HEADER, payloadEnd: end, next: boundLayer(layer.layerClass, 'type', f.type) };
  }

  /**
   * Matching key (Scapy's hashret without the type): a sent frame often leaves type to the
   * binding, so only the layers above discriminate. Direction-free by construction.
   */
  hashret(): string {
    return '';
  }

  /** Whether this received frame can answer `other` (a sent frame): same type when both are known. */
  answers(other: Layer): boolean {
    if (!(other instanceof EtherLayer)) return false;
    const mine = this.fields.type;
    const theirs = other.fields.type;
    return mine === undefined || theirs === undefined || mine === theirs;
  }
}

/**
 * The group MAC of a multicast IPv4 or IPv6 destination above, as Scapy derives an unset dst
 * (RFC 1112: 01:00:5e and the low 23 bits; RFC 2464: 33:33 and the low 32 bits). False when the
 * layer above is no multicast network header (the sender fills dst in, or broadcast stays).
 */
function writeMulticastMAC(upper: Layer | undefined, out: Buffer, off: number): boolean {
  if (upper === undefined || !upper.isNetworkLayer) return false;
  const dst = (upper as unknown as { dst?: unknown }).dst;
  if (typeof dst !== 'string') return false;
  if (dst.includes(':')) {
    if (!/^ff/i.test(dst)) return false;
    const addr = parseIPv6(dst);
    out[off] = 0x33;
    out[off + 1] = 0x33;
    addr.copy(out, off + 2, 12, 16);
    return true;
  }
  const first = parseInt(dst, 10);
  if (first < 224 || first > 239) return false;
  const addr = parseIPv4(dst);
  out[off] = 0x01;
  out[off + 1] = 0x00;
  out[off + 2] = 0x5e;
  out[off + 3] = addr[1]! & 0x7f;
  out[off + 4] = addr[2]!;
  out[off + 5] = addr[3]!;
  return true;
}

/** The layers bound to Ether's type, for scan(): one lookup per packet. */
const typeBindings = bindingsOf(EtherLayer, 'type');

registerLayer(EtherLayer);
// Ethernet in Ethernet, as Scapy binds Ether()/Ether() (type 1).
bind(EtherLayer, EtherLayer, 'type', 1);
