/**
 * The layer tree of one frame with where each field lies in the bytes: what the view's tree
 * and hex panes highlight. The layers come from dissect() (so the tree is exactly what
 * show() prints, Scapy's show2); each layer's extent comes from asking its own decoder again
 * where its payload starts; each field's bytes come from the widths in the layer's field table
 * (field.ts), fields of variable width (options, loads) taking what the fixed ones leave.
 * Pure: runs in Node and, bundled, in the page.
 */
import { dissect } from '../packet/dissect.js';
import { fieldBits, type FieldSpec } from '../layers/field.js';
import type { Layer } from '../layers/layer.js';
import { displayName, fieldValue } from '../show/show.js';

export interface FieldNode {
  name: string;
  /** The value as show() prints it. */
  value: string;
  /** Bytes [start, end) of the frame holding the field (a bit field: the bytes its bits touch); start === end: not located. */
  start: number;
  end: number;
}

export interface LayerNode {
  /** show()'s name for the layer ('Ethernet', 'IP', 'TCP', 'Raw'). */
  name: string;
  /** The layer's class name, as getLayer() takes it. */
  layerName: string;
  /** Header bytes [start, headerEnd); payload up to end. */
  start: number;
  headerEnd: number;
  end: number;
  fields: FieldNode[];
  problems: string[];
}

/** The layers of a frame (captured bytes and pcap link type), each with its fields' bytes. */
export function layerTree(data: Buffer, linkType: number): LayerNode[] {
  const layers = dissect(data, linkType).layers;
  const nodes: LayerNode[] = [];
  let off = 0;
  let end = data.length;
  let quoted = false;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    let start = off;
    let headerEnd = end;
    let payloadEnd = end;
    const trailer = i === layers.length - 1 && layer.name === 'Padding' && off >= end;
    if (trailer) {
      // Padding that dissect collected: the bytes past the innermost layer's end.
      start = end;
      headerEnd = data.length;
      payloadEnd = data.length;
    } else {
      try {
        const d = layer.layerClass.decode(data, off, end, { below: layers.slice(0, i), quoted });
        if (d.quotes) quoted = true;
        headerEnd = Math.min(Math.max(d.payloadStart, off), end);
        payloadEnd = Math.min(Math.max(d.payloadEnd, d.payloadStart), end);
      } catch {
        // dissect kept these bytes as Raw: they run to the end.
      }
    }
    nodes.push({
      name: displayName(layer),
      layerName: layer.name,
      start,
      headerEnd,
      end: payloadEnd,
      fields: fieldNodes(layer, start, headerEnd),
      problems: layer.problems?.slice() ?? [],
    });
    if (!trailer) {
      off = headerEnd;
      end = payloadEnd;
    }
  }
  return nodes;
}

/** Each present field of a layer with its bytes inside the header [start, headerEnd). */
function fieldNodes(layer: Layer, start: number, headerEnd: number): FieldNode[] {
  const values = layer.fields as Record<string, unknown>;
  const specs = layer.layerClass.fieldSpecs.filter((s) => !s.when || s.when(values));
  const widths = specs.map((s) => fieldBits(s));
  const out: FieldNode[] = [];
  let bit = start * 8;
  const endBit = headerEnd * 8;
  for (let k = 0; k < specs.length; k++) {
    const spec: FieldSpec = specs[k]!;
    let bits = widths[k];
    if (bits === undefined) {
      // Variable width: what the fixed fields after it leave (unknown when another variable one follows).
      const after = widths.slice(k + 1);
      bits = after.every((w) => w !== undefined) ? Math.max(0, endBit - bit - after.reduce((a: number, w) => a + w!, 0)) : Math.max(0, endBit - bit);
    }
    const from = Math.min(Math.floor(bit / 8), headerEnd);
    const to = Math.min(Math.ceil((bit + bits) / 8), headerEnd);
    out.push({ name: spec.name, value: fieldValue(layer, spec), start: from, end: Math.max(from, to) });
    bit = Math.min(bit + bits, endBit);
  }
  return out;
}

/** The deepest layer whose header holds byte `i`, and its first field holding it. */
export function fieldAt(tree: readonly LayerNode[], i: number): { layer: number; field: number } | undefined {
  for (let l = tree.length - 1; l >= 0; l--) {
    const node = tree[l]!;
    if (i < node.start || i >= node.headerEnd) continue;
    const field = node.fields.findIndex((f) => i >= f.start && i < f.end);
    return { layer: l, field };
  }
  return undefined;
}
