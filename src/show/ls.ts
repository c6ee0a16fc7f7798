/**
 * ls(): a layer's fields with their types and defaults, in Scapy's ls() layout
 * (`name       : type                                = default`), so a Scapy user finds what
 * to set without reading the source. Given a packet (or a layer) instead of a layer kind, each
 * layer is listed with its current value and, in parentheses, the default, layers apart by `--`.
 * It returns the text; the shell prints it.
 *
 *   ls(TCP)       // sport      : int (16 bits)                      = 20
 *   ls('IPv6')
 *   ls(IP({ ttl: 3 }).add(TCP()))
 */
import type { FieldSpec } from '../layers/field.js';
import { FieldSet } from '../layers/field-set.js';
import { Layer, type LayerClass } from '../layers/layer.js';
import { layerByName, layerNames } from '../layers/registry.js';
import { Packet, type LayerFactory } from '../packet/packet.js';
import { didYouMean, usageError } from '../wire/errors.js';
import { pyRepr } from './show.js';

/** What ls() takes: a layer factory (TCP), a layer class, a layer name, a packet or one layer. */
export type LsSubject = LayerFactory | LayerClass | string | Packet | Layer;

function typeText(spec: FieldSpec): string {
  switch (spec.kind) {
    case 'int':
      return `${spec.hex ? 'hex int' : 'int'} (${spec.bits} bits)`;
    case 'flags':
      return `flags (${spec.bits} bits: ${spec.flagLetters?.includes(',') ? spec.flagLetters.split(',').join(' ') : spec.flagLetters})`;
    case 'ipv4':
      return 'IPv4 address';
    case 'ipv6':
      return 'IPv6 address';
    case 'mac':
      return 'MAC address';
    case 'bytes':
      return 'bytes';
    case 'options':
      return 'option list';
    case 'list':
      return 'list';
    case 'packets':
      return 'packet list';
    case 'value':
      return 'value';
  }
}

function flagsText(spec: FieldSpec, bits: number): string {
  const letters = spec.flagLetters ?? '';
  const names = letters.includes(',') ? letters.split(',') : [...letters];
  const set = names.filter((_, i) => bits & (1 << i));
  return set.length ? set.join(letters.includes(',') ? '+' : '') : '0';
}

/** A value as the text form would accept it; a computed field with no default is None, as in Scapy. */
function valueText(spec: FieldSpec, value: unknown): string {
  if (value === undefined) return 'None';
  if (value instanceof FieldSet) return `a set of ${value.size} values`;
  if (typeof value === 'number') {
    // Plain decimal, as Scapy's ls() shows defaults (its hex fields too).
    return spec.kind === 'flags' ? flagsText(spec, value) : String(value);
  }
  if (typeof value === 'string') return spec.kind === 'bytes' ? pyRepr(Buffer.from(value, 'latin1')) : value;
  return pyRepr(value);
}

function specsOf(cls: LayerClass): FieldSpec[] {
  // A name listed twice (one width per condition, as ICMP's unused) is listed once.
  const seen = new Set<string>();
  return cls.fieldSpecs.filter((s) => !seen.has(s.name) && seen.add(s.name));
}

function line(spec: FieldSpec, value: string): string {
  const conditional = spec.when ? ' (cond)' : '';
  return `${spec.name.padEnd(10)} : ${(typeText(spec) + conditional).padEnd(35)} = ${value}`;
}

function classOf(subject: LayerFactory | LayerClass | string): LayerClass {
  if (typeof subject === 'string') {
    const cls = layerByName(subject);
    if (!cls) throw usageError(`unknown layer '${subject}'${didYouMean(subject, layerNames())}`);
    return cls;
  }
  return (subject as Partial<LayerFactory>).isFactory ? (subject as LayerFactory).layerClass : (subject as LayerClass);
}

export function ls(subject: LsSubject): string {
  if (subject instanceof Packet || subject instanceof Layer) {
    const layers = subject instanceof Packet ? subject.layers : [subject];
    return layers
      .map((layer) => {
        const values = layer.fields as Record<string, unknown>;
        return specsOf(layer.layerClass)
          .map((spec) => {
            const current = valueText(spec, values[spec.name] ?? spec.default);
            return `${line(spec, current).padEnd(64)} (${valueText(spec, spec.default)})`;
          })
          .join('\n');
      })
      .join('\n--\n');
  }
  const cls = classOf(subject);
  return specsOf(cls)
    .map((spec) => line(spec, valueText(spec, spec.default)))
    .join('\n');
}
