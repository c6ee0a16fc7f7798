/**
 * IEEE 802.1Q VLAN tags and 802.1ad service tags (QinQ), as Scapy's Dot1Q and Dot1AD: prio (3
 * bits), id (the DEI bit, 1), vlan (12 bits, default 1), type (the ethertype of what follows,
 * 0 when nothing does). A tag binds the layers above it as Ether does (Scapy's aliastypes), so
 * Ether()/Dot1Q(vlan=10)/IP() fills both types; tags stack in any order. A type of 1500 or less
 * is an 802.3 length: the payload is cut to it (LLC is not decoded here, it stays Raw).
 */
import { fieldStarts, intField, type FieldSpec } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, bindLike, boundLayer, boundValue, registerLayer } from './registry.js';
import { ETHER_TYPE_NAMES, EtherLayer } from './ether.js';
import { CookedLinuxLayer } from './sll.js';
import { GRELayer } from './gre.js';
import { RawLayer } from './raw.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

export interface Dot1QFields {
  prio: number;
  id: number;
  vlan: number;
  type: number;
}

const TAG = 4;
const ETHERTYPE_8021Q = 0x8100;
const ETHERTYPE_8021AD = 0x88a8;

const dot1qFields: readonly FieldSpec[] = [
  intField('prio', 3, 0),
  intField('id', 1, 0),
  intField('vlan', 12, 1),
  { name: 'type', kind: 'int', bits: 16, default: 0, computed: true, hex: true, names: { ...ETHER_TYPE_NAMES, 0x88a8: 'n_802_1AD' }, unnamed: 'hex' },
];

const DOT1Q_FIELD_STARTS = fieldStarts(dot1qFields);

export interface Dot1QLayer extends FieldValues<Dot1QFields> {}

export class Dot1QLayer extends Layer<Dot1QFields> {
  static readonly layerName: string = 'Dot1Q';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = '802.1Q';
  static readonly fieldSpecs = dot1qFields;

  headerLength(): number {
    return TAG;
  }

  /** The type as built on top of `upper`: given, else the binding (Ether's too), else 0. */
  private typeValue(ctx: BuildContext, index: number): number {
    if (this.fields.type !== undefined) return this.fields.type;
    const upper = ctx.layers[index + 1];
    if (!upper || upper.isTrailer) return 0;
    return boundValue(this.layerClass, upper.layerClass, 'type') ?? 0;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    const tci = (((f.prio ?? 0) & 7) << 13) | (((f.id ?? 0) & 1) << 12) | ((f.vlan ?? 1) & 0xfff);
    out.writeUInt16BE(tci, off);
    out.writeUInt16BE(this.typeValue(ctx, index) & 0xffff, off + 2);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail >= TAG;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, TAG);
    const o = whole ? off : 0;
    const tci = b.readUInt16BE(o);
    f.prio = tci >> 13;
    f.id = (tci >> 12) & 1;
    f.vlan = tci & 0xfff;
    f.type = b.readUInt16BE(o + 2);
    if (!whole) {
      forgetFieldsPast(f, DOT1Q_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|vlan]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    // An 802.3 length: what follows is LLC, and bytes past the length are padding (Scapy's extract_padding).
    if (f.type <= 1500) return { layer, payloadStart: off + TAG, payloadEnd: Math.min(end, off + TAG + f.type), next: RawLayer };
    return { layer, payloadStart: off + TAG, payloadEnd: end, next: boundLayer(layer.layerClass, 'type', f.type) };
  }

  /** Scapy's rule: a tag answers a tag of the same vlan and type (when both are known), then the payloads decide. */
  override answers(other: Layer): boolean {
    if (!(other instanceof Dot1QLayer)) return false;
    const same = (a: number | undefined, b: number | undefined): boolean => a === undefined || b === undefined || a === b;
    return same(this.fields.type, other.fields.type) && (this.fields.vlan ?? 1) === (other.fields.vlan ?? 1);
  }
}

/** An 802.1ad service tag (S-tag, ethertype 0x88a8): the same four fields. */
export class Dot1ADLayer extends Dot1QLayer {
  static override readonly layerName: string = 'Dot1AD';
  static override readonly displayName: string = '802_1AD';
}

registerLayer(Dot1QLayer);
registerLayer(Dot1ADLayer);

// Scapy's bindings: tags on Ether and Linux cooked, stacked in either order; above a tag, whatever Ether carries.
bind(EtherLayer, Dot1QLayer, 'type', ETHERTYPE_8021Q);
bind(EtherLayer, Dot1ADLayer, 'type', ETHERTYPE_8021AD);
bind(Dot1ADLayer, Dot1ADLayer, 'type', ETHERTYPE_8021AD);
bind(Dot1ADLayer, Dot1QLayer, 'type', ETHERTYPE_8021Q);
bind(Dot1QLayer, Dot1ADLayer, 'type', ETHERTYPE_8021AD);
bind(CookedLinuxLayer, Dot1QLayer, 'proto', ETHERTYPE_8021Q);
// A tagged frame in GRE, as Scapy binds it (its GRE/Dot1AD binding names a field GRE lacks: none here).
bind(GRELayer, Dot1QLayer, 'proto', ETHERTYPE_8021Q);
bindLike(Dot1QLayer, EtherLayer);
bindLike(Dot1ADLayer, EtherLayer);
