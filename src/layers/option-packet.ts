/**
 * IPv4 and IPv6 extension-header options as packets on their own, as Scapy allows
 * (`PadN(optdata=b'\x00\x00')`, `IPOption_LSRR(routers=[...])`, `RouterAlert()`): one layer
 * class per option name, whose bytes are the option's bytes (written by the options' own
 * modules), for building a crafted option or pasting a Scapy line that builds one. Inside an
 * options list the same names make option objects, as before.
 */
import type { FieldSpec } from './field.js';
import { intField } from './field.js';
import { Layer, type DecodeContext, type Decoded, type LayerClass } from './layer.js';
import { registerLayer } from './registry.js';
import { IP_OPTION_VARIANTS, checkIPOption, ipOptionLength, readIPOptions, writeIPOption, type IPOption } from './ipv4-options.js';
import { IPV6_EXT_OPTION_VARIANTS, checkIPv6ExtOption, placeIPv6ExtOptions, readIPv6ExtOptions, type IPv6ExtOption } from './ipv6-ext-options.js';

const BYTE_FIELDS = new Set(['optdata', 'value', 'transmission_control_code']);
const WIDE_FIELDS: Readonly<Record<string, number>> = { timestamp: 32, jumboplen: 32, alert: 16, security: 16, compartment: 16, handling_restrictions: 16 };

function specFor(name: string, ipv6: boolean): FieldSpec {
  if (name === 'routers' || name === 'addresses') return { name, kind: 'list', default: [] };
  if (name === 'hoa') return { name, kind: 'ipv6', default: '::' };
  if (name === 'internet_address') return { name, kind: 'ipv4', default: '0.0.0.0' };
  // IPv6's RouterAlert value is a number; IPv4's generic option value is bytes.
  if (BYTE_FIELDS.has(name) && !(ipv6 && name === 'value')) return { name, kind: 'bytes', default: Buffer.alloc(0) };
  const bits = ipv6 && name === 'value' ? 16 : (WIDE_FIELDS[name] ?? 8);
  return { ...intField(name, bits, 0), computed: name === 'length' || name === 'optlen' };
}

abstract class OptionPacketLayer extends Layer {
  protected abstract option(): IPOption | IPv6ExtOption;

  static decode(buf: Buffer, off: number, end: number, _ctx: DecodeContext): Decoded {
    const layer = new (this as unknown as new () => OptionPacketLayer)();
    const ipv6 = layer instanceof IPv6OptionPacketLayer;
    const read: readonly (IPOption | IPv6ExtOption)[] = ipv6 ? readIPv6ExtOptions(buf, off, end, []) : readIPOptions(buf, off, end, []);
    const first = read[0];
    if (first && first.name === layer.name) {
      for (const [k, v] of Object.entries(first)) if (k !== 'name') (layer.fields as Record<string, unknown>)[k] = v;
    }
    return { layer, payloadStart: end, payloadEnd: end };
  }
}

class IPv4OptionPacketLayer extends OptionPacketLayer {
  protected option(): IPOption {
    return checkIPOption({ name: this.name, ...this.fields } as IPOption);
  }

  headerLength(): number {
    return ipOptionLength(this.option());
  }

  encode(out: Buffer, off: number): void {
    writeIPOption(this.option(), out, off);
  }
}

class IPv6OptionPacketLayer extends OptionPacketLayer {
  protected option(): IPv6ExtOption {
    return checkIPv6ExtOption({ name: this.name, ...this.fields } as IPv6ExtOption);
  }

  headerLength(): number {
    return placeIPv6ExtOptions([this.option()], false);
  }

  encode(out: Buffer, off: number): void {
    placeIPv6ExtOptions([this.option()], false, out, off);
  }
}

function defineOptionPacket(base: typeof IPv4OptionPacketLayer | typeof IPv6OptionPacketLayer, name: string, fields: readonly string[], ipv6: boolean): void {
  const header = ipv6 ? [intField('otype', 8, 0, { hex: true })] : [intField('copy_flag', 1, 0), intField('optclass', 2, 0), intField('option', 5, 0)];
  const specs: readonly FieldSpec[] = [...header, ...fields.map((f) => specFor(f, ipv6))];
  const cls = class extends base {
    static readonly layerName: string = name;
    static readonly fieldSpecs = specs;
  };
  registerLayer(cls as unknown as LayerClass);
}

for (const [name, v] of Object.entries(IP_OPTION_VARIANTS)) defineOptionPacket(IPv4OptionPacketLayer, name, v.fields, false);
for (const [name, v] of Object.entries(IPV6_EXT_OPTION_VARIANTS)) defineOptionPacket(IPv6OptionPacketLayer, name, v.fields, true);
