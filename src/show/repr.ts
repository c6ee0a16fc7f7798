/**
 * Scapy's short repr, the form a packet takes in the shell and in console.log:
 * `<IP  dst=127.0.0.1 |<TCP  dport=http flags=S |>>`. Only the fields that are set appear (given
 * by the user, or every field of a dissected packet); values are shown as show() shows them
 * (Scapy's i2repr: port and protocol names, flag letters, hex where Scapy uses hex), and
 * empty lists are left out, as Scapy leaves them out.
 */
import type { FieldSpec } from '../layers/field.js';
import { FieldSet, type SetItem } from '../layers/field-set.js';
import type { Layer } from '../layers/layer.js';
import type { Packet } from '../packet/packet.js';
import { fieldValue } from './show.js';

function setItemText(layer: Layer, spec: FieldSpec, item: SetItem): string {
  if (typeof item === 'number') return fieldValue(layer, spec, item);
  if (typeof item === 'string') return item;
  return `(${item[0]}, ${item[1]})`;
}

/** `dst=127.0.0.1 ttl=3`: the fields a layer has set, in wire order. */
function fieldsText(layer: Layer): string {
  const values = layer.fields as Record<string, unknown>;
  let s = '';
  const done = new Set<string>();
  for (const spec of layer.layerClass.fieldSpecs) {
    const value = values[spec.name];
    // A name listed twice (one width per condition) is shown once.
    if (value === undefined || done.has(spec.name)) continue;
    if (spec.when && !spec.when(values)) continue;
    done.add(spec.name);
    if (Array.isArray(value) && value.length === 0) continue;
    let text: string;
    if (value instanceof FieldSet) {
      const items = value.items.map((item) => setItemText(layer, spec, item));
      text = value.single ? items[0]! : `[${items.join(', ')}]`;
    } else if (spec.kind === 'bytes' && typeof value === 'string') {
      text = fieldValue(layer, spec, Buffer.from(value, 'latin1'));
    } else {
      text = fieldValue(layer, spec);
    }
    s += ` ${spec.name}=${text}`;
  }
  return s;
}

/** One layer alone: `<TCP  dport=http flags=S |>`. */
export function layerRepr(layer: Layer): string {
  return `<${layer.name} ${fieldsText(layer)} |>`;
}

/** The packet, each layer inside the one below it, as Scapy nests payloads. */
export function packetRepr(p: Packet): string {
  let open = '';
  let close = '';
  for (const layer of p.layers) {
    open += `<${layer.name} ${fieldsText(layer)} |`;
    close += '>';
  }
  return open + close;
}
