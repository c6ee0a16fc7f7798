/**
 * ICMPv6 (RFC 4443) and neighbor discovery (RFC 4861), with Scapy's class and field names: the
 * checksum is `cksum` here, echo payload is `data`. Dissection picks the class by the type
 * byte (ICMPv6Unknown for types without a class of their own); an error message quotes the
 * packet that caused it as IPerror6 and the transport's error class (TCPerror, UDPerror).
 * Neighbor discovery options follow NS/NA as layers of their own, as in Scapy.
 *
 * The checksum covers the IPv6 pseudo-header (next header 58) of the nearest IPv6 header
 * below, through any extension headers; with none below it stays zero, as Scapy leaves it.
 */
import { finishChecksum, sumWords } from '../wire/checksum.js';
import { formatIPv6, formatMAC, writeMAC } from '../wire/addr.js';
import type { FieldSpec } from './field.js';
import { computedInt, intField } from './field.js';
import { Layer, noteProblem, type BuildContext, type DecodeContext, type Decoded, type LayerClass, type FieldValues } from './layer.js';
import { bind, registerLayer } from './registry.js';
import { RawLayer, toBytes } from './raw.js';
import { IPerror6Layer, IPv6Layer, ipv6Bytes, ipv6Text, sameIPv6, type IPv6Overload } from './ipv6.js';
import { verifyUpperChecksum } from '../wire/checksum.js';

/** Scapy's names for ICMPv6 types, as show() prints them. */
const ICMPV6_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'Destination unreachable', 2: 'Packet too big', 3: 'Time exceeded', 4: 'Parameter problem', 100: 'Private Experimentation', 101: 'Private Experimentation',
  128: 'Echo Request', 129: 'Echo Reply', 130: 'MLD Query', 131: 'MLD Report', 132: 'MLD Done', 133: 'Router Solicitation', 134: 'Router Advertisement',
  135: 'Neighbor Solicitation', 136: 'Neighbor Advertisement', 137: 'Redirect Message', 138: 'Router Renumbering', 139: 'ICMP Node Information Query',
  140: 'ICMP Node Information Response', 141: 'Inverse Neighbor Discovery Solicitation Message', 142: 'Inverse Neighbor Discovery Advertisement Message',
  143: 'MLD Report Version 2', 144: 'Home Agent Address Discovery Request Message', 145: 'Home Agent Address Discovery Reply Message',
  146: 'Mobile Prefix Solicitation', 147: 'Mobile Prefix Advertisement', 148: 'Certification Path Solicitation', 149: 'Certification Path Advertisement',
  151: 'Multicast Router Advertisement', 152: 'Multicast Router Solicitation', 153: 'Multicast Router Termination', 155: 'RPL Control Message',
  200: 'Private Experimentation', 201: 'Private Experimentation',
};

export interface ICMPv6HeaderFields {
  type: number;
  code: number;
  cksum: number;
}

function headerSpecs(type: number): FieldSpec[] {
  return [intField('type', 8, type, { names: ICMPV6_TYPE_NAMES }), intField('code', 8, 0), computedInt('cksum', 16, { hex: true })];
}

/** A class's fixed part: its size and the byte each field starts at (for headers cut off). */
interface Shape {
  readonly size: number;
  readonly starts: Readonly<Record<string, number>>;
}

const HEADER_STARTS = { type: 0, code: 1, cksum: 2 };

/**
 * What every ICMPv6 message shares: type, code, checksum. Not a message of its own: decoding
 * through this class dispatches on the type byte.
 */
export class ICMPv6Layer<F extends ICMPv6HeaderFields = ICMPv6HeaderFields> extends Layer<F> {
  static readonly layerName: string = 'ICMPv6';
  static readonly fieldSpecs: readonly FieldSpec[] = headerSpecs(1);
  static readonly shape: Shape = { size: 4, starts: HEADER_STARTS };

  /** Set on dissection inside an error's quote: a quoted message answers the one it quotes. */
  inQuote: boolean | undefined;

  get isICMPv6(): true {
    return true;
  }

  /** Whether this is an error message (its payload quotes the offending packet). */
  get isError(): boolean {
    return false;
  }

  /** For the matcher: types below 128 are errors (RFC 4443 §2.1), known to synack or not. */
  override get isErrorMessage(): boolean {
    return this.icmpType < 128;
  }

  get icmpType(): number {
    return this.fields.type ?? (this.layerClass.fieldSpecs[0]!.default as number);
  }

  get icmpCode(): number {
    return this.fields.code ?? 0;
  }

  override clone(): this {
    const copy = super.clone();
    copy.inQuote = this.inQuote;
    return copy;
  }

  /** Bytes after type, code and checksum. */
  protected bodyLength(): number {
    return 0;
  }

  /** Writes the bytes after the checksum; `off` is the start of the ICMPv6 header. */
  protected encodeBody(_out: Buffer, _off: number): void {}

  /** Reads the fields after the checksum from buf[off + 4, end); `off` is the start of the header. */
  protected decodeBody(_buf: Buffer, _off: number, _end: number): void {}

  /** Where the payload starts and which class decodes it, once the fixed part is read. */
  protected payloadAfter(_buf: Buffer, off: number, end: number): { start: number; next?: LayerClass; quotes?: boolean } {
    return { start: Math.min(off + (this.layerClass as unknown as typeof ICMPv6Layer).shape.size, end) };
  }

  headerLength(): number {
    return 4 + this.bodyLength();
  }

  encode(out: Buffer, off: number): void {
    out[off] = this.icmpType & 0xff;
    out[off + 1] = this.icmpCode & 0xff;
    out.writeUInt16BE((this.fields.cksum ?? 0) & 0xffff, off + 2);
    this.encodeBody(out, off);
  }

  override fixChecksum(out: Buffer, off: number, end: number, ctx: BuildContext, index: number): void {
    if (this.fields.cksum !== undefined) return;
    // Scapy's in6_chksum looks down through whatever lies between for the nearest IPv6 header.
    for (let i = index - 1; i >= 0; i--) {
      const below = ctx.layers[i];
      if (below instanceof IPv6Layer) {
        const sum = below.pseudoSum(out, ctx.offsets[i]!, 58, end - off, ctx, i) + sumWords(out, off, end);
        out.writeUInt16BE(finishChecksum(sum), off + 2);
        return;
      }
    }
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const cls = this === ICMPv6Layer ? icmpv6ClassFor(buf[off] ?? 0) : this;
    return decodeMessage(cls, buf, off, end, ctx);
  }

  /** This message's part of the request/reply hash; most messages add nothing (Scapy's default). */
  hashret(): string {
    return '';
  }

  /**
   * Scapy's _ICMPv6.answers: a message quoted in an error answers a sent message of the same
   * type and code. Replies that answer requests override this.
   */
  answers(other: Layer): boolean {
    return this.inQuote === true && other instanceof ICMPv6Layer && other.icmpType === this.icmpType && other.icmpCode === this.icmpCode;
  }
}

type ICMPv6Class = typeof ICMPv6Layer & LayerClass<ICMPv6Layer>;

function decodeMessage(cls: ICMPv6Class, buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
  const layer = new cls() as ICMPv6Layer;
  if (ctx.quoted) layer.inQuote = true;
  const { size, starts } = cls.shape;
  const avail = end - off;
  if (avail < size) {
    // Cut off inside the fixed part: read it as if zero-padded and drop the fields that begin
    // past the cut, so the header rebuilds to exactly the bytes there were.
    const whole = Buffer.alloc(size);
    buf.copy(whole, 0, off, end);
    readFixed(layer, whole, 0, size);
    for (const [name, start] of Object.entries(starts)) {
      if (start >= avail) delete (layer.fields as Record<string, unknown>)[name];
    }
    layer.truncatedTo = Math.max(avail, 0);
    if (!ctx.quoted) noteProblem(layer, '[|icmp6]');
    return { layer, payloadStart: end, payloadEnd: end };
  }
  readFixed(layer, buf, off, end);
  if (!ctx.quoted) layer.checksumValid = verifyUpperChecksum(buf, off, end, ctx, 58);
  const after = (layer as unknown as { payloadAfter: ICMPv6Layer['payloadAfter'] }).payloadAfter.call(layer, buf, off, end);
  const result: Decoded = { layer, payloadStart: after.start, payloadEnd: end, next: after.next };
  if (after.quotes) result.quotes = true;
  return result;
}

function readFixed(layer: ICMPv6Layer, buf: Buffer, off: number, end: number): void {
  const f = layer.fields as Partial<ICMPv6HeaderFields>;
  f.type = buf[off]!;
  f.code = buf[off + 1]!;
  f.cksum = buf.readUInt16BE(off + 2);
  (layer as unknown as { decodeBody: ICMPv6Layer['decodeBody'] }).decodeBody.call(layer, buf, off, end);
}

// ---------------------------------------------------------------------------------------------
// ICMPv6Unknown: any type without a class of its own; the rest of the message is msgbody.

export interface ICMPv6UnknownFields extends ICMPv6HeaderFields {
  msgbody: Buffer | string;
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6UnknownLayer extends FieldValues<ICMPv6UnknownFields> {}

export class ICMPv6UnknownLayer extends ICMPv6Layer<ICMPv6UnknownFields> {
  static override readonly layerName: string = 'ICMPv6Unknown';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'Scapy6 ICMPv6 fallback class';
  static override readonly fieldSpecs: readonly FieldSpec[] = [...headerSpecs(1), { name: 'msgbody', kind: 'bytes', default: Buffer.alloc(0) }];
  static override readonly shape: Shape = { size: 4, starts: HEADER_STARTS };

  protected override bodyLength(): number {
    return toBytes(this.fields.msgbody).length;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    toBytes(this.fields.msgbody).copy(out, off + 4);
  }

  protected override decodeBody(buf: Buffer, off: number, end: number): void {
    this.fields.msgbody = Buffer.from(buf.subarray(off + 4, end));
  }

  protected override payloadAfter(_buf: Buffer, _off: number, end: number): { start: number } {
    return { start: end };
  }
}

// ---------------------------------------------------------------------------------------------
// Errors (RFC 4443 §3): four bytes of their own, then as much of the offending packet as fits.

abstract class ICMPv6ErrorBase<F extends ICMPv6HeaderFields> extends ICMPv6Layer<F> {
  override get isError(): boolean {
    return true;
  }

  protected override payloadAfter(_buf: Buffer, off: number): { start: number; next: LayerClass; quotes: boolean } {
    return { start: off + 8, next: IPerror6Layer, quotes: true };
  }
}

export interface ICMPv6DestUnreachFields extends ICMPv6HeaderFields {
  /** Length of the quote in 8-byte units (RFC 4884); Scapy leaves it 0. */
  length: number;
  unused: number;
}

const ERROR_STARTS = { ...HEADER_STARTS, length: 4, unused: 5 };

/** Destination unreachable (1) and time exceeded (3) share a body: length, 24 unused bits. */
abstract class ICMPv6LengthError extends ICMPv6ErrorBase<ICMPv6DestUnreachFields> {
  static override readonly shape: Shape = { size: 8, starts: ERROR_STARTS };

  protected override bodyLength(): number {
    return 4;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt32BE(((((this.fields.length ?? 0) & 0xff) << 24) | ((this.fields.unused ?? 0) & 0xffffff)) >>> 0, off + 4);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    this.fields.length = buf[off + 4]!;
    this.fields.unused = buf.readUIntBE(off + 5, 3);
  }
}

const lengthErrorSpecs = (type: number): FieldSpec[] => [
  ...headerSpecs(type),
  intField('length', 8, 0),
  intField('unused', 24, 0, { hex: true }),
];

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6DestUnreachLayer extends FieldValues<ICMPv6DestUnreachFields> {}

export class ICMPv6DestUnreachLayer extends ICMPv6LengthError {
  static override readonly layerName: string = 'ICMPv6DestUnreach';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Destination Unreachable';
  static override readonly fieldSpecs: readonly FieldSpec[] = lengthErrorSpecs(1);
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6TimeExceededLayer extends FieldValues<ICMPv6DestUnreachFields> {}

export class ICMPv6TimeExceededLayer extends ICMPv6LengthError {
  static override readonly layerName: string = 'ICMPv6TimeExceeded';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Time Exceeded';
  static override readonly fieldSpecs: readonly FieldSpec[] = lengthErrorSpecs(3);
}

export type ICMPv6TimeExceededFields = ICMPv6DestUnreachFields;

export interface ICMPv6PacketTooBigFields extends ICMPv6HeaderFields {
  mtu: number;
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6PacketTooBigLayer extends FieldValues<ICMPv6PacketTooBigFields> {}

export class ICMPv6PacketTooBigLayer extends ICMPv6ErrorBase<ICMPv6PacketTooBigFields> {
  static override readonly layerName: string = 'ICMPv6PacketTooBig';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Packet Too Big';
  static override readonly fieldSpecs: readonly FieldSpec[] = [...headerSpecs(2), intField('mtu', 32, 1280)];
  static override readonly shape: Shape = { size: 8, starts: { ...HEADER_STARTS, mtu: 4 } };

  protected override bodyLength(): number {
    return 4;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt32BE((this.fields.mtu ?? 1280) >>> 0, off + 4);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    this.fields.mtu = buf.readUInt32BE(off + 4);
  }
}

export interface ICMPv6ParamProblemFields extends ICMPv6HeaderFields {
  /** Offset of the offending byte in the quoted packet; Scapy's default points at its next header. */
  ptr: number;
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6ParamProblemLayer extends FieldValues<ICMPv6ParamProblemFields> {}

export class ICMPv6ParamProblemLayer extends ICMPv6ErrorBase<ICMPv6ParamProblemFields> {
  static override readonly layerName: string = 'ICMPv6ParamProblem';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Parameter Problem';
  static override readonly fieldSpecs: readonly FieldSpec[] = [...headerSpecs(4), intField('ptr', 32, 6)];
  static override readonly shape: Shape = { size: 8, starts: { ...HEADER_STARTS, ptr: 4 } };

  protected override bodyLength(): number {
    return 4;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt32BE((this.fields.ptr ?? 6) >>> 0, off + 4);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    this.fields.ptr = buf.readUInt32BE(off + 4);
  }
}

// ---------------------------------------------------------------------------------------------
// Echo (RFC 4443 §4): id, seq, then data to the end of the message.

export interface ICMPv6EchoFields extends ICMPv6HeaderFields {
  id: number;
  seq: number;
  data: Buffer | string;
}

const echoSpecs = (type: number): FieldSpec[] => [
  ...headerSpecs(type),
  intField('id', 16, 0, { hex: true }),
  intField('seq', 16, 0, { hex: true }),
  { name: 'data', kind: 'bytes', default: Buffer.alloc(0) },
];

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6EchoRequestLayer extends FieldValues<ICMPv6EchoFields> {}

export class ICMPv6EchoRequestLayer extends ICMPv6Layer<ICMPv6EchoFields> {
  static override readonly layerName: string = 'ICMPv6EchoRequest';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Echo Request';
  static override readonly fieldSpecs: readonly FieldSpec[] = echoSpecs(128);
  static override readonly shape: Shape = { size: 8, starts: { ...HEADER_STARTS, id: 4, seq: 6, data: 8 } };

  get data(): Buffer {
    return toBytes(this.fields.data);
  }

  protected override bodyLength(): number {
    return 4 + this.data.length;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.id ?? 0) & 0xffff, off + 4);
    out.writeUInt16BE((this.fields.seq ?? 0) & 0xffff, off + 6);
    this.data.copy(out, off + 8);
  }

  protected override decodeBody(buf: Buffer, off: number, end: number): void {
    this.fields.id = buf.readUInt16BE(off + 4);
    this.fields.seq = buf.readUInt16BE(off + 6);
    this.fields.data = Buffer.from(buf.subarray(off + 8, end));
  }

  protected override payloadAfter(_buf: Buffer, _off: number, end: number): { start: number } {
    return { start: end };
  }

  /** Echoes hash by id and sequence number. */
  override hashret(): string {
    const id = this.fields.id ?? 0;
    const seq = this.fields.seq ?? 0;
    return String.fromCharCode(id >> 8, id & 0xff, seq >> 8, seq & 0xff);
  }
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6EchoReplyLayer extends Omit<FieldValues<ICMPv6EchoFields>, 'data'> {}

export class ICMPv6EchoReplyLayer extends ICMPv6EchoRequestLayer {
  static override readonly layerName: string = 'ICMPv6EchoReply';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Echo Reply';
  static override readonly fieldSpecs: readonly FieldSpec[] = echoSpecs(129);

  /** A reply answers the request with its id, sequence number and data (Scapy compares data too). */
  override answers(other: Layer): boolean {
    return (
      other instanceof ICMPv6EchoRequestLayer &&
      (this.fields.id ?? 0) === (other.fields.id ?? 0) &&
      (this.fields.seq ?? 0) === (other.fields.seq ?? 0) &&
      this.data.equals(other.data)
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Neighbor discovery (RFC 4861 §4.3, §4.4): solicitation and advertisement, options after.

/** NS and NA go to all-nodes with hop limit 255 unless the IPv6 header below says otherwise (Scapy's overload). */
const ND_OVERLOAD: IPv6Overload = { dst: 'ff02::1', hlim: 255 };

export interface ICMPv6ND_NSFields extends ICMPv6HeaderFields {
  res: number;
  tgt: string;
}

/** Both carry a target after 32 bits of their own, and options after that. */
abstract class ICMPv6NDBase<F extends ICMPv6HeaderFields & { tgt: string }> extends ICMPv6Layer<F> {
  static readonly ipv6Overload: IPv6Overload = ND_OVERLOAD;

  protected override normalize(fields: Partial<F>): Partial<F> {
    super.normalize(fields);
    if (fields.tgt !== undefined) ipv6Bytes(fields.tgt);
    return fields;
  }

  get tgt(): string {
    return this.fields.tgt ?? '::';
  }

  protected override bodyLength(): number {
    return 20;
  }

  protected encodeTarget(out: Buffer, off: number): void {
    ipv6Bytes(this.tgt).copy(out, off + 8);
  }

  protected override payloadAfter(buf: Buffer, off: number, end: number): { start: number; next?: LayerClass } {
    return { start: off + 24, next: ndOptionClass(buf, off + 24, end) };
  }

  /** Neighbor discovery hashes by target (the request goes to a multicast group). */
  override hashret(): string {
    return formatIPv6(ipv6Bytes(this.tgt));
  }
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6ND_NSLayer extends Omit<FieldValues<ICMPv6ND_NSFields>, 'tgt'> {}

export class ICMPv6ND_NSLayer extends ICMPv6NDBase<ICMPv6ND_NSFields> {
  static override readonly layerName: string = 'ICMPv6ND_NS';
  static override readonly fieldSpecs: readonly FieldSpec[] = [...headerSpecs(135), intField('res', 32, 0), { name: 'tgt', kind: 'ipv6', default: '::' }];
  static override readonly shape: Shape = { size: 24, starts: { ...HEADER_STARTS, res: 4, tgt: 8 } };

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt32BE((this.fields.res ?? 0) >>> 0, off + 4);
    this.encodeTarget(out, off);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    this.fields.res = buf.readUInt32BE(off + 4);
    this.fields.tgt = ipv6Text(buf, off + 8);
  }
}

export interface ICMPv6ND_NAFields extends ICMPv6HeaderFields {
  /** Router flag (default 1, as in Scapy). */
  R: number;
  /** Solicited flag. */
  S: number;
  /** Override flag (default 1, as in Scapy). */
  O: number;
  res: number;
  tgt: string;
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6ND_NALayer extends Omit<FieldValues<ICMPv6ND_NAFields>, 'tgt'> {}

export class ICMPv6ND_NALayer extends ICMPv6NDBase<ICMPv6ND_NAFields> {
  static override readonly layerName: string = 'ICMPv6ND_NA';
  static override readonly fieldSpecs: readonly FieldSpec[] = [
    ...headerSpecs(136),
    intField('R', 1, 1),
    intField('S', 1, 0),
    intField('O', 1, 1),
    intField('res', 29, 0, { hex: true }),
    { name: 'tgt', kind: 'ipv6', default: '::' },
  ];
  static override readonly shape: Shape = { size: 24, starts: { ...HEADER_STARTS, R: 4, S: 4, O: 4, res: 4, tgt: 8 } };

  protected override encodeBody(out: Buffer, off: number): void {
    const f = this.fields;
    const word = (((f.R ?? 1) & 1) << 31) | (((f.S ?? 0) & 1) << 30) | (((f.O ?? 1) & 1) << 29) | ((f.res ?? 0) & 0x1fffffff);
    out.writeUInt32BE(word >>> 0, off + 4);
    this.encodeTarget(out, off);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    const word = buf.readUInt32BE(off + 4);
    this.fields.R = word >>> 31;
    this.fields.S = (word >>> 30) & 1;
    this.fields.O = (word >>> 29) & 1;
    this.fields.res = word & 0x1fffffff;
    this.fields.tgt = ipv6Text(buf, off + 8);
  }

  /** An advertisement answers the solicitation for its target. */
  override answers(other: Layer): boolean {
    return other instanceof ICMPv6ND_NSLayer && sameIPv6(this.tgt, other.tgt);
  }
}

// ---------------------------------------------------------------------------------------------
// Router solicitation and advertisement, redirect (RFC 4861 §4.1, §4.2, §4.5), options after.

export interface ICMPv6ND_RSFields extends ICMPv6HeaderFields {
  res: number;
}

/** A message whose fixed part is followed by neighbor discovery options. */
abstract class ICMPv6NDMessage<F extends ICMPv6HeaderFields> extends ICMPv6Layer<F> {
  protected override payloadAfter(buf: Buffer, off: number, end: number): { start: number; next?: LayerClass } {
    const size = (this.layerClass as unknown as typeof ICMPv6Layer).shape.size;
    return { start: off + size, next: ndOptionClass(buf, off + size, end) };
  }
}

export class ICMPv6ND_RSLayer extends ICMPv6NDMessage<ICMPv6ND_RSFields> {
  static override readonly layerName: string = 'ICMPv6ND_RS';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery - Router Solicitation';
  static override readonly fieldSpecs: readonly FieldSpec[] = [...headerSpecs(133), intField('res', 32, 0)];
  static override readonly shape: Shape = { size: 8, starts: { ...HEADER_STARTS, res: 4 } };
  /** Solicitations go to all-routers with hop limit 255 (Scapy's overload). */
  static readonly ipv6Overload: IPv6Overload = { dst: 'ff02::2', hlim: 255 };

  protected override bodyLength(): number {
    return 4;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt32BE((this.fields.res ?? 0) >>> 0, off + 4);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    this.fields.res = buf.readUInt32BE(off + 4);
  }
}

export interface ICMPv6ND_RAFields extends ICMPv6HeaderFields {
  chlim: number;
  M: number;
  O: number;
  H: number;
  /** Router preference (RFC 4191): 0 medium, 1 high (Scapy's default), 3 low. */
  prf: number;
  P: number;
  res: number;
  routerlifetime: number;
  reachabletime: number;
  retranstimer: number;
}

export class ICMPv6ND_RALayer extends ICMPv6NDMessage<ICMPv6ND_RAFields> {
  static override readonly layerName: string = 'ICMPv6ND_RA';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery - Router Advertisement';
  static override readonly fieldSpecs: readonly FieldSpec[] = [
    ...headerSpecs(134),
    intField('chlim', 8, 0),
    intField('M', 1, 0),
    intField('O', 1, 0),
    intField('H', 1, 0),
    intField('prf', 2, 1, { names: { 0: 'Medium (default)', 1: 'High', 2: 'Reserved', 3: 'Low' } }),
    intField('P', 1, 0),
    intField('res', 2, 0),
    intField('routerlifetime', 16, 1800),
    intField('reachabletime', 32, 0),
    intField('retranstimer', 32, 0),
  ];
  static override readonly shape: Shape = {
    size: 16,
    starts: { ...HEADER_STARTS, chlim: 4, M: 5, O: 5, H: 5, prf: 5, P: 5, res: 5, routerlifetime: 6, reachabletime: 8, retranstimer: 12 },
  };
  static readonly ipv6Overload: IPv6Overload = ND_OVERLOAD;

  protected override bodyLength(): number {
    return 12;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    const f = this.fields;
    out[off + 4] = (f.chlim ?? 0) & 0xff;
    out[off + 5] = (((f.M ?? 0) & 1) << 7) | (((f.O ?? 0) & 1) << 6) | (((f.H ?? 0) & 1) << 5) | (((f.prf ?? 1) & 3) << 3) | (((f.P ?? 0) & 1) << 2) | ((f.res ?? 0) & 3);
    out.writeUInt16BE((f.routerlifetime ?? 1800) & 0xffff, off + 6);
    out.writeUInt32BE((f.reachabletime ?? 0) >>> 0, off + 8);
    out.writeUInt32BE((f.retranstimer ?? 0) >>> 0, off + 12);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    const f = this.fields;
    const flags = buf[off + 5]!;
    f.chlim = buf[off + 4]!;
    f.M = flags >> 7;
    f.O = (flags >> 6) & 1;
    f.H = (flags >> 5) & 1;
    f.prf = (flags >> 3) & 3;
    f.P = (flags >> 2) & 1;
    f.res = flags & 3;
    f.routerlifetime = buf.readUInt16BE(off + 6);
    f.reachabletime = buf.readUInt32BE(off + 8);
    f.retranstimer = buf.readUInt32BE(off + 12);
  }

  /** An advertisement answers a solicitation (Scapy's ICMPv6ND_RA.answers). */
  override answers(other: Layer): boolean {
    return other instanceof ICMPv6ND_RSLayer;
  }
}

export interface ICMPv6ND_RedirectFields extends ICMPv6HeaderFields {
  res: number;
  tgt: string;
  dst: string;
}

export class ICMPv6ND_RedirectLayer extends ICMPv6NDMessage<ICMPv6ND_RedirectFields> {
  static override readonly layerName: string = 'ICMPv6ND_Redirect';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery - Redirect';
  static override readonly fieldSpecs: readonly FieldSpec[] = [
    ...headerSpecs(137),
    intField('res', 32, 0, { hex: true }),
    { name: 'tgt', kind: 'ipv6', default: '::' },
    { name: 'dst', kind: 'ipv6', default: '::' },
  ];
  static override readonly shape: Shape = { size: 40, starts: { ...HEADER_STARTS, res: 4, tgt: 8, dst: 24 } };
  static readonly ipv6Overload: IPv6Overload = ND_OVERLOAD;

  protected override normalize(fields: Partial<ICMPv6ND_RedirectFields>): Partial<ICMPv6ND_RedirectFields> {
    super.normalize(fields);
    if (fields.tgt !== undefined) ipv6Bytes(fields.tgt);
    if (fields.dst !== undefined) ipv6Bytes(fields.dst);
    return fields;
  }

  protected override bodyLength(): number {
    return 36;
  }

  protected override encodeBody(out: Buffer, off: number): void {
    out.writeUInt32BE((this.fields.res ?? 0) >>> 0, off + 4);
    ipv6Bytes(this.fields.tgt ?? '::').copy(out, off + 8);
    ipv6Bytes(this.fields.dst ?? '::').copy(out, off + 24);
  }

  protected override decodeBody(buf: Buffer, off: number): void {
    this.fields.res = buf.readUInt32BE(off + 4);
    this.fields.tgt = ipv6Text(buf, off + 8);
    this.fields.dst = ipv6Text(buf, off + 24);
  }
}

// ---------------------------------------------------------------------------------------------
// Neighbor discovery options (RFC 4861 §4.6), each a layer as in Scapy, chained by type.

export interface ICMPv6NDOptLLAddrFields {
  type: number;
  /** In 8-byte units; Scapy writes 1 and does not compute it. */
  len: number;
  lladdr: string;
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6NDOptSrcLLAddrLayer extends FieldValues<ICMPv6NDOptLLAddrFields> {}

export class ICMPv6NDOptSrcLLAddrLayer extends Layer<ICMPv6NDOptLLAddrFields> {
  static readonly layerName: string = 'ICMPv6NDOptSrcLLAddr';
  static readonly fieldSpecs: readonly FieldSpec[] = [intField('type', 8, 1), intField('len', 8, 1), { name: 'lladdr', kind: 'mac', default: '00:00:00:00:00:00' }];

  protected override normalize(fields: Partial<ICMPv6NDOptLLAddrFields>): Partial<ICMPv6NDOptLLAddrFields> {
    super.normalize(fields);
    if (fields.lladdr !== undefined) writeMAC(fields.lladdr, Buffer.alloc(6), 0);
    return fields;
  }

  headerLength(): number {
    return 8;
  }

  encode(out: Buffer, off: number): void {
    out[off] = (this.fields.type ?? (this.layerClass.fieldSpecs[0]!.default as number)) & 0xff;
    out[off + 1] = (this.fields.len ?? 1) & 0xff;
    writeMAC(this.fields.lladdr ?? '00:00:00:00:00:00', out, off + 2);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail < 8 ? Buffer.alloc(8) : buf;
    const base = avail < 8 ? 0 : off;
    if (avail < 8) buf.copy(whole, 0, off, end);
    f.type = whole[base]!;
    if (avail >= 2) f.len = whole[base + 1]!;
    if (avail >= 3) f.lladdr = formatMAC(whole, base + 2);
    if (avail < 8) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|icmp6]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    // Scapy reads 8 bytes whatever len says; what follows is the next option.
    return { layer, payloadStart: off + 8, payloadEnd: end, next: ndOptionClass(buf, off + 8, end) };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other.layerClass === this.layerClass;
  }
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6NDOptDstLLAddrLayer extends FieldValues<ICMPv6NDOptLLAddrFields> {}

export class ICMPv6NDOptDstLLAddrLayer extends ICMPv6NDOptSrcLLAddrLayer {
  static override readonly layerName: string = 'ICMPv6NDOptDstLLAddr';
  static override readonly fieldSpecs: readonly FieldSpec[] = [intField('type', 8, 2), intField('len', 8, 1), { name: 'lladdr', kind: 'mac', default: '00:00:00:00:00:00' }];
}

export interface ICMPv6NDOptUnknownFields {
  type: number;
  len: number;
  data: Buffer | string;
}

/** Typed field accessors (layer.type...), defined from the field table by registerLayer(). */
export interface ICMPv6NDOptUnknownLayer extends FieldValues<ICMPv6NDOptUnknownFields> {}

/**
 * Any other option: type, length, data. Building computes len as Scapy does (the data length
 * plus 2, in bytes, not the 8-byte units of the RFC); dissection reads the RFC's units.
 */
export class ICMPv6NDOptUnknownLayer extends Layer<ICMPv6NDOptUnknownFields> {
  static readonly layerName: string = 'ICMPv6NDOptUnknown';
  static readonly fieldSpecs: readonly FieldSpec[] = [intField('type', 8, 0), computedInt('len', 8), { name: 'data', kind: 'bytes', default: Buffer.alloc(0) }];

  headerLength(): number {
    return 2 + toBytes(this.fields.data).length;
  }

  encode(out: Buffer, off: number): void {
    const data = toBytes(this.fields.data);
    out[off] = (this.fields.type ?? 0) & 0xff;
    out[off + 1] = (this.fields.len ?? data.length + 2) & 0xff;
    data.copy(out, off + 2);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    f.type = buf[off]!;
    if (avail < 2) {
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|icmp6]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    f.len = buf[off + 1]!;
    let optionEnd = off + 8 * f.len;
    if (f.len === 0 || optionEnd > end) {
      if (!ctx.quoted) layer.addProblem(`bad option length ${f.len}`);
      optionEnd = end;
    }
    f.data = Buffer.from(buf.subarray(off + 2, optionEnd));
    return { layer, payloadStart: optionEnd, payloadEnd: end, next: ndOptionClass(buf, optionEnd, end) };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other.layerClass === this.layerClass;
  }
}

/**
 * An option of fixed fields (Scapy's ICMPv6NDOpt* classes): the subclass gives its size in
 * bytes for a given layer and writes and reads the bytes after type and length. A length byte
 * that does not match what the class reads makes the dissector fall back to
 * ICMPv6NDOptUnknown, so odd bytes rebuild as they were.
 */
export abstract class NDOptionLayer<F extends { type: number; len: number }> extends Layer<F> {
  /** The option's size in bytes as built. */
  protected abstract size(): number;
  protected abstract writeBody(out: Buffer, off: number): void;
  protected abstract readBody(buf: Buffer, off: number, end: number): void;
  /** The len byte when unset (8-byte units). */
  protected defaultLen(): number {
    return this.size() >> 3;
  }
  /** Whether a dissected option (its len byte, its bytes) fits this class. */
  protected static fits(_len: number, _buf: Buffer, _off: number): boolean {
    return true;
  }

  headerLength(): number {
    return this.size();
  }

  encode(out: Buffer, off: number): void {
    out[off] = (this.fields.type ?? (this.layerClass.fieldSpecs[0]!.default as number)) & 0xff;
    out[off + 1] = (this.fields.len ?? this.defaultLen()) & 0xff;
    this.writeBody(out, off);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const len = buf[off + 1] ?? 0;
    const optionEnd = off + 8 * len;
    const cls = this as unknown as typeof NDOptionLayer & LayerClass;
    if (len === 0 || optionEnd > end || !cls.fits(len, buf, off)) return ICMPv6NDOptUnknownLayer.decode(buf, off, end, ctx);
    const layer = new (this as unknown as new () => NDOptionLayer<{ type: number; len: number }>)();
    layer.fields.type = buf[off]!;
    layer.fields.len = len;
    layer.readBody(buf, off, optionEnd);
    return { layer, payloadStart: optionEnd, payloadEnd: end, next: ndOptionClass(buf, optionEnd, end) };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other.layerClass === this.layerClass;
  }
}

/** An option of one 8-byte unit (MTU, advertisement interval, home agent information). */
export abstract class SingleUnitNDOptionLayer<F extends { type: number; len: number }> extends NDOptionLayer<F> {
  protected size(): number {
    return 8;
  }

  protected static override fits(len: number): boolean {
    return len === 1;
  }
}

export interface ICMPv6NDOptPrefixInfoFields {
  type: number;
  len: number;
  prefixlen: number;
  L: number;
  A: number;
  R: number;
  res1: number;
  validlifetime: number;
  preferredlifetime: number;
  res2: number;
  prefix: string;
}

export class ICMPv6NDOptPrefixInfoLayer extends NDOptionLayer<ICMPv6NDOptPrefixInfoFields> {
  static readonly layerName: string = 'ICMPv6NDOptPrefixInfo';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery Option - Prefix Information';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 3), intField('len', 8, 4), intField('prefixlen', 8, 64), intField('L', 1, 1), intField('A', 1, 1), intField('R', 1, 0),
    intField('res1', 5, 0), intField('validlifetime', 32, 0xffffffff, { hex: true }), intField('preferredlifetime', 32, 0xffffffff, { hex: true }),
    intField('res2', 32, 0, { hex: true }), { name: 'prefix', kind: 'ipv6', default: '::' },
  ];

  protected override normalize(fields: Partial<ICMPv6NDOptPrefixInfoFields>): Partial<ICMPv6NDOptPrefixInfoFields> {
    super.normalize(fields);
    if (fields.prefix !== undefined) ipv6Bytes(fields.prefix);
    return fields;
  }

  protected size(): number {
    return 32;
  }

  protected static override fits(len: number): boolean {
    return len === 4;
  }

  protected writeBody(out: Buffer, off: number): void {
    const f = this.fields;
    out[off + 2] = (f.prefixlen ?? 64) & 0xff;
    out[off + 3] = (((f.L ?? 1) & 1) << 7) | (((f.A ?? 1) & 1) << 6) | (((f.R ?? 0) & 1) << 5) | ((f.res1 ?? 0) & 31);
    out.writeUInt32BE((f.validlifetime ?? 0xffffffff) >>> 0, off + 4);
    out.writeUInt32BE((f.preferredlifetime ?? 0xffffffff) >>> 0, off + 8);
    out.writeUInt32BE((f.res2 ?? 0) >>> 0, off + 12);
    ipv6Bytes(f.prefix ?? '::').copy(out, off + 16);
  }

  protected readBody(buf: Buffer, off: number): void {
    const f = this.fields;
    f.prefixlen = buf[off + 2]!;
    f.L = buf[off + 3]! >> 7;
    f.A = (buf[off + 3]! >> 6) & 1;
    f.R = (buf[off + 3]! >> 5) & 1;
    f.res1 = buf[off + 3]! & 31;
    f.validlifetime = buf.readUInt32BE(off + 4);
    f.preferredlifetime = buf.readUInt32BE(off + 8);
    f.res2 = buf.readUInt32BE(off + 12);
    f.prefix = ipv6Text(buf, off + 16);
  }
}

export interface ICMPv6NDOptMTUFields {
  type: number;
  len: number;
  res: number;
  mtu: number;
}

export class ICMPv6NDOptMTULayer extends SingleUnitNDOptionLayer<ICMPv6NDOptMTUFields> {
  static readonly layerName: string = 'ICMPv6NDOptMTU';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery Option - MTU';
  static readonly fieldSpecs: readonly FieldSpec[] = [intField('type', 8, 5), intField('len', 8, 1), intField('res', 16, 0, { hex: true }), intField('mtu', 32, 1280)];

  protected writeBody(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.res ?? 0) & 0xffff, off + 2);
    out.writeUInt32BE((this.fields.mtu ?? 1280) >>> 0, off + 4);
  }

  protected readBody(buf: Buffer, off: number): void {
    this.fields.res = buf.readUInt16BE(off + 2);
    this.fields.mtu = buf.readUInt32BE(off + 4);
  }
}

export interface ICMPv6NDOptRedirectedHdrFields {
  type: number;
  len: number;
  res: Buffer | string;
  /** The start of the redirected packet, as bytes (the text form builds pkt=IPv6()/UDP() into them). */
  pkt: Buffer | string;
}

export class ICMPv6NDOptRedirectedHdrLayer extends NDOptionLayer<ICMPv6NDOptRedirectedHdrFields> {
  static readonly layerName: string = 'ICMPv6NDOptRedirectedHdr';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery Option - Redirected Header';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 4), computedInt('len', 8), { name: 'res', kind: 'bytes', default: Buffer.alloc(6) }, { name: 'pkt', kind: 'bytes', default: Buffer.alloc(0) },
  ];

  protected size(): number {
    return 8 + toBytes(this.fields.pkt).length;
  }

  /** Scapy's (len(pkt) + 8) // 8: the packet is not padded. */
  protected override defaultLen(): number {
    return (toBytes(this.fields.pkt).length + 8) >> 3;
  }

  protected writeBody(out: Buffer, off: number): void {
    const res = Buffer.alloc(6);
    toBytes(this.fields.res ?? Buffer.alloc(6)).copy(res, 0, 0, 6);
    res.copy(out, off + 2);
    toBytes(this.fields.pkt).copy(out, off + 8);
  }

  protected readBody(buf: Buffer, off: number, end: number): void {
    this.fields.res = Buffer.from(buf.subarray(off + 2, off + 8));
    this.fields.pkt = Buffer.from(buf.subarray(off + 8, end));
  }
}

export interface ICMPv6NDOptRDNSSFields {
  type: number;
  len: number;
  res: number;
  lifetime: number;
  dns: string[];
}

export class ICMPv6NDOptRDNSSLayer extends NDOptionLayer<ICMPv6NDOptRDNSSFields> {
  static readonly layerName: string = 'ICMPv6NDOptRDNSS';
  static readonly displayName: string = 'ICMPv6 Neighbor Discovery Option - Recursive DNS Server Option';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 25), computedInt('len', 8), intField('res', 16, 0), intField('lifetime', 32, 0xffffffff), { name: 'dns', kind: 'list', default: [] },
  ];

  protected override normalize(fields: Partial<ICMPv6NDOptRDNSSFields>): Partial<ICMPv6NDOptRDNSSFields> {
    super.normalize(fields);
    if (fields.dns !== undefined) for (const a of fields.dns) ipv6Bytes(a);
    return fields;
  }

  protected size(): number {
    return 8 + 16 * (this.fields.dns?.length ?? 0);
  }

  protected static override fits(len: number): boolean {
    return len >= 1 && len % 2 === 1;
  }

  protected writeBody(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.res ?? 0) & 0xffff, off + 2);
    out.writeUInt32BE((this.fields.lifetime ?? 0xffffffff) >>> 0, off + 4);
    (this.fields.dns ?? []).forEach((a, i) => ipv6Bytes(a).copy(out, off + 8 + 16 * i));
  }

  protected readBody(buf: Buffer, off: number, end: number): void {
    this.fields.res = buf.readUInt16BE(off + 2);
    this.fields.lifetime = buf.readUInt32BE(off + 4);
    const dns: string[] = [];
    for (let p = off + 8; p + 16 <= end; p += 16) dns.push(ipv6Text(buf, p));
    this.fields.dns = dns;
  }
}

/** Option classes that live in files of their own (icmpv6-nd-options.ts), by type. */
const moreOptions = new Map<number, LayerClass>();

/** Makes the dissector pick `cls` for options of `type` (the option's registry line). */
export function registerNDOption(type: number, cls: LayerClass): void {
  moreOptions.set(type, cls);
}

/** The class for the option at buf[off]: by type, or Raw for a lone byte (as Scapy). */
function ndOptionClass(buf: Buffer, off: number, end: number): LayerClass | undefined {
  if (end - off <= 1) return end > off ? RawLayer : undefined;
  const type = buf[off]!;
  const more = moreOptions.get(type);
  if (more) return more;
  if (type === 1) return ICMPv6NDOptSrcLLAddrLayer;
  if (type === 2) return ICMPv6NDOptDstLLAddrLayer;
  if (type === 3) return ICMPv6NDOptPrefixInfoLayer as unknown as LayerClass;
  if (type === 4) return ICMPv6NDOptRedirectedHdrLayer as unknown as LayerClass;
  if (type === 5) return ICMPv6NDOptMTULayer as unknown as LayerClass;
  if (type === 25) return ICMPv6NDOptRDNSSLayer as unknown as LayerClass;
  return ICMPv6NDOptUnknownLayer;
}

const CLASS_BY_TYPE = new Map<number, ICMPv6Class>([
  [1, ICMPv6DestUnreachLayer as unknown as ICMPv6Class],
  [2, ICMPv6PacketTooBigLayer as unknown as ICMPv6Class],
  [3, ICMPv6TimeExceededLayer as unknown as ICMPv6Class],
  [4, ICMPv6ParamProblemLayer as unknown as ICMPv6Class],
  [128, ICMPv6EchoRequestLayer as unknown as ICMPv6Class],
  [129, ICMPv6EchoReplyLayer as unknown as ICMPv6Class],
  [135, ICMPv6ND_NSLayer as unknown as ICMPv6Class],
  [136, ICMPv6ND_NALayer as unknown as ICMPv6Class],
  [133, ICMPv6ND_RSLayer as unknown as ICMPv6Class],
  [134, ICMPv6ND_RALayer as unknown as ICMPv6Class],
  [137, ICMPv6ND_RedirectLayer as unknown as ICMPv6Class],
]);

/** The message class for an ICMPv6 type byte. */
export function icmpv6ClassFor(type: number): ICMPv6Class {
  return CLASS_BY_TYPE.get(type) ?? (ICMPv6UnknownLayer as unknown as ICMPv6Class);
}

registerLayer(ICMPv6UnknownLayer);
registerLayer(ICMPv6DestUnreachLayer);
registerLayer(ICMPv6PacketTooBigLayer);
registerLayer(ICMPv6TimeExceededLayer);
registerLayer(ICMPv6ParamProblemLayer);
registerLayer(ICMPv6EchoRequestLayer);
registerLayer(ICMPv6EchoReplyLayer);
registerLayer(ICMPv6ND_NSLayer);
registerLayer(ICMPv6ND_NALayer);
registerLayer(ICMPv6NDOptSrcLLAddrLayer);
registerLayer(ICMPv6NDOptDstLLAddrLayer);
registerLayer(ICMPv6NDOptUnknownLayer);
registerLayer(ICMPv6ND_RSLayer);
registerLayer(ICMPv6ND_RALayer);
registerLayer(ICMPv6ND_RedirectLayer);
registerLayer(ICMPv6NDOptPrefixInfoLayer as unknown as LayerClass);
registerLayer(ICMPv6NDOptMTULayer as unknown as LayerClass);
registerLayer(ICMPv6NDOptRedirectedHdrLayer as unknown as LayerClass);
registerLayer(ICMPv6NDOptRDNSSLayer as unknown as LayerClass);

// ICMPv6 is next header 58 for every message class (they all derive from ICMPv6Layer, whose
// decode dispatches on the type byte), over IPv6 and over a quoted IPerror6 alike.
bind(IPv6Layer, ICMPv6Layer as unknown as LayerClass, 'nh', 58);
