/**
 * Raw: bytes with no further structure (the payload of last resort). Padding: bytes past the
 * end a header declared (an Ethernet frame padded to 60 bytes), kept so that a dissected
 * frame rebuilds to the same bytes; they count in no length and no checksum.
 */
import type { FieldSpec } from './field.js';
import { Layer, type Decoded, type FieldValues } from './layer.js';
import { registerLayer } from './registry.js';

export interface RawFields {
  load: Buffer | string;
}

const rawFields: readonly FieldSpec[] = [{ name: 'load', kind: 'bytes', default: Buffer.alloc(0) }];

export function toBytes(value: Buffer | Uint8Array | string | undefined): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (typeof value === 'string') return Buffer.from(value, 'latin1');
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

/** Typed field accessors (layer.load...), defined from the field table by registerLayer(). */
export interface RawLayer extends Omit<FieldValues<RawFields>, 'load'> {}

export class RawLayer extends Layer<RawFields> {
  static readonly layerName: string = 'Raw';
  static readonly fieldSpecs = rawFields;

  get load(): Buffer {
    return toBytes(this.fields.load);
  }

  override get isPayload(): boolean {
    return true;
  }

  headerLength(): number {
    return this.load.length;
  }

  encode(out: Buffer, off: number): void {
    this.load.copy(out, off);
  }

  static decode(buf: Buffer, off: number, end: number): Decoded {
    // Copy: a capture buffer is reused for the next packet.
    const layer = new this();
    layer.fields.load = Buffer.from(buf.subarray(off, end));
    return { layer, payloadStart: end, payloadEnd: end };
  }
}

export class PaddingLayer extends RawLayer {
  static override readonly layerName: string = 'Padding';

  override get isTrailer(): boolean {
    return true;
  }
}

registerLayer(RawLayer);
registerLayer(PaddingLayer);
