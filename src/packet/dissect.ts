/**
 * Dissection: bytes to a layer stack. Lax by design (etherparse's way): it never throws, and a
 * header that is cut off or lies about its lengths becomes a partial layer with the defect
 * recorded in layer.problems. Bytes past the end that the headers declare become Padding.
 */
import type { Layer, LayerClass } from '../layers/layer.js';
import { PaddingLayer, RawLayer } from '../layers/raw.js';
import { Packet } from './packet.js';

/** Where dissection starts. Numbers are pcap LINKTYPE values. */
export type LinkType = 'ip' | 'ipv4' | 'ipv6' | 'ether' | 'sll' | 'sll2' | 'null' | 'loop' | number;

const linkStarts = new Map<string | number, LayerClass | ((buf: Buffer) => LayerClass)>();

/** Registers the first layer for a link type (called by the layer modules and by index.ts). */
export function registerLinkType(link: string | number, start: LayerClass | ((buf: Buffer) => LayerClass)): void {
  linkStarts.set(link, start);
}

function startClass(buf: Buffer, link: LinkType): LayerClass {
  const start = linkStarts.get(link);
  if (!start) return RawLayer;
  return 'layerName' in start ? start : start(buf);
}

/** A layer stack from bytes. Never throws for any input. */
export function dissect(bytes: Buffer | Uint8Array, link: LinkType = 'ip'): Packet {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new Packet(dissectLayers(buf, 0, buf.length, startClass(buf, link), false));
}

/** Dissects buf[off, end) from `cls`; used by dissect() and by ICMP for the packet an error quotes. */
export function dissectLayers(buf: Buffer, off: number, end: number, cls: LayerClass | undefined, quoted: boolean): Layer[] {
  const layers: Layer[] = [];
  const ctx = { below: layers, quoted };
  // Padding found by each layer, innermost last; on the wire the innermost comes first.
  let paddings: Buffer[] | undefined;
  let guard = 0;
  while (off < end && guard++ < 64) {
    const current: LayerClass = cls ?? RawLayer;
    let decoded;
    try {
      decoded = current.decode(buf, off, end, ctx);
    } catch (err) {
      // A decoder bug must not take the caller down: keep the bytes as Raw, note why.
      decoded = RawLayer.decode(buf, off, end);
      (decoded.layer.problems ??= []).push(`${current.layerName} decode failed: ${(err as Error).message}`);
    }
    layers.push(decoded.layer);
    // After an ICMP error's header, the rest is the packet it quotes: partial by nature.
    if (decoded.quotes) ctx.quoted = true;
    const payloadEnd = Math.min(Math.max(decoded.payloadEnd, decoded.payloadStart), end);
    if (payloadEnd < end) (paddings ??= []).push(Buffer.from(buf.subarray(payloadEnd, end)));
    if (decoded.payloadStart <= off && decoded.payloadStart < payloadEnd) break;
    off = decoded.payloadStart;
    end = payloadEnd;
    cls = decoded.next;
  }
  if (paddings) {
    const padding = new PaddingLayer();
    padding.fields.load = paddings.length === 1 ? paddings[0]! : Buffer.concat(paddings.reverse());
    layers.push(padding);
  }
  return layers;
}
