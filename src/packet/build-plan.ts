/**
 * Build plans: what building a packet needs that depends only on its layer sequence
 * (IPv4Layer, TCPLayer), worked out once per sequence and kept. A plan knows which layers fix a
 * checksum after the headers are written, and that none is a trailer (Padding), so a build of
 * that sequence is one sizing walk, one writing walk into one buffer, and the checksums, inner to
 * outer: no per-build lists, no build context, and no running suffix sum when only one checksum
 * covers the rest.
 *
 * A plan holds no sizes: each layer still measures its header (its options) on every build, so a
 * field that changes a header's size changes nothing the plan holds. What a plan does not cover
 * (a trailer, a header cut off by the dissector, a layer holding a set, a build nested inside a
 * build) returns undefined, and the caller takes the generic path (packet.ts buildGeneric), which
 * has the same semantics for everything.
 *
 * One sequence, IPv4 then TCP (most builds), has a plan of its own shape: no walk at all, the
 * two headers and their checksums written in one pass by the layers' own header writers.
 */
import { beginSuffixSum, endSuffixSum, extendSuffixSum } from '../wire/checksum.js';
import type { BuildContext, Layer, LayerClass } from '../layers/layer.js';
import { IPv4Layer, writeIPv4Header } from '../layers/ipv4.js';
import { sportFor, TCPLayer, tcpOptionBytes, writeTCPHeader } from '../layers/tcp.js';
import { boundValue } from '../layers/registry.js';

export class BuildPlan {
  readonly classes: readonly LayerClass[];
  /** Indices of the layers with a checksum fixed after every header is written, innermost first. */
  private readonly checksummed: readonly number[];
  /** Kept between builds (a build allocates only its bytes); `busy` while one runs. */
  private readonly offsets: number[];
  private readonly sizes: number[];
  private readonly ctx: { layers: readonly Layer[]; offsets: readonly number[] };
  private busy = false;
  /** Exactly IPv4 then TCP, the stack most builds are: built in one pass (buildIPv4TCP). */
  private readonly ipv4TCP: boolean;

  constructor(classes: readonly LayerClass[]) {
    this.classes = classes;
    this.ipv4TCP = classes.length === 2 && classes[0] === IPv4Layer && classes[1] === TCPLayer;
    const checksummed: number[] = [];
    for (let i = classes.length - 1; i >= 0; i--) {
      if (typeof (classes[i]!.prototype as Partial<Layer>).fixChecksum === 'function') checksummed.push(i);
    }
    this.checksummed = checksummed;
    this.offsets = new Array<number>(classes.length).fill(0);
    this.sizes = new Array<number>(classes.length).fill(0);
    this.ctx = { layers: [], offsets: this.offsets };
  }

  /** The bytes of `layers` (of this plan's classes), or undefined when the generic path must build them. */
  build(layers: readonly Layer[]): Buffer | undefined {
    if (this.busy) return undefined;
    if (this.ipv4TCP) {
      const out = this.buildIPv4TCP(layers);
      if (out !== undefined) return out;
    }
    const n = layers.length;
    for (let i = 0; i < n; i++) {
      const layer = layers[i]!;
      if (layer.hasSets || layer.truncatedTo !== undefined) return undefined;
    }
    this.busy = true;
    const ctx = this.ctx;
    ctx.layers = layers;
    try {
      const { offsets, sizes } = this;
      let total = 0;
      for (let i = 0; i < n; i++) {
        const size = layers[i]!.headerLength(ctx as BuildContext, i);
        offsets[i] = total;
        sizes[i] = size;
        total += size;
      }
      const out = Buffer.allocUnsafe(total);
      for (let i = 0; i < n; i++) layers[i]!.encode(out, offsets[i]!, total - offsets[i]! - sizes[i]!, ctx as BuildContext, i);
      const checksummed = this.checksummed;
      if (checksummed.length === 1) {
        // One checksum over the rest: a running sum of the bytes after it would sum them once anyway.
        const i = checksummed[0]!;
        layers[i]!.fixChecksum!(out, offsets[i]!, total, ctx as BuildContext, i);
      } else if (checksummed.length > 1) {
        beginSuffixSum(out, total);
        try {
          for (let i = n - 1; i >= 0; i--) {
            const layer = layers[i]!;
            if (layer.fixChecksum) layer.fixChecksum(out, offsets[i]!, total, ctx as BuildContext, i);
            extendSuffixSum(offsets[i]!);
          }
        } finally {
          endSuffixSum();
        }
      }
      return out;
    } finally {
      ctx.layers = NO_LAYERS;
      this.busy = false;
    }
  }

  /**
   * IPv4/TCP in one pass: the TCP options sized once, both headers and both checksums written by
   * their layers' own writers, the checksums summed from the values written; no walk over layers,
   * sizes or offsets. IP options, a given IP len (whose pseudo-header rule pseudoSum keeps), and
   * what build() leaves to the generic path (sets, cut-off headers) return undefined, and the
   * walks below build those.
   */
  private buildIPv4TCP(layers: readonly Layer[]): Buffer | undefined {
    const ip = layers[0] as IPv4Layer;
    const tcp = layers[1] as TCPLayer;
    if (ip.hasSets || tcp.hasSets || ip.truncatedTo !== undefined || tcp.truncatedTo !== undefined) return undefined;
    const ipFields = ip.fields;
    if (ipFields.len !== undefined || (ipFields.options !== undefined && ipFields.options.length > 0)) return undefined;
    const tcpFields = tcp.fields;
    const optionBytes = tcpOptionBytes(tcpFields.options);
    const tcpLength = 20 + optionBytes;
    const out = Buffer.allocUnsafe(20 + tcpLength);
    // TCP imposes no field on the IPv4 header below it (no ipv4Overload), and nothing lies above TCP here.
    const addressSum = writeIPv4Header(out, 0, ipFields, 0, tcpLength, ipFields.proto ?? boundValue(IPv4Layer, TCPLayer, 'proto') ?? 0, undefined);
    writeTCPHeader(out, 20, tcpFields, optionBytes, tcpFields.sport ?? sportFor(undefined), addressSum);
    return out;
  }
}

const NO_LAYERS: readonly Layer[] = [];

/** A node of the plan tree: plans keyed by class, one class per level (no key strings per build). */
interface PlanNode {
  plan: BuildPlan | null | undefined;
  next: Map<LayerClass, PlanNode> | undefined;
}

const root: PlanNode = { plan: undefined, next: undefined };
/** The plan used last: most programs build one kind of packet many times. */
let last: BuildPlan | undefined;
/** Sequences are few in practice; past this many plans the tree starts again (memory stays bounded). */
const MAX_PLANS = 1024;
let planCount = 0;

/** The plan for this layer sequence, made on first use; null when plans do not cover it (a trailer). */
export function planFor(layers: readonly Layer[]): BuildPlan | null {
  const n = layers.length;
  if (last !== undefined && last.classes.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (layers[i]!.constructor !== last.classes[i]) {
        same = false;
        break;
      }
    }
    if (same) return last;
  }
  if (n === 0) return null;
  let node = root;
  for (let i = 0; i < n; i++) {
    const cls = layers[i]!.constructor as LayerClass;
    const next = (node.next ??= new Map());
    let child = next.get(cls);
    if (child === undefined) {
      child = { plan: undefined, next: undefined };
      next.set(cls, child);
    }
    node = child;
  }
  if (node.plan === undefined) {
    if (planCount >= MAX_PLANS) {
      root.next = undefined;
      planCount = 0;
      return planFor(layers);
    }
    planCount++;
    node.plan = layers.some((l) => l.isTrailer) ? null : new BuildPlan(layers.map((l) => l.constructor as LayerClass));
  }
  if (node.plan !== null) last = node.plan;
  return node.plan;
}
