/**
 * The one JSON form of a packet, used by every command's --json:
 *
 *   { "time": 1764626400.123456 | null,      seconds since the epoch, µs precision
 *     "summary": "IP 127.0.0.1.20 > ...",     the tcpdump -nn line
 *     "layers": [ { "name": "IP", "fields": { "version": 4, "ihl": 5, ... } }, ... ] }
 *
 * Field names are the layers' own (Scapy's); every field is given with the value on the wire
 * (the packet is dissected from its bytes, so lengths and checksums are the computed ones).
 * Bytes are lowercase hex strings, flags their numeric value. A missing packet (no reply) is
 * `null` wherever a packet is expected; round-trip times are `rtt_ms`.
 */
import type { Packet } from '../packet/packet.js';
import { dissect, type LinkType } from '../packet/dissect.js';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface LayerJson {
  name: string;
  fields: Record<string, JsonValue>;
}

export interface PacketJson {
  time: number | null;
  summary: string;
  layers: LayerJson[];
}

function jsonValue(value: unknown): JsonValue {
  if (value === undefined || value === null) return null;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = jsonValue(v);
    return out;
  }
  return String(value);
}

/** The wire form of a crafted packet: its bytes dissected again (decoded packets are kept). */
function onTheWire(p: Packet, link: LinkType): Packet {
  const first = p.layers[0]?.name;
  if (first !== 'IP' && first !== 'IPv6') return p;
  try {
    const again = dissect(p.bytes(), link);
    again.time = p.time;
    return again;
  } catch {
    // A packet that cannot be built (no route filled its source yet): its fields as set.
    return p;
  }
}

/** A packet in the schema above; `summary` defaults to the packet's own tcpdump line. */
export function packetJson(p: Packet, summary?: string): PacketJson {
  const wire = onTheWire(p, 'ip');
  return {
    time: p.time === undefined ? null : Math.round(p.time) / 1e6,
    summary: summary ?? p.summary(),
    layers: wire.layers.map((layer) => {
      const fields: Record<string, JsonValue> = {};
      for (const spec of layer.layerClass.fieldSpecs) fields[spec.name] = jsonValue((layer as unknown as { get(n: string): unknown }).get(spec.name));
      return { name: layer.name, fields };
    }),
  };
}

/** packetJson, or null for a packet that never came. */
export function maybePacketJson(p: Packet | undefined, summary?: string): PacketJson | null {
  return p === undefined ? null : packetJson(p, summary);
}
