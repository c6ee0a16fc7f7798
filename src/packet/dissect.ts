/**
 * Dissection: bytes to a layer stack. Lax by design (etherparse's way): it never throws, and a
 * header that is cut off or lies about its lengths becomes a partial layer with the defect
 * recorded in layer.problems. Bytes past the end that the headers declare become Padding.
 */
import { stackOf, type Decoded, type Layer, type LayerClass } from '../layers/layer.js';
import { force, lazyLayer, type ScanResult } from '../layers/lazy.js';
import { PaddingLayer, RawLayer } from '../layers/raw.js';
import { Packet } from './packet.js';

/** Where dissection starts. Numbers are pcap LINKTYPE values. */
export type LinkType = 'ip' | 'ipv4' | 'ipv6' | 'ether' | 'sll' | 'sll2' | 'null' | 'loop' | number;

// Node 20's global Buffer is a getter on globalThis, run at each use: dissect() reads it from
// here. (An import from node:buffer would do as well, but the page build, src/view/page, gives
// the dissector a Buffer of its own through the global.)
const NodeBuffer = Buffer;

/** Each link type's first layer, as a function of the bytes (a class given is wrapped once). */
const linkStarts = new Map<string | number, (buf: Buffer) => LayerClass>();

/** Registers the first layer for a link type (called by the layer modules and by index.ts). */
export function registerLinkType(link: string | number, start: LayerClass | ((buf: Buffer) => LayerClass)): void {
  linkStarts.set(link, 'layerName' in start ? () => start : start);
  lastLink = undefined;
}

// The last link type asked for and its start: a capture dissects one link type over and over,
// so the map is asked once per link type rather than once per packet.
let lastLink: LinkType | undefined;
let lastStart: ((buf: Buffer) => LayerClass) | undefined;

function startClass(buf: Buffer, link: LinkType): LayerClass {
  if (link !== lastLink) {
    lastLink = link;
    lastStart = linkStarts.get(link);
  }
  return lastStart === undefined ? RawLayer : lastStart(buf);
}

export interface DissectOptions {
  /**
   * Decode every header now instead of on first use. Lazy and eager packets are the same to
   * every reader (tests compare them field by field); eager costs more when few fields are read.
   */
  eager?: boolean;
  /**
   * Copy the bytes first, for a caller that will change or reuse its buffer after dissect()
   * (a capture buffer the next packet overwrites): a lazy layer reads them when first used.
   */
  copy?: boolean;
}

/**
 * A layer stack from bytes. Never throws for any input. Headers with a fast path (Ether, IPv4,
 * TCP) are decoded when first used, as gopacket's lazy decoding does: the packet's structure is
 * known at once, a field at a fixed position is read from the bytes when asked for, and the whole
 * header is decoded the first time anything else about it is (layers/lazy.ts). So the packet
 * keeps a view of `bytes`, as gopacket's NoCopy does: leave them as they are while you use the
 * packet, or pass `{ copy: true }` (or `{ eager: true }`).
 */
export function dissect(bytes: Buffer | Uint8Array, link: LinkType = 'ip', options?: DissectOptions): Packet {
  let buf = NodeBuffer.isBuffer(bytes) ? bytes : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eager = options?.eager === true;
  if (!eager && options?.copy === true) buf = NodeBuffer.from(buf);
  // The packet holds its innermost layer; its list of layers is made when first asked for.
  return new Packet(undefined, dissectStack(buf, 0, buf.length, startClass(buf, link), false, !eager));
}

/** scan() writes here; read at once by dissectStack (one dissection runs at a time). */
const scanned: ScanResult = { payloadStart: 0, payloadEnd: 0, next: undefined };

/** The layers of buf[off, end) dissected from `cls`, outermost first (decoded at once). */
export function dissectLayers(buf: Buffer, off: number, end: number, cls: LayerClass | undefined, quoted: boolean): Layer[] {
  return stackOf(dissectStack(buf, off, end, cls, quoted, false));
}

/**
 * Dissects buf[off, end) from `cls` and returns the innermost layer, each layer linked to the one
 * below it (layer.below): no list is made unless a decoder asks for the layers below. With
 * `lazy`, layers whose class has a scan() fast path are decoded on first use.
 */
function dissectStack(buf: Buffer, off: number, end: number, cls: LayerClass | undefined, quoted: boolean, lazy: boolean): Layer | undefined {
  let top: Layer | undefined;
  // The layers so far, outermost first, for the decoders' ctx.below: made at the first header
  // decoded at once (a packet of lazy headers alone needs none), then kept up to date.
  let layers: Layer[] | undefined;
  let ctx: { below: Layer[]; quoted: boolean; view: boolean } | undefined;
  // Padding found by each layer, innermost last; on the wire the innermost comes first.
  let paddings: Buffer[] | undefined;
  let guard = 0;
  let lazyBelow = false;
  while (off < end && guard++ < 64) {
    const current: LayerClass = cls ?? RawLayer;
    let decoded: Decoded;
    const scan = lazy && !quoted ? current.scan : undefined;
    if (scan !== undefined && scan.call(current, buf, off, end, scanned)) {
      const layer = lazyLayer(current, buf, off, end, top);
      top = layer;
      layers?.push(layer);
      lazyBelow = true;
      const payloadEnd = scanned.payloadEnd;
      if (payloadEnd < end) (paddings ??= []).push(Buffer.from(buf.subarray(payloadEnd, end)));
      off = scanned.payloadStart;
      end = payloadEnd;
      cls = scanned.next;
      continue;
    }
    // A decoder may ask the layers below for state of their own (UDP asks IPv4 for its
    // pseudo-header sum): those are decoded first. Raw asks nothing, and a class that asks only
    // what the layers below are (DNS) needs none decoded, so those leave the stack lazy.
    layers ??= stackOf(top);
    if (lazyBelow && current !== RawLayer && current.decodeAsksBelowClassOnly !== true) {
      for (const layer of layers) force(layer);
      lazyBelow = false;
    }
    ctx ??= { below: layers, quoted, view: lazy };
    try {
      decoded = current.decode(buf, off, end, ctx);
    } catch (err) {
      // A decoder bug must not take the caller down: keep the bytes as Raw, note why.
      decoded = RawLayer.decode(buf, off, end);
      (decoded.layer.problems ??= []).push(`${current.layerName} decode failed: ${(err as Error).message}`);
    }
    decoded.layer.below = top;
    top = decoded.layer;
    layers.push(top);
    // After an ICMP error's header, the rest is the packet it quotes: partial by nature.
    if (decoded.quotes) ctx.quoted = quoted = true;
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
    padding.below = top;
    top = padding;
  }
  return top;
}
